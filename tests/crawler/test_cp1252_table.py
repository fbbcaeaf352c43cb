"""crawler.feeds gives feedparser its cp1252 table as a list (a deliberate use of a private
feedparser name, for the parse worker's CPU): the mapping must stay exactly feedparser's."""

from __future__ import annotations

import feedparser
import feedparser.html

import crawler.feeds  # noqa: F401  (installs the list table)


def test_the_list_table_is_installed():
    # fails when a feedparser release renames or reshapes the table: the speed-up is gone
    assert isinstance(feedparser.mixin._cp1252, list)


def test_every_code_point_maps_as_feedparsers_dict():
    original = feedparser.html._cp1252  # the dict feedparser ships
    assert isinstance(original, dict) and original
    text = "".join(chr(c) for c in range(0xD800)) + "".join(chr(c) for c in range(0xE000, 0x10000))
    assert text.translate(feedparser.mixin._cp1252) == text.translate(original)
    astral = "\U0001f600 \U00010000 \U0010ffff"
    assert astral.translate(feedparser.mixin._cp1252) == astral


def test_c1_controls_in_a_feed_read_as_cp1252():
    feed = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>Price \u0080 5 \u0093quoted\u0094 caf\u00e9 \u4e2d</title>"
        "<link>http://example.org/a</link></item></channel></rss>"
    ).encode("utf-8")
    title = feedparser.parse(feed).entries[0].title
    assert title == "Price \u20ac 5 \u201cquoted\u201d caf\u00e9 \u4e2d"
