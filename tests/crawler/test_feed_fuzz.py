"""Property-based fuzzing of parse_feed (issue 13): on mutations of every feed in
tests/fixtures/crawler/feeds (byte flips, truncations, deletions, repeated spans, bad values
injected into links, dates and text of RSS and Atom, wrong types in every JSON Feed field)
it never raises, says what kind of document it got, and every item it gives is one the
store takes (a canonical URL, text fields as strings, categories a list of strings).

A fixed number of examples per test (a few seconds in all); bench/bench_fuzz.py runs the
same strategies for longer (target ``parse-feed``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.feed_result import FeedResult, check_item
from crawler.feeds import parse_feed, parse_feed_for_store
from crawler.normalize import NORMALIZED

FEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "crawler" / "feeds"
SEEDS = {p.name: p.read_bytes() for p in sorted(FEEDS.iterdir()) if p.is_file()}
JSON_SEED = json.loads(SEEDS["jsonfeed.json"])

FAST = settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Values that have broken feed readers: bad addresses, stray or nested elements, entities,
# characters XML forbids, encodings that lie, and the separators JSON allows in strings.
BAD_VALUES = [
    b"http://[::1", b"http://[x", b"http://[::1]:99999/", b"http://a:b@[::1/x", b"//[", b"\\\\x",
    b"javascript:alert(1)", b"file:///etc/passwd", b"http://2130706433/", b"<item>", b"</item>",
    b"<entry>", b"</entry>", b"<link>", b"</link>", b"<link href='http://[x'/>", b"<title>",
    b"</channel>", b"<![CDATA[", b"]]>", b"&#0;", b"&#xD800;", b"&#x110000;", b"&lol9;",
    b"&amp", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\x80\x81", b"\xe2\x80\xa8",
    b"<!DOCTYPE r [<!ENTITY a 'b'>]>", b"<?xml version='1.0' encoding='utf-16'?>",
    b"<?xml version='1.0' encoding='nope'?>", b"9999-99-99T99:99:99Z", b"Mon, 32 Foo 99999",
    b"-1", b"1e309", b"{", b"}", b"[", b'"', b"<a:b:c>", b"xmlns:a='http://[x'", b" " * 200,
]  # fmt: skip
# Where an injected value does harm: inside links, hrefs, dates, ids and text.
_SPOTS = re.compile(
    rb"<link>|href=\"|<guid[^>]*>|<id>|<pubDate>|<updated>|<published>|<dc:date>|<title>"
    rb"|<description>|<content[^>]*>|<category[^>]*>|<language>|<item[^>]*>|<entry[^>]*>"
    rb"|\"url\": \"|\"id\": \""
)

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["http://[::1", "http://[x", "", "2024-13-45", "\u2028", "\ud800"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)
JSON_ITEM_KEYS = [
    "id", "url", "external_url", "title", "summary", "content_html", "content_text",
    "date_published", "date_modified", "author", "authors", "tags", "language", "image",
]  # fmt: skip
JSON_TOP_KEYS = ["version", "title", "language", "items", "home_page_url", "authors"]


@st.composite
def byte_mutations(draw) -> bytes:
    """A fixture feed with up to five byte-level mutations."""
    body = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 5))):
        if not body:
            break
        at = draw(st.integers(0, len(body) - 1))
        op = draw(st.sampled_from(["flip", "truncate", "delete", "insert", "repeat"]))
        if op == "flip":
            body[at] = draw(st.integers(0, 255))
        elif op == "truncate":
            del body[at:]
        elif op == "delete":
            del body[at : at + draw(st.integers(1, 64))]
        elif op == "insert":
            body[at:at] = draw(st.sampled_from(BAD_VALUES))
        else:
            span = body[at : at + draw(st.integers(1, 200))]
            body[at:at] = span * draw(st.integers(1, 20))
    return bytes(body)


@st.composite
def injected_values(draw) -> bytes:
    """A fixture feed with bad values put where they hurt: at the start of a link, an
    href, a date, an id, a title, or an item."""
    body = SEEDS[draw(st.sampled_from(sorted(SEEDS)))]
    spots = [m.end() for m in _SPOTS.finditer(body)]
    if not spots:
        return body
    for at in sorted(draw(st.lists(st.sampled_from(spots), min_size=1, max_size=4)), reverse=True):
        body = body[:at] + draw(st.sampled_from(BAD_VALUES)) + body[at:]
    return body


@st.composite
def json_feeds(draw) -> bytes:
    """The JSON Feed fixture with wrong types (or odd values) in its fields and items."""
    doc = json.loads(json.dumps(JSON_SEED))
    items = [dict(doc["items"][0]) for _ in range(draw(st.integers(1, 4)))]
    for item in items:
        for key in draw(st.lists(st.sampled_from(JSON_ITEM_KEYS), max_size=3)):
            item[key] = draw(JSON_VALUES)
    doc["items"] = items
    for key in draw(st.lists(st.sampled_from(JSON_TOP_KEYS), max_size=2)):
        if key != "version" or draw(st.booleans()):
            doc[key] = draw(JSON_VALUES)
    return json.dumps(doc).encode()


headers = st.one_of(
    st.none(),
    st.builds(
        lambda t, c: {"content-type": f"{t}; charset={c}"},
        st.sampled_from(["application/rss+xml", "text/html", "application/json", "text/xml"]),
        st.sampled_from(["utf-8", "utf-16", "iso-8859-1", "nope", "windows-1252", ""]),
    ),
)
any_feed = st.one_of(byte_mutations(), injected_values(), json_feeds())


def check_parse_feed(body: bytes, hdrs: dict | None = None) -> None:
    """What must hold for any input (the fuzz target, shared with bench/bench_fuzz.py)."""
    result = parse_feed(body, url="https://base.example/feed", headers=hdrs)
    assert isinstance(result, FeedResult)
    assert result.error_class in (None, "parse_error", "not_a_feed")
    assert not (result.error_class and result.items)
    for item in result.items:
        check_item(item)
    stored = parse_feed_for_store(body, url="https://base.example/feed", headers=hdrs)
    assert len(stored.items) + stored.bad_items == len(result.items) + result.bad_items
    for item in stored.items:
        assert item[NORMALIZED] is True
        check_item(item)


@FAST
@given(byte_mutations(), headers)
def test_byte_mutations_never_raise(body, hdrs):
    check_parse_feed(body, hdrs)


@FAST
@given(injected_values(), headers)
def test_injected_bad_values_never_raise(body, hdrs):
    check_parse_feed(body, hdrs)


@FAST
@given(json_feeds())
def test_json_feeds_with_wrong_types_never_raise(body):
    check_parse_feed(body)
