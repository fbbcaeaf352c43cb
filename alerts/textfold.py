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
# The characters that fold otherwise than their lower case does ("Ϲ" to "σ", its lower case
# "ϲ" to "ς"): a text with one of them is folded character by character. The table covers
# the characters below U+3000 only, so no other character can be one (tests check all).
# "Σ" too: str.lower() makes it "ς" at the end of a word, the table "σ" everywhere.
_FOLD_APART = frozenset(
    c
    for c in map(chr, range(0x80, 0x3000))
    if len(c.lower()) == 1 and FOLD_CHARS.get(c, c.lower()) != FOLD_CHARS.get(c.lower(), c.lower())
) | {"\u03a3"}


def fold(text: str) -> str:
    """Lower-case ``text`` and strip diacritics, keeping its length (offsets stay valid)."""
    if text.isascii():
        return text.lower()
    if (len(text.encode()) - len(text)) * 16 < len(text):
        # Mostly ASCII (English with curly quotes): str.translate walks every character in
        # Python-dict lookups; lower() in C plus a fix-up of the few others is 5x faster.
        low = text.lower()
        if len(low) == len(text):
            others = set(_NOT_ASCII.findall(low))
            if len(others) <= 12 and not any(c in text for c in _FOLD_APART):
                # A few distinct characters (curly quotes, dashes): one C pass each.
                for c in others:
                    folded = FOLD_CHARS.get(c)
                    if folded is not None:
                        low = low.replace(c, folded)
                return low
            return _NOT_ASCII.sub(lambda m: FOLD_CHARS.get(text[m.start()], m.group()), low)
    out = text.translate(FOLD)
    if len(out) != len(text):  # a character outside the table folded to two; keep offsets
        out = "".join(FOLD.get(ord(c), c) if len(FOLD.get(ord(c), c)) == 1 else c for c in text)
    return out
