"""The event index's packed store of each article's whole: the term ids and tf weights that
every candidate look-up scores (:class:`crawler.events.EventIndex`), in flat arrays."""

from __future__ import annotations

import numpy as np

# Dead entries are reclaimed when there are this many and more than live ones.
COMPACT_MIN = 1 << 16


class Packed:
    """Each indexed article's whole ("all": the ids and tf weights every look-up scores),
    packed one after another in two arrays, with its place and time in arrays indexed by
    article id (from ``base``): a look-up gathers its candidates' terms with one index
    instead of reading sixteen objects scattered over memory (at 50,000 articles that
    reading was a third of a look-up)."""

    def __init__(self) -> None:
        self.ids = np.zeros(1 << 14, np.int32)
        self.tf = np.zeros(1 << 14, np.float32)
        self.used = 0  # entries written
        self.dead = 0  # entries of articles gone
        self.base = 0  # the article id of slot 0 below
        self.start = np.zeros(0, np.int64)  # article id - base -> its first entry
        self.size = np.zeros(0, np.int32)  # -> its number of entries (0: not indexed)
        self.time = np.zeros(0, np.float64)  # -> its time
        self.count = 0  # articles indexed
        self.compacted = 0  # slots left by the last compaction

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.ids, self.tf, self.start, self.size, self.time))

    def put(self, key: int, ids: np.ndarray, tf: np.ndarray, at: float) -> None:
        """Keep article ``key``'s whole (replacing what it had) and its time ``at``."""
        n = len(ids)
        if self.used + n > len(self.ids):
            grow = max(2 * len(self.ids), self.used + n)
            self.ids = _grown(self.ids, grow)
            self.tf = _grown(self.tf, grow)
        self.ids[self.used : self.used + n] = ids
        self.tf[self.used : self.used + n] = tf
        slot = self._slot(key)
        if self.size[slot] == 0:
            self.count += 1
        self.start[slot], self.size[slot], self.time[slot] = self.used, n, at
        self.used += n

    def whole(self, key: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Article ``key``'s whole as it was put (views: not to be written), or None."""
        slot = key - self.base
        if not 0 <= slot < len(self.size):
            return None
        n = int(self.size[slot])
        if not n:
            return None
        start = int(self.start[slot])
        return self.ids[start : start + n], self.tf[start : start + n]

    def drop(self, key: int) -> None:
        """Forget article ``key`` (its entries are reclaimed once the dead outweigh the
        live)."""
        slot = key - self.base
        if 0 <= slot < len(self.size) and self.size[slot]:
            self.dead += int(self.size[slot])
            self.size[slot] = 0
            self.count -= 1
        # Also when the slots (one per archive id from the first live article on) far
        # outnumber the articles: a language with one article in 20,000 ids would otherwise
        # keep a slot for every id since it was last compacted. At most once per doubling.
        sparse = len(self.size) > max(4 * self.count + 4096, 2 * self.compacted)
        if sparse or self.dead > max(COMPACT_MIN, self.used - self.dead):
            self._compact()

    def _slot(self, key: int) -> int:
        if not len(self.size):
            self.base = key
        elif key < self.base:  # an older article than any (a rebuild's order): shift
            extra = self.base - key
            self.start = np.concatenate([np.zeros(extra, np.int64), self.start])
            self.size = np.concatenate([np.zeros(extra, np.int32), self.size])
            self.time = np.concatenate([np.zeros(extra, np.float64), self.time])
            self.base = key
        slot = key - self.base
        if slot >= len(self.size):
            grow = max(2 * len(self.size), slot + 1, 1024)
            self.start = _grown(self.start, grow)
            self.size = _grown(self.size, grow)
            self.time = _grown(self.time, grow)
        return slot

    def _compact(self) -> None:
        # the live entries moved to the front, in slot order; slots before the first live
        # article are dropped
        live = np.flatnonzero(self.size)
        first = int(live[0]) if len(live) else len(self.size)
        sizes = self.size[live]
        at = _ranges(self.start[live], sizes)
        self.ids = _grown(self.ids[at], max(1 << 14, 2 * len(at)))
        self.tf = _grown(self.tf[at], max(1 << 14, 2 * len(at)))
        self.used, self.dead = len(at), 0
        self.start[live] = np.cumsum(sizes) - sizes
        self.base += first
        end = int(live[-1]) + 1 if len(live) else first  # and the empty slots after the last
        self.start, self.size, self.time = (
            a[first:end].copy() for a in (self.start, self.size, self.time)
        )
        self.compacted = end - first

    def gather(
        self, keys: np.ndarray, at: float, window: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Of these article ids (in order), those indexed and within ``window`` of ``at``:
        their ids, and their wholes' term ids, tf weights and where each starts in them."""
        slots = keys.astype(np.int64) - self.base
        slots = slots[(slots >= 0) & (slots < len(self.size))]
        sizes = self.size[slots]
        ok = (sizes > 0) & (np.abs(self.time[slots] - at) <= window)
        slots, sizes = slots[ok], sizes[ok]
        # _ranges(self.start[slots], sizes), with the starts in the result kept
        ends = sizes.cumsum()  # (methods: numpy's function wrappers cost a call more)
        starts = ends - sizes
        at_ = np.arange(int(ends[-1]) if len(ends) else 0) + (self.start[slots] - starts).repeat(
            sizes
        )
        return slots + self.base, self.ids[at_], self.tf[at_], starts, sizes


def _grown(a: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size, a.dtype)
    out[: len(a)] = a
    return out


def _ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The concatenation of range(start, start + size) for each pair."""
    ends = np.cumsum(sizes)
    return np.arange(int(ends[-1]) if len(ends) else 0) + np.repeat(starts - (ends - sizes), sizes)
