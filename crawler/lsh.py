"""LSH for the near-duplicate index: the band shape for a threshold, and the hash table that
holds the band keys (and, in :mod:`crawler.neardup`, paragraph hashes).

datasketch's ``MinHashLSH`` keeps a dict of sets of bytes per band; with its signatures as
``LeanMinHash`` objects, 100,000 articles took 1.4 GB and 18 s to load. Here every key is a
32-bit tag in a bucket of a numpy array (about 15 bytes a key, 64 keys an article), and the
keys of all bands of a signature are looked up at once.
"""

from __future__ import annotations

import sys

import numpy as np

# How likely an LSH look-up must be to propose an article whose similarity is exactly the
# threshold (:func:`lsh_rows` picks the band shape from it; more similar ones are likelier).
LSH_RECALL = 0.98

_M64 = np.uint64(0x9E3779B97F4A7C15)
_SHIFT, _ONE = np.uint64(32), np.uint32(1)
# where a uint64's high 32 bits sit when it is read as two uint32s (None: read by shifting)
_HIGH_HALF = {"little": 1, "big": 0}.get(sys.byteorder)


def lsh_rows(threshold: float, num_perm: int, recall: float = LSH_RECALL) -> int:
    """Rows per LSH band: the most (fewest chance candidates) that still propose a pair of
    estimated similarity ``threshold`` with probability ``recall``, using ``num_perm // rows``
    bands. 0.3 with 128 permutations gives 64 bands of 2 rows: a pair is proposed with
    probability 0.998 at 0.3, 0.93 at 0.2 and 0.47 at 0.1. (datasketch's own choice for 0.3,
    37 bands of 3 rows, weighs misses and chance candidates alike: 0.64 at 0.3.)"""
    best = 1
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if 1 - (1 - threshold**rows) ** bands >= recall:
            best = rows
    return best


def band_salt(bands: int) -> np.ndarray:
    """A fixed random odd salt per band, so equal values in different bands give other keys."""
    rng = np.random.default_rng(0x5EED)
    return rng.integers(0, 2**63, bands, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def band_keys(sigs: np.ndarray, rows: int, salt: np.ndarray) -> np.ndarray:
    """(n, num_perm) uint32 signatures -> (n, bands) uint64 keys: each band's ``rows``
    values mixed into one hash (multiply and xor-shift, which spreads them over all bits)."""
    n, bands = len(sigs), len(salt)
    v = sigs[:, : bands * rows].reshape(n, bands, rows).astype(np.uint64)
    h = salt  # broadcast over the signatures by the first xor (np.broadcast_to cost more)
    for j in range(rows):
        h = (h ^ v[:, :, j]) * _M64
        h ^= h >> np.uint64(29)
    return h


def _flat(a: np.ndarray) -> bool:
    return a.ndim == 1 and a.flags.c_contiguous


class BucketTable:
    """uint64 hash -> row, several rows per hash: an open hash table of 16-slot buckets.

    A bucket's sixteen 32-bit tags (the hash's high half) fill one 64-byte cache line, so
    looking up the 64 band keys of a signature is one numpy gather and one compare. Entries
    of a full bucket spill into a dict. The table never grows or forgets by itself: its owner
    builds a new one, from what it keeps anyway, when :meth:`full` says so.
    """

    SLOTS = 16
    LOAD = 0.75  # full when this share of the slots is in use

    def __init__(self, entries: int = 0):
        """An empty table sized so that ``entries`` fill two thirds of what it takes."""
        self._nb = max(64, int(entries / (self.LOAD * 2 / 3) / self.SLOTS) + 1)
        self._tags = np.zeros((self._nb, self.SLOTS), dtype=np.uint32)  # 0: empty slot
        self._rows = np.zeros((self._nb, self.SLOTS), dtype=np.int32)
        self._fill = np.zeros(self._nb, dtype=np.uint8)
        # flat views: one index (bucket * SLOTS + slot) is cheaper than two
        self._tags_flat, self._rows_flat = self._tags.reshape(-1), self._rows.reshape(-1)
        self._nb64 = np.uint64(self._nb)
        self._spill: dict[int, list[int]] = {}
        self._count = 0
        self._last_place: tuple = (None, None)

    @property
    def nbytes(self) -> int:
        return self._tags.nbytes + self._rows.nbytes + self._fill.nbytes + 100 * len(self._spill)

    def full(self, extra: int) -> bool:
        return self._count + extra > self.LOAD * self._nb * self.SLOTS

    def add(self, hashes: np.ndarray, row: int) -> None:
        self._put(hashes, np.full(len(hashes), row, dtype=np.int32))

    def extend(self, hashes: np.ndarray, rows: np.ndarray) -> None:
        """File many entries at once (a rebuild): ``rows[i]`` under ``hashes[i]``."""
        # in slices: sorting millions of entries at once would need as much memory again
        step = 1 << 16  # (larger slices sort no faster and hold more memory while loading)
        self._count += len(hashes)
        for start in range(0, len(hashes), step):
            self._put_many(hashes[start : start + step], rows[start : start + step])

    def get(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(i, row) for every row filed under ``hashes[i]``. Another hash with the same
        bucket and 31-bit tag matches too (for a 64-band signature, about one look-up in
        three million): callers verify what they get."""
        bucket, tag = self._place(hashes)
        tags = self._tags[bucket]
        i, slot = (tags == tag[:, None]).nonzero()
        rows = self._rows[bucket[i], slot].astype(np.int64)
        if self._spill:  # only a full bucket spills
            # slots fill in order and are never emptied: a bucket is full when its last is
            full = tags[:, -1].nonzero()[0].tolist()
            keys = hashes[full].tolist()
            spill = self._spill
            extra = [(j, r) for j, k in zip(full, keys, strict=True) for r in spill.get(k, ())]
            if extra:
                ej, er = zip(*extra, strict=True)
                i = np.concatenate([i, np.array(ej, dtype=np.intp)])
                rows = np.concatenate([rows, np.array(er, dtype=np.int64)])
        return i, rows

    def _place(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # remembered for the last hashes: an article's keys are looked up, then filed
        last, place = self._last_place
        if hashes is not last:
            bucket = (hashes % self._nb64).astype(np.intp)
            if _HIGH_HALF is not None and hashes.dtype == np.uint64 and _flat(hashes):
                # the high halves read in place (a view): a shift and a cast less
                tag = hashes.view(np.uint32)[_HIGH_HALF::2] | _ONE
            else:
                tag = (hashes >> _SHIFT).astype(np.uint32) | _ONE
            place = (bucket, tag)
            self._last_place = (hashes, place)
        return place

    def _put(self, hashes: np.ndarray, rows: np.ndarray) -> None:
        bucket, tag = self._place(hashes)
        self._count += len(hashes)
        sorted_buckets = np.sort(bucket)
        if not (sorted_buckets[1:] == sorted_buckets[:-1]).any():
            # the usual case for one article's keys: distinct buckets. A few of its 64 keys
            # often land in a full bucket (at 3/4 load some buckets are full): they spill.
            slot = self._fill[bucket].astype(np.intp)
            fit = slot < self.SLOTS
            if not fit.all():
                self._spill_out(hashes[~fit], rows[~fit])
                bucket, tag, rows, slot = bucket[fit], tag[fit], rows[fit], slot[fit]
            at = bucket * self.SLOTS + slot
            self._tags_flat[at] = tag
            self._rows_flat[at] = rows
            self._fill[bucket] += 1
            return
        self._put_many(hashes, rows)

    def _put_many(self, hashes: np.ndarray, rows: np.ndarray) -> None:
        """File entries some of which share a bucket: sorted by bucket, each takes the
        bucket's next free slot after those of the entries before it. (Which entry of a
        bucket gets which slot does not matter: ``get`` returns them all.)"""
        bucket, tag = self._place(hashes)
        order = np.argsort(bucket)  # not stable: the order within a bucket is free
        bucket = bucket[order]
        # slot = the bucket's fill + rank among the new entries for the same bucket
        starts = np.flatnonzero(np.concatenate(([True], bucket[1:] != bucket[:-1])))
        counts = np.diff(np.append(starts, len(bucket)))
        rank = np.arange(len(bucket)) - np.repeat(starts, counts)
        first = bucket[starts]
        slot = np.repeat(self._fill[first].astype(np.intp), counts) + rank
        fit = slot < self.SLOTS
        at = bucket * self.SLOTS + slot
        if fit.all():
            self._tags_flat[at] = tag[order]
            self._rows_flat[at] = rows[order]
        else:
            kept = order[fit]
            self._tags_flat[at[fit]] = tag[kept]
            self._rows_flat[at[fit]] = rows[kept]
            lost = order[~fit]
            self._spill_out(hashes[lost], rows[lost])
        # the buckets in ``first`` are distinct: a plain fancy assignment adds once each
        self._fill[first] = np.minimum(self._fill[first] + counts, self.SLOTS)

    def _spill_out(self, hashes: np.ndarray, rows: np.ndarray) -> None:
        for h, r in zip(hashes.tolist(), rows.tolist(), strict=True):
            self._spill.setdefault(h, []).append(r)
