"""Dedupe primitives: text normalization, fingerprints, paragraphs, MinHash signatures, and
their storage in the ``minhashes`` table.

Two levels of sameness:

* a **fingerprint** (SHA-1 of the normalized title and text) says "the same words": a copy;
* a **MinHash signature** over word shingles of the normalized text says "mostly the same
  words": a reprint with other furniture, trimmed paragraphs or a new headline. Paragraphs
  that several stories share (site furniture, see :mod:`crawler.neardup`) are left out of
  it. Signatures go into a :class:`NearDuplicateIndex` and are stored in ``minhashes`` with
  the article's paragraph hashes, so a new process loads them instead of re-hashing.

Story bookkeeping (which article joins which story) lives in :mod:`crawler.stories`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from sqlite_utils import Database

from crawler.neardup import FURNITURE_SOURCE_ARTICLES, FURNITURE_STORIES, NearDuplicateIndex

__all__ = [
    "NearDuplicateIndex",
    "Paragraphs",
    "Signer",
    "fingerprint",
    "load_index",
    "normalize",
    "paragraphs",
    "permutations",
    "save_signatures",
    "shingle_hashes",
    "sign_article",
    "similarity",
    "to_blob",
    "tokens",
]

SCHEME = "affine32"
SEED = 1
# Fewer words than this and a text says too little to call it a reprint of another (a bare
# headline, "Read more..."): such articles are matched by fingerprint only.
MIN_TOKENS = 20

_WORD = re.compile(r"\w+")
# Odd multipliers that mix three token hashes into one shingle hash (order matters).
_MIX = (np.uint32(0x9E3779B1), np.uint32(0x85EBCA77), np.uint32(0xC2B2AE3D))
# MurmurHash3's 32-bit finalizer, as datasketch's affine32 scheme applies it.
_FMIX = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35))
_MAX32 = np.uint32(0xFFFFFFFF)
_CHUNK = 2048  # shingles per (shingles x permutations) block: bounds memory on long texts


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
    lines = unicodedata.normalize("NFKC", text).casefold().splitlines() if text else []
    words = [w for w in map(_WORD.findall, lines) if w]
    hashes = np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(" ".join(w).encode(), digest_size=8).digest(), "little")
            for w in words
        ),
        dtype=np.uint64,
        count=len(words),
    )
    return Paragraphs(words, hashes)


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


def shingle_hashes(words: list[str], size: int) -> np.ndarray:
    """32-bit hashes of the ``size``-word shingles of ``words``, in text order (a shingle that
    occurs twice is there twice; a text shorter than ``size`` gives its word hashes).

    Each word is hashed once (CRC-32, stable across processes, unlike ``hash()``) and the
    shingle hash mixes its words' hashes, which is about 5x faster than hashing each
    shingle's text.
    """
    h = np.fromiter(map(zlib.crc32, map(str.encode, words)), dtype=np.uint32, count=len(words))
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

    def sign(self, text: str | None) -> np.ndarray | None:
        """The signature of all of ``text``, or None when it has fewer than MIN_TOKENS words."""
        return self.sign_words(tokens(text))

    def sign_words(self, words: list[str]) -> np.ndarray | None:
        """The signature of these normalized words (None for fewer than MIN_TOKENS)."""
        if len(words) < MIN_TOKENS:
            return None
        h = shingle_hashes(words, self.shingle_size)
        s1, m1, s2, m2 = _FMIX
        h = h ^ (h >> s1)
        h = h * m1
        h ^= h >> s2
        h = h * m2
        h ^= h >> s1
        h = h[:, None]
        sig = np.full(self.num_perm, _MAX32, dtype=np.uint32)
        for start in range(0, len(h), _CHUNK):
            block = h[start : start + _CHUNK] * self._a + self._b  # wraps: mod 2**32
            np.minimum(sig, block.min(axis=0), out=sig)
        return sig

    def from_blob(self, blob: bytes) -> np.ndarray:
        """A signature stored by :func:`to_blob`."""
        return np.frombuffer(blob, dtype=np.uint32)


def to_blob(sig: np.ndarray) -> bytes:
    """A signature's hash values as bytes (uint32, native order) for the ``minhashes`` table."""
    return np.asarray(sig, dtype=np.uint32).tobytes()


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


# --------------------------------------------------------------------------- persistence


def save_signatures(db: Database, signer: Signer, rows: Iterable[tuple]) -> None:
    """Store ``(article_id, seen_at, signature or None, paragraph hashes)`` rows in
    ``minhashes`` (the paragraph hashes may be left out; each is stored once).

    A None signature is stored too (as NULL), meaning "signed: too short to index", so
    that loading does not sign the same short article again.
    """
    db.conn.executemany(
        "INSERT OR REPLACE INTO minhashes (article_id, params, seen_at, sig, paragraphs)"
        " VALUES (?, ?, ?, ?, ?)",
        [
            (
                r[0],
                signer.params,
                r[1],
                None if r[2] is None else to_blob(r[2]),
                np.unique(np.asarray(r[3], dtype=np.uint64)).tobytes() if len(r) > 3 else None,
            )
            for r in rows
        ],
    )


def _stored(db: Database, signer: Signer, since: str) -> tuple:
    """The stored signatures since ``since``, as the arguments of ``NearDuplicateIndex.load``.

    They go straight into preallocated arrays: holding 100k rows of blobs first would double
    the memory a load needs.
    """
    where = " WHERE m.params = ? AND m.seen_at >= ?"
    n = db.execute("SELECT count(*) FROM minhashes m" + where, [signer.params, since]).fetchone()[0]
    keys = np.empty(n, dtype=np.int64)
    stories = np.empty(n, dtype=np.int64)
    sigs = np.zeros((n, signer.num_perm), dtype=np.uint32)
    signed = np.zeros(n, dtype=bool)
    counts = np.zeros(n, dtype=np.int64)
    seen: list[str] = []
    sources: list[str] = []
    names: dict[str, str] = {}
    paras = bytearray()
    cur = db.execute(
        "SELECT m.article_id, m.seen_at, m.sig, m.paragraphs, a.story_id, a.source"
        " FROM minhashes m JOIN articles a ON a.id = m.article_id"
        + where
        + " ORDER BY m.seen_at, m.article_id",
        [signer.params, since],
    )
    for i, (aid, seen_at, sig, para, story, source) in enumerate(cur):
        keys[i] = aid
        # an article without a story (its assignment failed) counts as a story of its own
        stories[i] = -aid if story is None else story
        if sig is not None:
            sigs[i] = np.frombuffer(sig, dtype=np.uint32)
            signed[i] = True
        seen.append(seen_at)
        sources.append(names.setdefault(source, source))
        if para:
            paras += para
            counts[i] = len(para) // 8
    hashes = np.frombuffer(paras, dtype=np.uint64).copy()
    return keys, seen, stories, sources, sigs, signed, hashes, np.repeat(np.arange(n), counts)


def load_index(
    db: Database, signer: Signer, *, threshold: float, since: str, batch: int = 2000
) -> NearDuplicateIndex:
    """The index of every article first seen at or after ``since``.

    Stored signatures with the signer's parameters are loaded in one pass (one numpy matrix,
    the LSH table built in bulk, site furniture recounted from the stored paragraph hashes);
    articles in the window without one (stored before this table
    existed, or under other parameters) are signed now and their signatures stored, so the
    next load is cheap. Call it inside a write transaction when signatures may be missing.
    """
    index = NearDuplicateIndex(threshold=threshold, num_perm=signer.num_perm)
    # One read transaction: the count and the rows must agree.
    snapshot = not db.conn.in_transaction
    if snapshot:
        db.execute("BEGIN")
    try:
        index.load(*_stored(db, signer, since))
    finally:
        if snapshot:
            db.execute("COMMIT")
    missing = [
        r[0]
        for r in db.execute(
            "SELECT a.id FROM articles a"
            " LEFT JOIN minhashes m ON m.article_id = a.id AND m.params = ?"
            " WHERE a.fetched_at >= ? AND m.article_id IS NULL ORDER BY a.fetched_at, a.id",
            [signer.params, since],
        ).fetchall()
    ]
    for start in range(0, len(missing), batch):
        ids = missing[start : start + batch]
        rows = db.execute(
            "SELECT id, fetched_at, text, summary, story_id, source FROM articles"
            f" WHERE id IN ({','.join('?' * len(ids))}) ORDER BY fetched_at, id",
            ids,
        ).fetchall()
        signed_rows = []
        for aid, seen_at, text, summary, story, source in rows:
            sig, parsed = sign_article(signer, index, text or summary)
            signed_rows.append((aid, seen_at, sig, parsed.hashes))
            index.add(aid, sig, seen_at, story=story, source=source, paragraphs=parsed.hashes)
        save_signatures(db, signer, signed_rows)
    return index
