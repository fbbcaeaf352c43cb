"""Folding keeps offsets and folds every character as the table says, on every path."""

from __future__ import annotations

import sys

import pytest

from alerts.textfold import FOLD, fold

PAD = "plain English words around it " * 3


def _by_table(text: str) -> str:
    """The reference: each character through the table (as the slow path reads it), with
    the ASCII letters lowered."""
    return "".join(FOLD.get(ord(c), c.lower() if c.isascii() else c) for c in text)


@pytest.mark.parametrize("block", range(0x80, 0x3000, 0x400))
def test_mostly_ascii_text_folds_like_the_table(block):
    # Each character inside mostly-ASCII text (the fast path: lower() plus fix-ups), as a
    # capital and a small letter, at a word's end and inside one.
    for cp in range(block, min(block + 0x400, 0x3000)):
        c = chr(cp)
        if len(c.lower()) != 1 or len(FOLD.get(cp, c)) != 1:
            continue
        text = f"{PAD}x{c} {c}Word {c.upper()}{PAD}"
        if len(text.lower()) != len(text):
            continue
        got = fold(text)
        assert len(got) == len(text)
        assert got == fold(text.encode("utf-8").decode("utf-8")), hex(cp)
        assert got[len(PAD) + 1] == _by_table(c), hex(cp)


def test_final_sigma_and_lunate_sigma_fold_as_the_table_says():
    # str.lower() writes a word-final capital sigma as "ς"; the table folds "Σ" to "σ"
    # wherever it stands, and "Ϲ" otherwise than its lower case "ϲ".
    for word in ("ΟΔΟΣ", "Ϲ ϲ", "ΣΟΦΙΑ"):
        text = f"{PAD}{word} “quoted” {PAD}"
        assert fold(text) == _by_table(text)


def test_many_distinct_accents_in_ascii_text():
    accents = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿ"
    text = PAD * 4 + " ".join(f"caf{a}" for a in accents) + " it’s – “so”"
    assert fold(text) == _by_table(text)
    assert fold(text[: len(PAD) * 4 + 20]) == _by_table(text[: len(PAD) * 4 + 20])


def test_a_folded_character_is_not_folded_again():
    # "⁻" folds to "−", which itself folds to "-"; "῭" to "`", which folds to "'": each
    # position is folded once, however many of them one text holds.
    for pad in (PAD, "Новости дня " * 20):
        text = f"{pad} ⁻ − ` ῭ ₋ {pad}"
        assert fold(text) == _by_table(text)


def test_text_mostly_outside_ascii_folds_like_the_table():
    text = "Ο ΠΡΟΕΔΡΟΣ ΕΙΠΕ ΣΤΗΝ ΑΘΗΝΑ. Президент заявил: «Россия — Σ» 𐐀𐐨 Ｗ " * 10
    assert fold(text) == _by_table(text)
    many = "".join(map(chr, range(0x400, 0x500))) + " Москва " * 5
    assert fold(many) == _by_table(many)


def test_offsets_hold_for_text_outside_the_table():
    text = f"{PAD}東京 and 𐐀𐐨 {PAD}"
    assert len(fold(text)) == len(text)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
