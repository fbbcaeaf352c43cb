"""Reading an entry's markup once (crawler.normalize.plain_text_both, one_line_as_text and
their use in crawler.feeds.entry_to_item): the texts are exactly what reading it twice gave."""

from __future__ import annotations

import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.feeds import parse_feed
from crawler.normalize import one_line_as_text, plain_text, plain_text_both

SPACES = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
# Pieces of markup that meet at odd places: tags cut by block tags, entities next to
# tags, the zero-width space (a space to the multi-line reading only), controls.
PIECES = [
    *SPACES,
    "\u200b",
    "\x00",
    "\x07",
    "\x7f",
    "a",
    "Zürich",
    "中文",
    "<p>",
    "</p>",
    "<br/>",
    "<div class='x'>",
    "<b>",
    "</b>",
    "<a href='/x'>",
    "<",
    "</",
    ">",
    "<script>x</script>",
    "<!-- c -->",
    "&amp;",
    "&amp",
    "&#8203;",
    "&ZeroWidthSpace;",
    "&#x85;",
    "&#10;",
    "&nbsp;",
    "&",
    "#",
    ";",
]
MARKUP = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@settings(max_examples=1500, deadline=None)
@given(MARKUP, st.booleans())
def test_both_readings_at_once_equal_each_reading(value, is_html):
    assert plain_text_both(value, is_html=is_html) == (
        plain_text(value, is_html=is_html),
        plain_text(value, is_html=is_html, multiline=True),
    )


def test_both_readings_of_nothing():
    assert plain_text_both(None) == (None, None)
    assert plain_text_both("<p> </p>") == (None, None)


@settings(max_examples=1500, deadline=None)
@given(MARKUP, st.booleans())
def test_a_one_line_text_read_as_text_is_itself(value, is_html):
    summary = plain_text(value, is_html=is_html)
    expected = plain_text(summary, is_html=False, multiline=True)
    assert one_line_as_text(summary) == expected
    if summary is not None and "\u200b" not in summary:
        assert one_line_as_text(summary) is summary


def test_a_zero_width_space_in_a_one_line_text_becomes_a_space():
    assert one_line_as_text("a\u200bb") == "a b"


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
<entry><title>Same</title><link href="https://example.org/same"/><id>urn:1</id>
<summary type="html">{same}</summary><content type="html">{same}</content></entry>
<entry><title>Other</title><link href="https://example.org/other"/><id>urn:2</id>
<summary type="html">{short}</summary><content type="html">{same}</content></entry>
<entry><title>Text summary</title><link href="https://example.org/text"/><id>urn:3</id>
<summary type="text">{same}</summary><content type="html">{same}</content></entry>
<entry><title>No content</title><link href="https://example.org/none"/><id>urn:4</id>
<summary type="html">{short}</summary></entry>
</feed>"""
SAME = "&lt;p&gt;First &amp;amp; one.&lt;/p&gt;&lt;p&gt;Second&lt;br/&gt;line&amp;#8203;x&lt;/p&gt;"
SHORT = "&lt;p&gt;Just&lt;/p&gt;&lt;p&gt;this.&lt;/p&gt;"


def test_feed_entries_whose_summary_is_their_content():
    html = "<p>First &amp; one.</p><p>Second<br/>line&#8203;x</p>"
    body = ATOM.format(same=SAME, short=SHORT).encode()
    items = {
        i["url"].rsplit("/", 1)[1]: i for i in parse_feed(body, url="https://example.org/").items
    }
    same, other, text, none = items["same"], items["other"], items["text"], items["none"]
    assert same["summary"] == plain_text(html) == "First & one. Second line\u200bx"
    assert same["text"] == plain_text(html, multiline=True) == "First & one.\n\nSecond\n\nline x"
    assert other["summary"] == "Just this." and other["text"] == same["text"]
    # a text summary is not the HTML content's reading: its markup stays as text
    assert text["summary"] == plain_text(html, is_html=False) and text["text"] == same["text"]
    # without content the summary is the text, one object for both
    assert none["text"] == "Just this." and none["text"] is none["summary"]
