"""The event index's tables: the term vocabulary (term -> id, which ids are numbers and
years) and, per language, the indexed articles with their document frequencies and
postings (:class:`crawler.events.EventIndex` scores and decides with them)."""

from __future__ import annotations

import re
from array import array
from collections import Counter
from itertools import repeat

import numpy as np

from crawler.event_pack import Packed
from crawler.event_terms import Vectors

_YEAR = re.compile(r"#(19|20)\d\d")
_ROWS = np.arange(3)


class Doc:
    """One indexed article."""

    __slots__ = ("key", "event", "at", "vectors")

    def __init__(self, key: int, event: int, at: float, vectors: Vectors):
        self.key = key  # article id
        self.event = event  # story id
        self.at = at  # publication (else first-seen) time, seconds since the epoch
        self.vectors = vectors


class Language:
    """The articles of one language: document frequencies and postings."""

    def __init__(self) -> None:
        self.df = np.zeros(1024, np.int32)
        # log(df + 1) per term, kept up to date by count(): a look-up gathers, never logs
        self.log_df = np.zeros(1024, np.float32)
        self.docs: dict[int, Doc] = {}
        self.postings: dict[int, array] = {}
        self.packed = Packed()
        self._top: tuple[int, np.float32] = (-1, np.float32(0.0))
        self.counted = 0  # count() calls so far: the frequencies changed when this did

    def idf(self, ids: np.ndarray) -> np.ndarray:
        """Smoothed idf, never below 1 (with a handful of articles every word is "rare"):
        log((N + 1) / (df + 1)) + 1."""
        top = self.top()
        if len(self.log_df) > ids.max(initial=-1):
            return top - self.log_df[ids]
        out = np.full(len(ids), top, np.float32)
        known = ids < len(self.log_df)
        out[known] -= self.log_df[ids[known]]
        return out

    def top(self) -> np.float32:
        """The idf of a term no article has: log(N + 1) + 1."""
        n = len(self.docs)
        if self._top[0] != n:  # several look-ups a new article: computed once for each N
            self._top = (n, np.float32(np.log(n + 1) + 1.0))
        return self._top[1]

    def df_of(self, ids: np.ndarray) -> np.ndarray:
        """The document frequency of each of these term ids."""
        out = np.zeros(len(ids), np.int32)
        known = ids < len(self.df)
        out[known] = self.df[ids[known]]
        return out

    def count(self, ids: np.ndarray, delta: int) -> None:
        """Count an article's (unique) term ids in (``delta`` 1) or out (-1)."""
        self.counted += 1
        if len(ids) and ids.max() >= len(self.df):
            size = max(2 * len(self.df), int(ids.max()) + 1)
            grown = np.zeros(size, np.int32)
            grown[: len(self.df)] = self.df
            self.df = grown
            log_df = np.zeros(size, np.float32)
            log_df[: len(self.log_df)] = self.log_df
            self.log_df = log_df
        df = self.df[ids] + delta  # the ids are unique: one gather, two scatters
        self.df[ids] = df
        self.log_df[ids] = np.log1p(df.astype(np.float32))


class Vocabulary:
    """Term -> id, for every language alike; ids are given in the order terms first come,
    and never taken back. Which ids are numbers (``#`` terms) and years is noted once."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self._numeric = np.zeros(4096, np.int8)  # term id -> 0 a word, 1 a number, 2 a year
        self._numbers: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # see numbers()

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def nbytes(self) -> int:
        """About what the term table holds, in bytes."""
        return 90 * len(self.ids)

    def vectors(self, head: Counter, lead: Counter, body: Counter | None = None) -> Vectors:
        """An article's vectors from the term counts of its headline, its lead and the body
        after the lead (new terms get their ids)."""
        vocab = self.ids
        parts = (head, lead, body or {})
        terms = [*head, *lead, *parts[2]]  # a term once per part
        every = np.fromiter(map(vocab.get, terms, repeat(-1)), np.int64, len(terms))
        if every.min(initial=0) < 0:
            missing = (every < 0).nonzero()[0]
            new = [terms[i] for i in missing.tolist()]
            self._learn(new)
            every[missing] = [vocab[t] for t in new]
        ids = np.sort(every)
        if len(ids) > 1:  # a term of several parts once
            ids = ids[np.concatenate(([True], ids[1:] != ids[:-1]))]
        counts = np.zeros((3, len(ids)), np.uint8)
        rows = np.repeat(_ROWS, [len(p) for p in parts])
        values = np.array([*head.values(), *lead.values(), *parts[2].values()], np.int64)
        counts[rows, ids.searchsorted(every)] = np.minimum(values, 255)
        return Vectors(ids.astype(np.int32), counts)

    def _learn(self, terms: list[str]) -> None:
        """Give new terms the next ids, in the order they first appear, and note which are
        numbers (a known term was noted when it was new)."""
        vocab = self.ids
        new = list(dict.fromkeys(terms))
        start = len(vocab)
        vocab.update(zip(new, range(start, start + len(new)), strict=True))
        if len(vocab) > len(self._numeric):
            grown = np.zeros(max(len(vocab), 2 * len(self._numeric)), np.int8)
            grown[: len(self._numeric)] = self._numeric
            self._numeric = grown
        for i, t in enumerate(new):
            if t[0] == "#":
                self._numeric[start + i] = 2 if _YEAR.fullmatch(t) else 1

    def numbers(self, ids: np.ndarray) -> np.ndarray:
        """Those of these term ids that are numbers (``#`` terms); read-only. A term's kind
        never changes, so the last few answers are remembered (an article's numbers are
        asked for once or twice per story it is compared with)."""
        hit = self._numbers.get(id(ids))
        if hit is not None and hit[0] is ids:
            return hit[1]
        out = ids[self._numeric[ids] > 0]
        out.flags.writeable = False
        if len(self._numbers) >= 16:
            self._numbers.clear()
        self._numbers[id(ids)] = (ids, out)  # ids held: its id stays its own
        return out

    def years(self, ids: np.ndarray) -> np.ndarray:
        """Which of these number term ids are years (1900-2099)."""
        return self._numeric[ids] == 2
