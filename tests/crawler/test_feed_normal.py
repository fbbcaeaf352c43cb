"""A feed item read by crawler.feeds.entry_to_item is already as normalize_item leaves it,
so the parse worker stores it without a second pass (crawler/feeds.py parse_feed_for_store):
for any feed, what it hands the store equals parse_feed's items normalized and checked."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.feed_result import check_item
from crawler.feeds import parse_feed, parse_feed_for_store
from crawler.normalize import NORMALIZED, normalize_item
from crawler.store import PREPARED_KEYS

FEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "crawler" / "feeds"
URL = "https://base.example/feed"


def stored(body: bytes) -> list[dict]:
    out = []
    for item in parse_feed_for_store(body, url=URL).items:
        assert item.pop(NORMALIZED) is True
        for key in PREPARED_KEYS:
            item.pop(key, None)
        out.append(item)
    return out


def normalized(body: bytes) -> list[dict]:
    return [check_item(normalize_item(i)) for i in parse_feed(body, url=URL).items]


def test_every_fixture_feed_is_stored_as_normalized():
    bodies = [p.read_bytes() for p in sorted(FEEDS.iterdir()) if p.is_file()]
    assert len(bodies) >= 10
    seen = 0
    for body in bodies:
        assert stored(body) == normalized(body)
        seen += len(stored(body))
    assert seen > 15


# Text of every kind feeds carry: zero-width and other odd spaces, controls, entities,
# markup, several lines; no lone surrogates (not text in XML).
WORDS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),
    max_size=60,
)
PIECES = st.one_of(
    WORDS,
    st.sampled_from(
        [
            "\u200b",
            "\u00a0",
            "\u2060",
            "\t",
            "\n\n",
            " \n ",
            "&amp;",
            "&#8203;",
            "<p>",
            "</p>",
            "<br/>",
            "<b>bold</b>",
            "<!-- c -->",
            "\x0b",
            "\u3000",
        ]
    ),
)
FIELD = st.lists(PIECES, max_size=8).map("".join)


def rss(title: str, summary: str, content: str | None, author: str, category: str) -> bytes:
    parts = [
        f"<title>{escape(title)}</title>",
        "<link>https://n.example/a</link><guid>g1</guid>",
        f"<description>{escape(summary)}</description>",
        f"<author>{escape(author)}</author>",
        f"<category>{escape(category)}</category>",
        "<pubDate>Mon, 24 Jun 2024 10:00:00 +0200</pubDate>",
    ]
    if content is not None:
        parts.append(f"<content:encoded>{escape(content)}</content:encoded>")
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>T</title>'
        f"<item>{''.join(parts)}</item></channel></rss>"
    ).encode("utf-8", "surrogatepass")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FIELD, FIELD, st.one_of(st.none(), FIELD), FIELD, FIELD)
def test_any_entry_is_stored_as_normalized(title, summary, content, author, category):
    body = rss(title, summary, content, author, category)
    assert stored(body) == normalized(body)
