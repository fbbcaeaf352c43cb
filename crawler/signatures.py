"""Signature storage and index loading: MinHash signatures and paragraph hashes in the
``minhashes`` table, and the near-duplicate index built from them.

A new process loads the stored signatures of the window instead of re-hashing every text;
articles without one (stored before the table existed, or signed under other parameters)
are signed at load time and their signatures stored.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sqlite_utils import Database

from crawler.minhash import Signer, sign_article
from crawler.neardup import NearDuplicateIndex


def to_blob(sig: np.ndarray) -> bytes:
    """A signature's hash values as bytes (uint32, native order) for the ``minhashes`` table."""
    return np.asarray(sig, dtype=np.uint32).tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    """A signature stored by :func:`to_blob`."""
    return np.frombuffer(blob, dtype=np.uint32)


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


def save_signature(
    db: Database,
    signer: Signer,
    article_id: int,
    seen_at: str,
    sig: np.ndarray | None,
    paragraphs: np.ndarray,
) -> None:
    """:func:`save_signatures` of one article (one execute: the story assigner stores one
    after each new article)."""
    db.conn.execute(
        "INSERT OR REPLACE INTO minhashes (article_id, params, seen_at, sig, paragraphs)"
        " VALUES (?, ?, ?, ?, ?)",
        [
            article_id,
            signer.params,
            seen_at,
            None if sig is None else to_blob(sig),
            np.unique(paragraphs.astype(np.uint64, copy=False)).tobytes(),
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
            sigs[i] = from_blob(sig)
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
