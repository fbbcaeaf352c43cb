"""MinHash signing: an article's words -> a signature whose agreement with another
estimates how much of their text they share ("mostly the same words": a reprint with other
furniture, trimmed paragraphs or a new headline).

Signatures are datasketch's ``affine32`` MinHash of 3-word shingle hashes, computed in one
numpy expression. Paragraphs that the near-duplicate index knows as site furniture
(see :mod:`crawler.neardup`) are left out of an article's signature (:func:`sign_article`).
Storing signatures and loading the index from them is :mod:`crawler.signatures`.
"""

from __future__ import annotations

import zlib

import numpy as np

from crawler.fingerprints import Paragraphs, paragraphs, tokens
from crawler.neardup import FURNITURE_SOURCE_ARTICLES, FURNITURE_STORIES, NearDuplicateIndex

SCHEME = "affine32"
SEED = 1
# Fewer words than this and a text says too little to call it a reprint of another (a bare
# headline, "Read more..."): such articles are matched by fingerprint only.
MIN_TOKENS = 20

# Odd multipliers that mix three token hashes into one shingle hash (order matters).
_MIX = (np.uint32(0x9E3779B1), np.uint32(0x85EBCA77), np.uint32(0xC2B2AE3D))
# MurmurHash3's 32-bit finalizer, as datasketch's affine32 scheme applies it.
_FMIX = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35))
_MAX32 = np.uint32(0xFFFFFFFF)
_CHUNK = 2048  # shingles per (shingles x permutations) block: bounds memory on long texts


def word_hashes(words: list[str]) -> np.ndarray:
    """Each word's 32-bit hash (CRC-32, stable across processes, unlike ``hash()``): what
    :func:`shingle_hashes` mixes, computed once per article (a parse worker may do it)."""
    return np.fromiter(map(zlib.crc32, map(str.encode, words)), dtype=np.uint32, count=len(words))


def shingle_hashes(words: list[str], size: int) -> np.ndarray:
    """32-bit hashes of the ``size``-word shingles of ``words``, in text order (a shingle that
    occurs twice is there twice; a text shorter than ``size`` gives its word hashes).

    Each word is hashed once and the shingle hash mixes its words' hashes, which is about
    5x faster than hashing each shingle's text.
    """
    return shingles(word_hashes(words), size)


def shingles(h: np.ndarray, size: int) -> np.ndarray:
    """The shingle hashes of a text given as its :func:`word_hashes`."""
    if len(h) < size:
        return h
    n = len(h) - size + 1
    out = np.zeros(n, dtype=np.uint32)
    for i in range(size):
        out ^= h[i : i + n] * _MIX[i % len(_MIX)] + np.uint32(i)
    return out


def permutations(num_perm: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) of datasketch's ``affine32`` permutations ``h -> a * h + b mod 2**32``:
    the same random draws, so our signatures equal ``datasketch.MinHash(num_perm, seed,
    scheme="affine32", hashfunc=int)`` over the shingle hashes (a test checks it). Drawing
    them here spares every process importing datasketch, which pulls in scipy."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


class Signer:
    """Turns words into a MinHash signature (uint32 array) with fixed parameters.

    The values are datasketch's ``affine32`` MinHash of the shingle hashes, computed in one
    numpy expression instead of through a ``MinHash`` object (see :func:`permutations`).
    ``params`` names everything a signature depends on; a stored signature is only reused
    when they match.
    """

    def __init__(self, *, num_perm: int = 128, shingle_size: int = 3):
        self.num_perm = num_perm
        self.shingle_size = shingle_size
        furniture = f"f{FURNITURE_STORIES}.{FURNITURE_SOURCE_ARTICLES}"
        self.params = f"{SCHEME}-s{SEED}-p{num_perm}-k{shingle_size}-{furniture}"
        self._a, self._b = permutations(num_perm)
        self._a_col, self._b_col = self._a[:, None], self._b[:, None]

    def sign(self, text: str | None) -> np.ndarray | None:
        """The signature of all of ``text``, or None when it has fewer than MIN_TOKENS words."""
        return self.sign_words(tokens(text))

    def sign_words(self, words: list[str]) -> np.ndarray | None:
        """The signature of these normalized words (None for fewer than MIN_TOKENS)."""
        return self.sign_hashes(word_hashes(words))

    def sign_hashes(self, hashes: np.ndarray) -> np.ndarray | None:
        """The signature of a text given as its :func:`word_hashes` (None for fewer than
        MIN_TOKENS words): equal to :meth:`sign_words` of those words."""
        if len(hashes) < MIN_TOKENS:
            return None
        h = shingles(hashes, self.shingle_size)
        if h is hashes:  # fewer words than a shingle: the caller's array, not to be changed
            h = h.copy()
        # MurmurHash3's finalizer in place; then each (permutations x shingles) block into
        # one reused buffer (no temporaries for the product and the sum), its minimum taken
        # along the contiguous axis: about a third less CPU than (shingles x permutations).
        s1, m1, s2, m2 = _FMIX
        h ^= h >> s1
        h *= m1
        h ^= h >> s2
        h *= m2
        h ^= h >> s1
        sig = np.full(self.num_perm, _MAX32, dtype=np.uint32)
        buf = np.empty((self.num_perm, min(len(h), _CHUNK)), dtype=np.uint32)
        for start in range(0, len(h), _CHUNK):
            part = h[None, start : start + _CHUNK]
            block = buf[:, : part.shape[1]]
            np.multiply(self._a_col, part, out=block)
            block += self._b_col  # wraps: mod 2**32
            np.minimum(sig, block.min(axis=1), out=sig)
        return sig


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the shingle sets behind two signatures."""
    return float(np.count_nonzero(a == b)) / len(a)


def sign_article(
    signer: Signer, index: NearDuplicateIndex, text: str | None
) -> tuple[np.ndarray | None, Paragraphs]:
    """The signature of ``text`` without the paragraphs ``index`` knows as site furniture,
    and the text's paragraphs (all of them: they are stored and tracked)."""
    parsed = paragraphs(text)
    return signer.sign_words(parsed.all_words(skip=index.boilerplate(parsed.hashes))), parsed
