"""Feeds (RSS 0.9x/1.0/2.0, Atom 0.3/1.0, JSON Feed) as bytes -> article item dicts.

feedparser only ever sees bytes that Scrapy fetched (it never fetches anything itself).
Sanitizing and relative-URI resolution inside content are switched off: we store plain
text and escape on output, and it makes parsing 2-4x faster.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin
from xml.sax import SAXException
from xml.sax.expatreader import ExpatParser

import feedparser

from crawler.feed_result import BadItem, FeedResult, check_item, describe
from crawler.jsonfeed import parse_json_feed
from crawler.normalize import (
    ITEM_KEYS,
    NORMALIZED,
    normalize_item,
    one_line_as_text,
    plain_text,
    plain_text_both,
    struct_to_iso,
)
from crawler.store import prepare_item

_HTML_START = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)


class _BufferedExpatParser(ExpatParser):
    """The standard library's SAX reader with expat's ``buffer_text`` on: a run of text
    comes as one ``characters()`` call instead of one per line and per entity.

    feedparser does its per-call bookkeeping in Python, so this parses the 200 real feeds
    30% faster; the parsed result is identical on them and on feedparser's own 2,100 test
    feeds. Everything else (no external entities, expat's entity-expansion limits) is the
    standard reader's.
    """

    def reset(self) -> None:
        super().reset()
        self._parser.buffer_text = True

    def parse(self, source) -> None:
        # feedparser's own handlers can raise on badly nested markup (a KeyError from an
        # <item> inside a <link>); as a SAX error, feedparser falls back to its loose
        # parser and keeps what it can read, as it does for any other malformed XML.
        try:
            super().parse(source)
        except SAXException:
            raise
        except Exception as e:
            raise SAXException(f"{type(e).__name__} in the feed parser: {e}", e) from e


def create_parser(*args, **kwargs) -> ExpatParser:
    """The ``xml.sax.make_parser`` hook: feedparser asks for a SAX reader by module name."""
    return _BufferedExpatParser(*args, **kwargs)


feedparser.api.PREFERRED_XML_PARSERS = [__name__]


def _cp1252_as_list() -> None:
    """Give feedparser its cp1252 table as a list: the same mapping, without a dict miss
    per character.

    NOT a public feedparser API, a deliberate exception (the README says so): feedparser
    maps the C1 controls U+0080-U+009F to their cp1252 characters with ``str.translate``
    over ``feedparser.mixin._cp1252``, a dict, on every text it keeps, so every character
    of a non-ASCII text is a failed look-up (a KeyError raised and caught): about 0.55 s
    of the parse worker's 8 s over 200 real feeds. A list holding the same characters
    below U+10000 and each other code point itself is the same mapping (past its end,
    IndexError is a LookupError: the character is kept, as a dict miss keeps it). Only on
    feedparser 6.0.x, the releases read for this (there the name is used by ``translate``
    alone); on another release, or without such a dict, nothing is changed."""
    table = getattr(getattr(feedparser, "mixin", None), "_cp1252", None)
    if (
        not feedparser.__version__.startswith("6.0.")
        or not isinstance(table, dict)
        or not all(isinstance(k, int) and 0 <= k < 0x10000 for k in table)
    ):
        return
    fast: list = list(range(0x10000))
    for code, char in table.items():
        fast[code] = char
    feedparser.mixin._cp1252 = fast


_cp1252_as_list()


_UNREAD = object()  # entry_to_item: the summary is not read yet


def _is_html(entry_detail: dict | None) -> bool:
    kind = (entry_detail or {}).get("type") or "text/html"
    return "html" in kind


def _entry_link(entry: dict, base: str) -> str | None:
    link = entry.get("link")
    if not link:
        for candidate in entry.get("links") or []:
            if candidate.get("href") and candidate.get("rel", "alternate") == "alternate":
                link = candidate["href"]
                break
    if not link:
        guid = entry.get("id") or ""
        if guid.startswith(("http://", "https://")):
            link = guid
    if not link:
        return None
    try:
        link = urljoin(base, link.strip())
    except ValueError as e:
        raise BadItem(f"link {link!r:.80} is not a valid address ({e})") from None
    return link if link.startswith(("http://", "https://")) else None


def entry_to_item(entry: dict, *, base: str, feed_language: str | None) -> dict | None:
    """One feedparser entry as an item dict (None when it has no usable link)."""
    url = _entry_link(entry, base)
    if url is None:
        return None
    raw_summary = entry.get("summary")
    summary_html = _is_html(entry.get("summary_detail"))
    summary = _UNREAD
    content = None
    for c in entry.get("content") or []:
        value, is_html = c.get("value"), _is_html(c)
        if summary is _UNREAD and value == raw_summary and is_html == summary_html:
            # the summary is this content: its markup is read once for both
            summary, text = plain_text_both(value, is_html=is_html)
        else:
            text = plain_text(value, is_html=is_html, multiline=True)
        if text and (content is None or len(text) > len(content)):
            content = text
    if summary is _UNREAD:
        summary = plain_text(raw_summary, is_html=summary_html)
    # dict.get: FeedParserDict.get maps a missing updated_parsed to published_parsed.
    published = struct_to_iso(dict.get(entry, "published_parsed"))
    updated = struct_to_iso(dict.get(entry, "updated_parsed"))
    author = entry.get("author") or None
    language = (entry.get("title_detail") or {}).get("language") or feed_language
    return {
        "url": url,
        "guid": (entry.get("id") or "").strip() or None,
        "title": plain_text(entry.get("title"), is_html=_is_html(entry.get("title_detail"))),
        # The summary as the text is read as multi-line text, as normalize_item reads a
        # text: every field is then already as normalize_item leaves it (its other rules
        # give their own output back unchanged), so the parse worker need not run it again.
        # That reading gives a one-line summary back as it is, and as the same object.
        "text": content or one_line_as_text(summary),
        "summary": summary,
        "author": plain_text(author) if author else None,
        "language": (language or None) and language.split("-")[0].lower()[:8],
        "categories": [t["term"] for t in entry.get("tags") or [] if t.get("term")],
        "published_at": published or updated,
        "updated_at": updated,
    }


def parse_feed(body: bytes, *, url: str, headers: dict[str, str] | None = None) -> FeedResult:
    """Parse one fetched feed document. Never raises: a malformed feed keeps the items
    that could be read and says what was wrong; a document with no feed in it says
    ``not_a_feed`` (HTML) or ``parse_error``. Each item is read on its own: one that
    cannot be read is left out and counted (``bad_items``, ``item_problem``)."""
    return _parse(body, url, headers)[0]


def _parse(body: bytes, url: str, headers: dict[str, str] | None) -> tuple[FeedResult, bool]:
    """:func:`parse_feed`, and whether its items came through :func:`entry_to_item` (so
    are already as ``normalize_item`` leaves them) rather than from a JSON Feed."""
    try:
        if body.lstrip()[:1] == b"{":
            jf = parse_json_feed(body, url=url)
            if jf is not None:
                return jf, False
        try:
            parsed = _feedparser(body, headers)
        except Exception as e:  # feedparser promises not to raise, but can on odd nesting
            return _salvage(body, url, headers, e), True
        result = FeedResult(version=parsed.get("version") or "")
        if parsed.get("bozo"):
            exc = parsed.get("bozo_exception")
            result.problem = f"{type(exc).__name__}: {exc}" if exc else "malformed feed"
        _add_entries(result, parsed, url, (set(), set()))
        return _finish(result, body), True
    except Exception as e:  # whatever else: this document, not the crawl
        error = FeedResult(error_class="parse_error", problem=f"{type(e).__name__}: {e}"[:500])
        return error, False


def _feedparser(body: bytes, headers: dict[str, str] | None) -> dict:
    return feedparser.parse(
        body,
        response_headers=dict(headers or {}),
        sanitize_html=False,
        resolve_relative_uris=False,
    )


def _add_entries(
    result: FeedResult, parsed: dict, url: str, seen: tuple[set, set], offset: int = 0
) -> None:
    """feedparser's entries -> ``result.items``, one entry at a time; ``seen`` holds the
    GUIDs and URLs taken so far (a feed that repeats one means the same item: keep the
    first)."""
    seen_guids, seen_urls = seen
    feed = parsed.get("feed") or {}
    title = feed.get("title")
    if result.title is None and isinstance(title, str):
        result.title = plain_text(title)
    feed_language = feed.get("language")
    if not isinstance(feed_language, str):
        feed_language = None
    for n, entry in enumerate(parsed.get("entries") or [], offset + 1):
        try:
            item = entry_to_item(entry, base=url, feed_language=feed_language)
            if item is None:
                continue
            check_item(item)
        except Exception as e:  # this item only: the others are kept
            result.reject(f"item {n}", describe(e))
            continue
        if (item["guid"] and item["guid"] in seen_guids) or item["url"] in seen_urls:
            continue
        if item["guid"]:
            seen_guids.add(item["guid"])
        seen_urls.add(item["url"])
        result.items.append(item)


# One item or entry element, for reading a document feedparser cannot read whole.
_ITEM = re.compile(rb"<((?:[\w.-]+:)?(?:item|entry))\b.*?</\1\s*>", re.S | re.I)
_ITEM_START = re.compile(rb"<(?:[\w.-]+:)?(?:item|entry)\b", re.I)
_GROUP = 64  # items read together in a salvage; a group that fails is halved


def _salvage(body: bytes, url: str, headers: dict[str, str] | None, error: Exception) -> FeedResult:
    """Read a document that made feedparser raise one group of items at a time (each
    group between the document's own head and tail), halving a group that fails down to
    the one item that does: that item is left out and counted, the others are kept."""
    chunks = [m.group() for m in _ITEM.finditer(body)]
    if not chunks:
        raise error
    start, end = body.find(chunks[0]), body.rfind(chunks[-1]) + len(chunks[-1])
    head, tail = body[:start], body[end:]
    result = FeedResult(problem=f"{type(error).__name__} in feedparser: {error}"[:300])
    seen: tuple[set, set] = (set(), set())

    def read(first: int, group: list[bytes]) -> None:
        try:
            parsed = _feedparser(head + b"".join(group) + tail, headers)
        except Exception as e:
            if len(group) == 1:
                result.reject(f"item {first}", describe(e))
                return
            half = len(group) // 2
            read(first, group[:half])
            read(first + half, group[half:])
            return
        result.version = result.version or parsed.get("version") or ""
        _add_entries(result, parsed, url, seen, offset=first - 1)

    for i in range(0, len(chunks), _GROUP):
        read(i + 1, chunks[i : i + _GROUP])
    # An item opened inside another one and never closed is in no group: count it too.
    for _ in range(len(_ITEM_START.findall(body)) - len(chunks)):
        result.reject("an item", "its element is not closed before the next one")
    return _finish(result, body)


def _finish(result: FeedResult, body: bytes) -> FeedResult:
    """Say what is wrong when no item came out."""
    if not result.items and result.bad_items:
        result.error_class = "parse_error"
        result.problem = f"none of the {result.bad_items} items could be read"
    elif not result.items and not result.version:
        if _HTML_START.match(body[:4096]) or b"<html" in body[:4096].lower():
            result.error_class = "not_a_feed"
            result.problem = "the document is an HTML page, not a feed"
        else:
            result.error_class = "parse_error"
            result.problem = result.problem or "no feed could be read from the document"
    return result


def parse_feed_for_store(
    body: bytes,
    *,
    url: str,
    headers: dict[str, str] | None = None,
    language: str | None = None,
) -> FeedResult:
    """:func:`parse_feed` with each item also normalized as the store takes it (and marked
    so), its canonical URL and fingerprint computed (:func:`crawler.store.prepare_item`), so
    that a parse worker process does that work instead of the reactor thread. ``language``:
    the source's, for items that name none (as the spider's emit fills it in), given before
    the preparation, whose terms and stop words depend on it."""
    result, normal = _parse(body, url, headers)
    items, result.items = result.items, []
    for n, item in enumerate(items, 1):
        try:
            if normal:  # read by entry_to_item and checked: normalize_item would change nothing
                item = {**{k: item.get(k) for k in ITEM_KEYS}, NORMALIZED: True}
            else:
                item = {**check_item(normalize_item(item)), NORMALIZED: True}
            if language and not item.get("language"):
                item["language"] = language
            result.items.append(prepare_item(item))
        except Exception as e:  # this item only
            result.reject(f"item {n} ({item.get('url')!r:.80})", describe(e))
    return result
