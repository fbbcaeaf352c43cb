"""Normalizing collected fields: plain text from HTML fragments, dates as ISO 8601 UTC."""

from __future__ import annotations

import html
import re
import time
from datetime import datetime

from crawler import times

_DROP = re.compile(r"<(script|style|noscript|template)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_BLOCK = re.compile(
    r"</?(?:p|div|br|li|ul|ol|h[1-6]|tr|table|blockquote|section|article|pre|hr|dd|dt|figure)"
    r"\b[^>]*>",
    re.I,
)
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLANKS = re.compile(r"\n\s*\n\s*(?:\n\s*)*")
# What str.split() splits at besides _SPACES and the controls _CONTROL removes.
_SPLIT_DIFFERS = re.compile("[\x85\u1680\u2028\u2029]")

# The fields of an article item, as the store takes them.
ITEM_KEYS = (
    "url",
    "guid",
    "title",
    "text",
    "summary",
    "author",
    "language",
    "categories",
    "published_at",
    "updated_at",
    "entry_hash",  # what the feed entry said (crawler/store.py: entry_hash), for updates
)
# Set on an item already passed through normalize_item (in a parse worker process).
NORMALIZED = "_normalized"


def plain_text(value: str | None, *, is_html: bool = True, multiline: bool = False) -> str | None:
    """Text without tags, with entities decoded and whitespace normalized.

    With ``is_html=False`` the value is already text: only whitespace is normalized.
    ``multiline`` keeps paragraph breaks (one blank line between paragraphs); otherwise
    the result is one line. Empty results become None.
    """
    if value is None:
        return None
    s = _without_markup(value, is_html, "\n\n" if multiline else " ")
    return _lines(s) if multiline else (" ".join(s.split()) or None)


def plain_text_both(value: str | None, *, is_html: bool = True) -> tuple[str | None, str | None]:
    """``(plain_text(value, is_html=is_html), plain_text(value, is_html=is_html,
    multiline=True))``, the markup read once: a feed entry whose summary is its content
    (half the Atom and RSS entries with content in the 200 real feeds) needs both.

    The one-line text is the multi-line reading's words joined by single spaces: the two
    readings differ only where a block tag became a space or a paragraph break, and both
    are whitespace to ``str.split``; no tag, entity or control character can take in a
    space or a line break (a test compares the two ways on random markup)."""
    if value is None:
        return None, None
    s = _without_markup(value, is_html, "\n\n")
    return " ".join(s.split()) or None, _lines(s)


def _without_markup(value: str, is_html: bool, block: str) -> str:
    """``value`` without scripts, comments and tags (a block tag becomes ``block``), its
    entities decoded (when it is HTML), its control characters removed."""
    s = value
    if is_html and "<" in s:
        s = _COMMENT.sub(" ", _DROP.sub(" ", s))
        s = _BLOCK.sub(block, s)
        s = _TAG.sub("", s)
    if is_html and "&" in s:
        s = html.unescape(s)
    return _CONTROL.sub("", s)


def _lines(s: str) -> str | None:
    """Multi-line text: each line's spaces collapsed, one blank line between paragraphs."""
    if _SPLIT_DIFFERS.search(s):
        # _SPACES never matches a newline: one pass over the text, not one per line.
        lines = [line.strip() for line in _SPACES.sub(" ", s).split("\n")]
    else:
        # The same lines: with the controls gone, str.split() splits at exactly the
        # _SPACES characters but the zero-width space, which becomes a space first
        # (half the CPU of the substitution over the 200 real feeds' texts).
        s = s.replace("\u200b", " ")
        lines = [" ".join(line.split()) for line in s.split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip() or None


def one_line_as_text(summary: str | None) -> str | None:
    """``plain_text(summary, is_html=False, multiline=True)`` of a one-line ``summary``
    (one that ``plain_text`` gave), which is ``summary`` itself (the same object, so an
    item that uses its summary as its text carries and ships it once) unless it holds a
    zero-width space: a one-line text has no line breaks, no control characters and no
    other space than single ones between words, so only that replacement changes it."""
    if summary is None or "\u200b" not in summary:
        return summary
    return plain_text(summary, is_html=False, multiline=True)


def struct_to_iso(value: time.struct_time | None) -> str | None:
    """A UTC ``time.struct_time`` (what feedparser gives) as ISO 8601 UTC, or None."""
    if not value:
        return None
    try:
        return iso_utc(times.from_struct(value))
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def iso_utc(value: datetime | str | None) -> str | None:
    """A datetime or an ISO 8601 string as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC.

    Naive values are taken as UTC; a bare date becomes midnight UTC; years outside
    1990-2100 (broken clocks, placeholder dates) become None.
    """
    if value is None or value == "":
        return None
    when = times.parse_time(value) if isinstance(value, str) else times.utc(value)
    if when is None or not 1990 <= when.year <= 2100:
        return None
    return times.iso(when)


def normalize_item(item: dict) -> dict:
    """Only the store's keys, text fields as plain text, dates as ISO 8601 UTC."""
    out = {k: item.get(k) for k in ITEM_KEYS}
    out["title"] = plain_text(out["title"], is_html=False)
    out["summary"] = plain_text(out["summary"], is_html=False)
    out["author"] = plain_text(out["author"], is_html=False)
    out["text"] = plain_text(out["text"], is_html=False, multiline=True)
    out["published_at"] = iso_utc(out["published_at"])
    out["updated_at"] = iso_utc(out["updated_at"])
    out["categories"] = [c for c in (out["categories"] or []) if isinstance(c, str) and c]
    return out
