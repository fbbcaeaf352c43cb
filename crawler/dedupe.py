"""Dedupe primitives: text normalization, fingerprints, MinHash signatures and the LSH index.

Two levels of sameness:

* a **fingerprint** (SHA-1 of the normalized title and text) says "the same words": a copy;
* a **MinHash signature** over word shingles of the normalized text says "mostly the same
  words": a reprint with other furniture, trimmed paragraphs or a new headline. Signatures
  go into a :class:`NearDuplicateIndex` (datasketch ``MinHashLSH``) and are stored in the
  ``minhashes`` table, so a new process loads them instead of re-hashing the archive.

Story bookkeeping (which article joins which story) lives in :mod:`crawler.stories`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections import deque
from collections.abc import Iterable

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH
from sqlite_utils import Database

SCHEME = "affine32"
SEED = 1
# Fewer words than this and a text says too little to call it a reprint of another (a bare
# headline, "Read more..."): such articles are matched by fingerprint only.
MIN_TOKENS = 20

_WORD = re.compile(r"\w+")
# Odd multipliers that mix three token hashes into one shingle hash (order matters).
_MIX = (np.uint32(0x9E3779B1), np.uint32(0x85EBCA77), np.uint32(0xC2B2AE3D))


def tokens(text: str | None) -> list[str]:
    """The words of ``text``, Unicode-normalized (NFKC) and case-folded; punctuation dropped."""
    if not text:
        return []
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def normalize(text: str | None) -> str:
    """``text`` as its normalized words joined by single spaces."""
    return " ".join(tokens(text))


def fingerprint(title: str | None, text: str | None) -> str | None:
    """SHA-1 (hex) of the normalized title and text; None when both are empty.

    Two articles with the same fingerprint carry the same words whatever their markup,
    spacing, case or punctuation: the second is a copy of the first.
    """
    t, b = normalize(title), normalize(text)
    if not (t or b):
        return None
    return hashlib.sha1(f"{t}\x1f{b}".encode()).hexdigest()


def shingle_hashes(words: list[str], size: int) -> np.ndarray:
    """Distinct 32-bit hashes of the ``size``-word shingles of ``words``.

    Each word is hashed once (CRC-32, stable across processes, unlike ``hash()``) and the
    shingle hash mixes its words' hashes, which is about 5x faster than hashing each
    shingle's text.
    """
    h = np.fromiter((zlib.crc32(w.encode()) for w in words), dtype=np.uint32, count=len(words))
    if len(h) < size:
        return np.unique(h) if len(h) else h
    n = len(h) - size + 1
    out = np.zeros(n, dtype=np.uint32)
    for i in range(size):
        out ^= h[i : i + n] * _MIX[i % len(_MIX)] + np.uint32(i)
    return np.unique(out)


class Signer:
    """Turns a text into a MinHash signature with fixed parameters.

    ``params`` names the parameters; a stored signature is only reused when they match.
    """

    def __init__(self, *, num_perm: int = 128, shingle_size: int = 3):
        self.num_perm = num_perm
        self.shingle_size = shingle_size
        self.params = f"{SCHEME}-s{SEED}-p{num_perm}-k{shingle_size}"
        self._perms = MinHash(num_perm=num_perm, seed=SEED, scheme=SCHEME).permutations

    def sign(self, text: str | None) -> LeanMinHash | None:
        """The signature of ``text``, or None when it has fewer than MIN_TOKENS words."""
        words = tokens(text)
        if len(words) < MIN_TOKENS:
            return None
        m = MinHash(
            num_perm=self.num_perm,
            seed=SEED,
            permutations=self._perms,
            scheme=SCHEME,
            hashfunc=int,
        )
        m.update_batch(shingle_hashes(words, self.shingle_size))
        return LeanMinHash(m)

    def from_blob(self, blob: bytes) -> LeanMinHash:
        """A signature stored by :func:`to_blob`."""
        values = np.frombuffer(blob, dtype=np.uint32)
        return LeanMinHash(seed=SEED, hashvalues=values, scheme=SCHEME)


def to_blob(sig: LeanMinHash) -> bytes:
    """A signature's hash values as bytes (uint32, native order) for the ``minhashes`` table."""
    return np.asarray(sig.hashvalues, dtype=np.uint32).tobytes()


def similarity(a: LeanMinHash, b: LeanMinHash) -> float:
    """Estimated Jaccard similarity of the shingle sets behind two signatures."""
    return float(np.count_nonzero(a.hashvalues == b.hashvalues)) / len(a.hashvalues)


class NearDuplicateIndex:
    """An in-memory LSH index of signatures keyed by article id, with a time window.

    ``query`` verifies LSH candidates against the stored signatures, so only articles whose
    estimated similarity reaches the threshold come back. ``expire`` drops entries seen
    before a cut-off (entries must be added in roughly increasing ``seen_at`` order).
    """

    def __init__(self, *, threshold: float, num_perm: int):
        self.threshold = threshold
        # The LSH only proposes candidates (each is verified against ``threshold``); above
        # 0.8 datasketch would pick a single band, which it refuses.
        self.lsh = MinHashLSH(threshold=min(threshold, 0.8), num_perm=num_perm)
        self.sigs: dict[int, LeanMinHash] = {}
        self._order: deque[tuple[str, int]] = deque()

    def __len__(self) -> int:
        return len(self.sigs)

    def __contains__(self, key: int) -> bool:
        return key in self.sigs

    def add(self, key: int, sig: LeanMinHash, seen_at: str = "") -> None:
        """Index ``sig`` under ``key``, replacing what ``key`` had."""
        if key in self.sigs:
            self.remove(key)
        self.lsh.insert(key, sig, check_duplication=False)
        self.sigs[key] = sig
        self._order.append((seen_at, key))

    def remove(self, key: int) -> None:
        """Forget ``key`` (no error if it is not indexed)."""
        if self.sigs.pop(key, None) is not None:
            self.lsh.remove(key)

    def query(self, sig: LeanMinHash) -> list[tuple[float, int]]:
        """(similarity, key) of indexed signatures at or above the threshold, best first;
        ties go to the earliest key."""
        hits = []
        for key in self.lsh.query(sig):
            s = similarity(sig, self.sigs[key])
            if s >= self.threshold:
                hits.append((s, key))
        hits.sort(key=lambda h: (-h[0], h[1]))
        return hits

    def expire(self, before: str) -> int:
        """Drop entries seen before ``before`` (ISO 8601 UTC); returns how many."""
        dropped = 0
        while self._order and self._order[0][0] < before:
            _, key = self._order.popleft()
            if key in self.sigs:
                self.remove(key)
                dropped += 1
        return dropped


# --------------------------------------------------------------------------- persistence


def save_signatures(db: Database, signer: Signer, rows: Iterable[tuple]) -> None:
    """Store ``(article_id, seen_at, signature or None)`` rows in ``minhashes``.

    A None signature is stored too (as NULL), meaning "signed: too short to index", so
    that loading does not sign the same short article again.
    """
    db.conn.executemany(
        "INSERT OR REPLACE INTO minhashes (article_id, params, seen_at, sig) VALUES (?, ?, ?, ?)",
        [(aid, signer.params, seen, None if s is None else to_blob(s)) for aid, seen, s in rows],
    )


def load_index(
    db: Database, signer: Signer, *, threshold: float, since: str, batch: int = 2000
) -> NearDuplicateIndex:
    """The index of every article first seen at or after ``since``.

    Stored signatures with the signer's parameters are loaded; articles in the window
    without one (stored before this table existed, or under other parameters) are signed
    now and their signatures stored, so the next load is cheap. Call it inside a write
    transaction when signatures may be missing.
    """
    index = NearDuplicateIndex(threshold=threshold, num_perm=signer.num_perm)
    cur = db.execute(
        "SELECT article_id, seen_at, sig FROM minhashes"
        " WHERE params = ? AND seen_at >= ? AND sig IS NOT NULL ORDER BY seen_at, article_id",
        [signer.params, since],
    )
    for aid, seen, blob in cur:
        index.add(aid, signer.from_blob(blob), seen)
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
            "SELECT id, fetched_at, text, summary FROM articles"
            f" WHERE id IN ({','.join('?' * len(ids))}) ORDER BY fetched_at, id",
            ids,
        ).fetchall()
        signed = [(aid, seen, signer.sign(text or summary)) for aid, seen, text, summary in rows]
        save_signatures(db, signer, signed)
        for aid, seen, sig in signed:
            if sig is not None:
                index.add(aid, sig, seen)
    return index
