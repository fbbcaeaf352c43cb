"""Folding text for matching: lower case, no diacritics, one apostrophe, one dash.

:func:`fold` keeps every character offset, so a match in the folded text is a match at the
same place in the original.
"""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = "\u2019\u2018\u02bc\u00b4`\u2032"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2212"


def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in range(0x3000):
        c = chr(cp)
        base = "".join(
            ch for ch in unicodedata.normalize("NFKD", c) if not unicodedata.combining(ch)
        )
        low = base.lower() if len(base) == 1 else c.lower()
        if len(low) != 1:
            low = c
        if low != c:
            table[cp] = low
    for c in _APOSTROPHES:
        table[ord(c)] = "'"
    for c in _DASHES:
        table[ord(c)] = "-"
    table[0x131] = "i"  # dotless i: Turkish and Azerbaijani spellings fold together
    table[0xA0] = " "
    return table


FOLD = _fold_table()


FOLD_CHARS = {chr(k): v for k, v in FOLD.items()}
_NOT_ASCII = re.compile(r"[^\x00-\x5f\x61-\x7f]")  # and the backtick, an apostrophe
_ASCII_BUT_BACKTICK = bytes(range(0x60)) + bytes(range(0x61, 0x80))
# The characters that fold otherwise than their lower case does ("Ϲ" to "σ", its lower case
# "ϲ" to "ς"): a text with one of them is folded character by character. The table covers
# the characters below U+3000 only, so no other character can be one (tests check all).
# "Σ" too: str.lower() makes it "ς" at the end of a word, the table "σ" everywhere.
_FOLD_APART = frozenset(
    c
    for c in map(chr, range(0x80, 0x3000))
    if len(c.lower()) == 1 and FOLD_CHARS.get(c, c.lower()) != FOLD_CHARS.get(c.lower(), c.lower())
) | {"\u03a3"}
# Texts with at most this many distinct characters outside ASCII are folded by lower() and
# one str.replace per character (each a pass in C; measured twice as fast as str.translate
# on Cyrillic and Greek news); past that, the per-character paths are as fast.
_FEW = 128


def fold(text: str) -> str:
    """Lower-case ``text`` and strip diacritics, keeping its length (offsets stay valid)."""
    if text.isascii():
        return text.lower()
    raw = text.encode()
    # Mostly ASCII (English with curly quotes): lower() in C plus a fix-up of the few others.
    mostly = (len(raw) - len(text)) * 16 < len(text)
    # The distinct characters outside ASCII, and the backtick (an apostrophe): found in C.
    others = set(raw.translate(None, _ASCII_BUT_BACKTICK).decode())
    if len(others) <= _FEW:
        low = _replaced(text, others, mostly)
        if low is not None:
            return low
    if mostly:
        low = text.lower()
        if len(low) == len(text):
            return _NOT_ASCII.sub(lambda m: FOLD_CHARS.get(text[m.start()], m.group()), low)
    out = text.translate(FOLD)
    if len(out) != len(text):  # a character outside the table folded to two; keep offsets
        out = "".join(FOLD.get(ord(c), c) if len(FOLD.get(ord(c), c)) == 1 else c for c in text)
    return out


def _replaced(text: str, others: set[str], mostly: bool) -> str | None:
    """``text`` folded as the per-character paths of :func:`fold` fold it, by lower() and one
    replace per distinct character; None where that could differ: a character of
    ``_FOLD_APART``, one whose lower case has another length, a cased character past the
    table outside mostly-ASCII text (str.translate leaves it as it is), or a folded
    character that another replacement would fold again ("⁻" to "−", "−" to "-")."""
    if not others.isdisjoint(_FOLD_APART):
        return None
    if not mostly and any(c >= "\u3000" and c.lower() != c for c in others):
        return None
    low = text.lower()
    if len(low) != len(text):
        return None
    swaps = {}
    for c in others:
        lower = c.lower()
        folded = FOLD_CHARS.get(lower)
        if folded is not None:
            swaps[lower] = folded
    if any(f in swaps for f in swaps.values()):
        return None
    for c, folded in swaps.items():
        low = low.replace(c, folded)
    return low
