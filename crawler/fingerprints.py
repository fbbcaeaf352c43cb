"""What counts as "the same words": text normalized to words and paragraphs, and the
fingerprint of an article's title and text.

Normalizing is Unicode NFKC, case folding and dropping punctuation, so two copies of one
article with other markup, spacing or case give the same words. A **fingerprint** (SHA-1
of the normalized title and text) says "the same words": the second article is a copy.
Paragraphs (the text cut at line breaks) and their hashes feed the MinHash signer
(:mod:`crawler.minhash`) and the site-furniture count of :mod:`crawler.neardup`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

_WORD = re.compile(r"\w+")


def tokens(text: str | None) -> list[str]:
    """The words of ``text``, Unicode-normalized (NFKC) and case-folded; punctuation dropped."""
    if not text:
        return []
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def normalize(text: str | None) -> str:
    """``text`` as its normalized words joined by single spaces."""
    return " ".join(tokens(text))


@dataclass(frozen=True)
class Paragraphs:
    """A text cut at line breaks: the normalized words of each non-empty paragraph, and a
    64-bit hash of each (equal words, equal hash)."""

    words: list[list[str]]
    hashes: np.ndarray

    def all_words(self, skip: np.ndarray | None = None) -> list[str]:
        """Every word in order, leaving out the paragraphs where ``skip`` is True."""
        if skip is None or not skip.any():
            return [w for p in self.words for w in p]
        return [w for p, s in zip(self.words, skip.tolist(), strict=True) if not s for w in p]


def paragraphs(text: str | None) -> Paragraphs:
    """``text``'s paragraphs; their words joined are exactly ``tokens(text)``."""
    lines = _spaced(unicodedata.normalize("NFKC", text).casefold()).splitlines() if text else []
    words = [w for w in map(_line_words, lines) if w]
    # One digest each, read as little-endian uint64 in one call (not int.from_bytes each).
    digests = b"".join(hashlib.blake2b(" ".join(w).encode(), digest_size=8).digest() for w in words)
    return Paragraphs(words, np.frombuffer(digests, dtype="<u8").astype(np.uint64))


# Non-word characters that are not line breaks, made spaces before the text is cut into
# lines and words: ASCII punctuation, and the few non-ASCII ones that make most lines of
# English news non-ASCII (quotes, dashes, ellipsis). A line left ASCII then has as words
# what str.split() gives, about twice as fast as the regex (for ASCII, \w is exactly
# [A-Za-z0-9_]). A space for a non-word character changes no \w+ match.
_LINE_BREAKS = b"\n\r\x0b\x0c\x1c\x1d\x1e"
_ASCII_SPACES = bytes(
    c if chr(c).isalnum() or c == ord("_") or c in _LINE_BREAKS or c >= 128 else 32
    for c in range(256)
)
_PUNCTUATION = tuple(ch.encode() for ch in "\u2018\u2019\u201c\u201d\u2013\u2014\u2026")


def _spaced(text: str) -> str:
    """``text`` with ASCII (and common) non-word characters other than line breaks made
    spaces: the same words in the same lines."""
    # surrogatepass: a lone surrogate goes through unchanged (its bytes are not ASCII)
    data = text.encode("utf-8", "surrogatepass").translate(_ASCII_SPACES)
    for mark in _PUNCTUATION:
        if mark in data:
            data = data.replace(mark, b" ")
    return data.decode("utf-8", "surrogatepass")


def _line_words(line: str) -> list[str]:
    """The words of one normalized line: ``_WORD.findall(line)``."""
    return line.split() if line.isascii() else _WORD.findall(line)


def fingerprint(
    title: str | None, text: str | None, *, parsed: Paragraphs | None = None
) -> str | None:
    """SHA-1 (hex) of the normalized title and text; None when both are empty.

    Two articles with the same fingerprint carry the same words whatever their markup,
    spacing, case or punctuation: the second is a copy of the first. ``parsed`` may pass
    ``paragraphs(text)`` when the caller has it already.
    """
    t = normalize(title)
    b = " ".join(parsed.all_words()) if parsed is not None else normalize(text)
    if not (t or b):
        return None
    return hashlib.sha1(f"{t}\x1f{b}".encode()).hexdigest()
