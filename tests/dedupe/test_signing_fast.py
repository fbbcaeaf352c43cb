"""The fast paths of paragraph cutting and MinHash signing give exactly what the plain
definitions give: the same paragraph words and hashes, the same signatures bit for bit."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.fingerprints import fingerprint, paragraphs, tokens
from crawler.minhash import Signer, permutations, shingles, word_hashes

_WORD = re.compile(r"\w+")

# Characters the fast path treats apart: ASCII punctuation, every line break splitlines
# knows, the non-ASCII punctuation it replaces (and their neighbours), underscore, digits,
# letters with accents, CJK, lone surrogates, compatibility forms NFKC changes.
_SPECIAL = (
    " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029\xa0_-.,;:'\"!?()[]{}<>/\\|@#$%^&*+=~`"
    "\u2018\u2019\u201a\u201c\u201d\u2013\u2014\u2015\u2026\u2022\ufb01\u00bd\u2460\u00b2"
    "\u00e9\u0301\u00df\u0130\u4e2d\u6587\ud800\udfff\U0001f600\uff21\uff10"
)
_CHARS = st.one_of(
    st.sampled_from(_SPECIAL), st.characters(min_codepoint=32, max_codepoint=126), st.characters()
)
_TEXT = st.text(_CHARS, max_size=300)


def reference_paragraphs(text: str | None) -> tuple[list[list[str]], list[int]]:
    """fingerprints.paragraphs as plainly defined: NFKC, casefold, lines, \\w+ words, and
    the 64-bit little-endian BLAKE2b of each non-empty paragraph's words."""
    lines = unicodedata.normalize("NFKC", text).casefold().splitlines() if text else []
    words = [w for w in (_WORD.findall(line) for line in lines) if w]
    hashes = [
        int.from_bytes(hashlib.blake2b(" ".join(w).encode(), digest_size=8).digest(), "little")
        for w in words
    ]
    return words, hashes


def reference_signature(hashes: list[int], num_perm: int, size: int) -> list[int] | None:
    """minhash.Signer.sign_hashes in Python integers: datasketch's affine32 over the
    MurmurHash3-finalized shingle hashes, the minimum of each permutation."""
    if len(hashes) < 20:
        return None
    mask = 0xFFFFFFFF
    shingled = [int(x) for x in shingles(np.array(hashes, dtype=np.uint32), size)]
    fmixed = []
    for h in shingled:
        h ^= h >> 16
        h = (h * 0x85EBCA6B) & mask
        h ^= h >> 13
        h = (h * 0xC2B2AE35) & mask
        h ^= h >> 16
        fmixed.append(h)
    a, b = permutations(num_perm)
    return [
        min(((int(ai) * h + int(bi)) & mask) for h in fmixed) for ai, bi in zip(a, b, strict=True)
    ]


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_paragraphs_equal_the_plain_definition(text: str) -> None:
    parsed = paragraphs(text)
    words, hashes = reference_paragraphs(text)
    assert parsed.words == words
    assert parsed.hashes.dtype == np.uint64 and parsed.hashes.tolist() == hashes
    assert parsed.all_words() == tokens(text)
    assert fingerprint("t", text, parsed=parsed) == fingerprint("t", text)


def test_paragraphs_of_nothing() -> None:
    for text in (None, "", "\n\n", "... --- ?"):
        parsed = paragraphs(text)
        assert parsed.words == [] and parsed.hashes.dtype == np.uint64 and len(parsed.hashes) == 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 0xFFFFFFFF), min_size=0, max_size=2600),
    st.sampled_from([(128, 3), (64, 1), (7, 2), (16, 5), (5, 30)]),
)
def test_signature_equals_the_plain_definition(values: list[int], params: tuple) -> None:
    num_perm, size = params
    hashes = np.array(values, dtype=np.uint32)
    before = hashes.copy()
    sig = Signer(num_perm=num_perm, shingle_size=size).sign_hashes(hashes)
    expected = reference_signature(values, num_perm, size)
    assert np.array_equal(hashes, before)  # the caller's hashes are not changed
    if expected is None:
        assert sig is None
    else:
        assert sig.dtype == np.uint32 and sig.tolist() == expected


def test_long_text_spans_blocks() -> None:
    # more shingles than one block (2048): the minimum is kept across blocks
    rng = np.random.default_rng(5)
    values = rng.integers(0, 1 << 32, 5000, dtype=np.uint64).tolist()
    sig = Signer(num_perm=32).sign_hashes(np.array(values, dtype=np.uint32))
    assert sig.tolist() == reference_signature(values, 32, 3)


@settings(max_examples=100, deadline=None)
@given(_TEXT)
def test_signing_words_equals_signing_their_hashes(text: str) -> None:
    words = tokens(text * 8)
    signer = Signer(num_perm=16)
    sig = signer.sign_words(words)
    expected = reference_signature(word_hashes(words).tolist(), 16, 3)
    assert (sig is None and expected is None) or sig.tolist() == expected


def test_text_shorter_than_a_shingle_is_signed_and_left_unchanged() -> None:
    # 25 words, 30-word shingles: the word hashes are signed as they are, not changed
    values = list(range(1000, 1025))
    hashes = np.array(values, dtype=np.uint32)
    sig = Signer(num_perm=8, shingle_size=30).sign_hashes(hashes)
    assert hashes.tolist() == values
    assert sig.tolist() == reference_signature(values, 8, 30)
