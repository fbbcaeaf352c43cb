"""JSON Feed (1.0/1.1) documents -> article item dicts, each item read on its own.

feedparser 6 reads only XML feeds, so JSON Feed is read here, into the same items. The
document is untrusted JSON: every field is checked for its type before it is used.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin

from crawler.feed_result import BadItem, FeedResult, check_item, describe
from crawler.normalize import iso_utc, plain_text

# JSON may escape half of a surrogate pair ("\ud800"): such a string cannot be stored as
# UTF-8 (SQLite refuses it), so the half becomes U+FFFD and the rest of the text is kept.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(value: str) -> str:
    return value if value.isascii() else _LONE_SURROGATE.sub("\ufffd", value)


def _json_text(entry: dict, key: str) -> str | None:
    """A JSON Feed string field (None when absent); BadItem when it is not a string."""
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return _clean(value)
    raise BadItem(f"{key!r} is {type(value).__name__}, not a string")


def _json_list(entry: dict, key: str) -> list:
    value = entry.get(key)
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise BadItem(f"{key!r} is {type(value).__name__}, not a list")


def json_feed_item(entry: object, *, base: str, feed_language: str | None) -> dict | None:
    """One JSON Feed item as an item dict (None when it has no http(s) link); BadItem when
    a field has the wrong type (``"title": 5``, ``"tags": 1``...)."""
    if not isinstance(entry, dict):
        raise BadItem(f"the item is {type(entry).__name__}, not an object")
    link = _json_text(entry, "url") or _json_text(entry, "external_url") or ""
    link = urljoin(base, link.strip()) if link else ""
    if not link.startswith(("http://", "https://")):
        return None
    author = entry.get("author")
    if author is not None and not isinstance(author, dict):
        raise BadItem(f"'author' is {type(author).__name__}, not an object")
    authors = _json_list(entry, "authors") or ([author] if author else [])
    name = next((a.get("name") for a in authors if isinstance(a, dict)), None)
    summary = plain_text(_json_text(entry, "summary"))
    text = plain_text(_json_text(entry, "content_html"), multiline=True) or plain_text(
        _json_text(entry, "content_text"), is_html=False, multiline=True
    )
    published = iso_utc(_json_text(entry, "date_published"))
    updated = iso_utc(_json_text(entry, "date_modified"))
    guid = entry.get("id")
    if guid is not None and not isinstance(guid, str | int):
        raise BadItem(f"'id' is {type(guid).__name__}, not a string")
    guid = str(guid).strip() if guid is not None else None
    language = _json_text(entry, "language") or feed_language
    return {
        "url": link,
        "guid": guid or None,
        "title": plain_text(_json_text(entry, "title"), is_html=False),
        "text": text or summary,
        "summary": summary,
        "author": plain_text(_clean(name), is_html=False) if isinstance(name, str) else None,
        "language": language or None,
        "categories": [_clean(t) for t in _json_list(entry, "tags") if isinstance(t, str)],
        "published_at": published or updated,
        "updated_at": updated,
    }


def parse_json_feed(body: bytes, *, url: str) -> FeedResult | None:
    """A JSON Feed (1.0/1.1) document, or None when the bytes are not one.

    feedparser 6 reads only XML feeds, so JSON Feed is read here, into the same items.
    Each item is read on its own: one with a field of the wrong type is left out and
    counted (:attr:`FeedResult.bad_items`), the others are kept."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or "jsonfeed.org/version" not in str(data.get("version", "")):
        return None
    result = FeedResult(version="json" + str(data["version"]).rsplit("/", 1)[-1][:10])
    title = data.get("title")
    result.title = plain_text(title, is_html=False) if isinstance(title, str) else None
    language = data.get("language")
    if language is not None and not isinstance(language, str):
        result.problem = f"the feed's 'language' is {type(language).__name__}, not a string"
        language = None
    items = data.get("items")
    if items is not None and not isinstance(items, list):
        result.error_class = "parse_error"
        result.problem = f"the feed's 'items' is {type(items).__name__}, not a list"
        return result
    seen: set[str] = set()
    for n, entry in enumerate(items or [], 1):
        try:
            item = json_feed_item(entry, base=url, feed_language=language)
            if item is None or item["url"] in seen:
                continue
            result.items.append(check_item(item))
            seen.add(item["url"])
        except Exception as e:  # this item only: the others are kept
            result.reject(f"item {n}", describe(e))
    return result
