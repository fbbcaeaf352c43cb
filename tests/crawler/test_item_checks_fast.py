"""The parse worker's cheaper checks give the answers of the plain ones: storable text
(crawler.feed_result._storable, by encoding) and the cached canonical URL
(crawler.urls.canonical_url)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.feed_result import BadItem, _storable, check_item
from crawler.urls import canonical_url

SURROGATE = re.compile("[\ud800-\udfff]")
# any code point, surrogates (paired or not) included
TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=30)


@settings(max_examples=2000, deadline=None)
@given(TEXT)
def test_storable_is_no_surrogate(text):
    assert _storable(text) == (SURROGATE.search(text) is None)


def test_storable_edges():
    assert _storable(None) and _storable("") and _storable("ascii") and _storable("中\U0001f600")
    assert not _storable("a\ud800") and not _storable("\udfff") and not _storable("\ud83d\ude00")


def test_an_item_with_a_lone_surrogate_is_refused():
    item = {"url": "https://example.org/a", "title": "x\udc80", "categories": []}
    try:
        check_item(item)
    except BadItem as e:
        assert "surrogate" in str(e)
    else:
        raise AssertionError("accepted")


URLS = st.sampled_from(
    [
        "https://Example.org/a/?utm_source=x&b=2&a=1#f",
        " http://example.org:80//x//y/ ",
        "https://[::1]:8443/p?fbclid=1",
        "b/c?z=1",
        "/root",
        "http://h/%7E?x=%20",
    ]
)


@settings(max_examples=300, deadline=None)
@given(URLS, st.one_of(st.none(), st.sampled_from(["https://base.example/dir/page", "http://h/"])))
def test_cached_canonical_url_is_the_computed_one(url, base):
    first = canonical_url(url, base)
    assert first == canonical_url.__wrapped__(url, base) == canonical_url(url, base)


def test_an_invalid_url_raises_every_time():
    for _ in range(2):
        try:
            canonical_url("http://[::1/x")
        except ValueError:
            continue
        raise AssertionError("no error")
