"""Events across languages: the index of recent articles of every language that an
article's :class:`crawler.event_names.Features` are looked up in.

Two articles are compared by the cosine of their tf-idf vectors over those terms, each kind
weighted by ``KIND_WEIGHTS``; document frequencies are counted over the index (all
languages), so a name every article gives weighs nothing. Only articles of another language
published within the window are compared, and a join needs more than a cosine (see
``MIN_SHARED``, ``NUMBERS_MIN``). Chosen on SemEval-2022 Task 8 (bench/bench_crosslang.py).
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections import defaultdict
from collections.abc import Callable

import numpy as np

from crawler.event_names import Features, lang_code

# The default of ``[dedupe] cross_language_threshold``: 0, cross-language joins off.
# RECOMMENDED is the value to turn them on with. On SemEval-2022 Task 8's development
# sample (bench/bench_crosslang.py, all 2,419 articles in one index) it joins 35 of the 82
# cross-language same-story pairs at precision 0.92 (halves 0.91 and 0.94), but about one
# in seven of its 148 joins outside the labelled pairs looks wrong by eye (the same people
# in another event; one article every report on a topic joins; a site's social-media
# footer): below the precision asked of a default, hence off.
DEFAULT_THRESHOLD = 0.0
RECOMMENDED = 0.25
# Each kind's weight in the cosine (a name gives a ``~`` term as well).
KIND_WEIGHTS = {"~": 1.0, "@": 1.0, "#": 1.0}
# Look-ups read the postings of the query's rarest terms, this many at most...
PROBE_TERMS = 24
# ...skipping terms in more than this share of the index's articles...
PROBE_MAX_DF = 0.05
# ...until this many postings have been read; the candidates sharing most terms are scored.
MAX_POSTINGS = 2000
MAX_CANDIDATES = 12
# A join needs this many shared pieces of evidence (names, numbers, stems; a name and its
# stem are one): a cosine over a handful of terms (a Chinese article's few Latin names) is
# chance.
MIN_SHARED = 3
# Two articles that each give this many numbers and share none report two events.
NUMBERS_MIN = 3

_KINDS = {"~": 0, "@": 1, "#": 2}


class _Vocab(dict):
    """Term -> id; -1 for a term not seen (looked up by map(), which a default would slow)."""

    def __missing__(self, term: str) -> int:
        return -1


def _posting() -> array:
    return array("i")


class CrossLanguageIndex:
    """Recent articles of every language, to find the story an article of another language
    already has on the same event.

    ``add`` puts an article in; ``find`` names the story of the most similar article of
    another language published within the window, if their cosine reaches the threshold;
    ``expire`` drops articles older than a time (``find`` calls it: articles more than two
    windows older than the one looked up go). Articles live in slots (numpy arrays of
    language, time and story, so candidates are filtered without a Python loop); a slot is
    reused once the postings have been purged of it.
    """

    def __init__(self, *, window_seconds: float, threshold: float) -> None:
        self.window = window_seconds
        self.threshold = threshold
        self._vocab = _Vocab()
        self._kind_weight = np.zeros(1024, np.float32)  # term id -> its kind's weight
        self._kind = np.zeros(1024, np.int8)  # term id -> 0 ``~`` stem, 1 ``@`` name, 2 ``#``
        self._df = np.zeros(1024, np.int32)
        self._log_df = np.zeros(1024, np.float32)  # log(df + 1), kept with _df
        self._langs: dict[str, int] = {}  # language -> its code in _lang
        self._slot_of: dict[int, int] = {}  # article id -> slot
        size = 1024
        self._key = np.full(size, -1, np.int64)
        self._story = np.zeros(size, np.int64)
        self._lang = np.full(size, -1, np.int32)  # -1: a free slot
        self._at = np.zeros(size, np.float64)
        self._ids: list[np.ndarray | None] = [None] * size  # sorted term ids per slot
        self._tf: list[np.ndarray | None] = [None] * size  # 1 + log(count) x kind weight
        self._free: list[int] = list(range(size - 1, -1, -1))
        self._dead: list[int] = []  # slots expired, still in postings
        self._postings: defaultdict[int, array] = defaultdict(_posting)
        self._times: list[tuple[float, int]] = []  # a heap of (time, article): oldest first
        self._scratch = np.zeros(4096, np.float32)
        self._last: tuple = (None, None, None, None)  # the last features vectorized

    def __len__(self) -> int:
        return len(self._slot_of)

    def terms(self) -> tuple[int, int]:
        """Terms known (a vocabulary never shrinks) and terms the live articles use."""
        return len(self._vocab), int(np.count_nonzero(self._df))

    @property
    def nbytes(self) -> int:
        """Approximate memory of the index in bytes."""
        docs = sum(a.nbytes + 100 for a in self._ids if a is not None) * 2
        posts = sum(p.itemsize * len(p) + 80 for p in self._postings.values())
        arrays = len(self._key) * (8 + 8 + 4 + 8 + 16) + 100 * len(self._slot_of)
        terms = 90 * len(self._vocab) + len(self._df) * 9 + self._scratch.nbytes
        return docs + posts + arrays + terms

    def _vector(self, features: Features, *, grow: bool) -> tuple[np.ndarray, np.ndarray]:
        """Term ids (sorted) and weights before idf; unknown terms are added with ``grow``,
        else left out (they occur in no indexed article)."""
        last, ids, tf, done = self._last
        if last is features:  # find, then add: one article, vectorized once
            if done is not None and (not grow or done[2]):
                return done[0], done[1]
            known = ids >= 0
        else:
            ids = np.array(list(map(self._vocab.__getitem__, features.terms)), np.int32)
            tf = 1.0 + np.log(np.array(features.counts, np.float32))
            known = ids >= 0
        if grow and not known.all():
            vocab = self._vocab
            new = np.flatnonzero(~known)
            for i in new.tolist():
                ids[i] = vocab.setdefault(features.terms[i], len(vocab))
            self._grow_terms(len(vocab))
            for i in new.tolist():
                term = features.terms[i]
                self._kind_weight[ids[i]] = KIND_WEIGHTS.get(term[0], 1.0)
                self._kind[ids[i]] = _KINDS.get(term[0], 0)
            known = ids >= 0
        a, w = ids[known], tf[known]
        order = np.argsort(a)
        a = a[order]
        w = w[order] * self._kind_weight[a]
        self._last = (features, ids, tf, (a, w, len(a) == len(ids)))
        return a, w

    def _grow_terms(self, size: int) -> None:
        if size <= len(self._df):
            return
        size = max(size, 2 * len(self._df))
        for name in ("_df", "_log_df", "_kind_weight", "_kind"):
            old = getattr(self, name)
            new = np.zeros(size, old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    def _grow_slots(self) -> None:
        old = len(self._key)
        size = 2 * old
        for name, fill in (("_key", -1), ("_story", 0), ("_lang", -1), ("_at", 0)):
            arr = getattr(self, name)
            new = np.full(size, fill, arr.dtype)
            new[:old] = arr
            setattr(self, name, new)
        self._ids.extend([None] * old)
        self._tf.extend([None] * old)
        self._free.extend(range(size - 1, old - 1, -1))

    def _idf(self, ids: np.ndarray) -> np.ndarray:
        """Smoothed idf over all languages: log((N + 1) / (df + 1)) + 1."""
        top = np.float32(math.log(len(self._slot_of) + 1) + 1.0)
        return top - self._log_df[ids]

    def _count(self, ids: np.ndarray, delta: int) -> None:
        self._df[ids] += delta
        self._log_df[ids] = np.log1p(self._df[ids].astype(np.float32))

    def add(
        self, key: int, story: int, features: Features, language: str | None, at: float
    ) -> None:
        """Put an article in under its story (or move it to that story if it is in)."""
        slot = self._slot_of.get(key)
        if slot is not None:
            self._story[slot] = story
            return
        ids, tf = self._vector(features, grow=True)
        if not self._free:
            self._grow_slots()
        slot = self._free.pop()
        self._slot_of[key] = slot
        self._key[slot], self._story[slot], self._at[slot] = key, story, at
        self._lang[slot] = self._langs.setdefault(lang_code(language), len(self._langs))
        self._ids[slot], self._tf[slot] = ids, tf
        heapq.heappush(self._times, (at, key))
        self._count(ids, 1)
        postings = self._postings
        for tid in ids.tolist():
            postings[tid].append(slot)

    def scores(
        self, features: Features, language: str | None, at: float, *, limit: int = 5
    ) -> list[tuple[float, int, int]]:
        """The ``limit`` articles of other languages within the window most similar to
        these features, as ``(cosine, article, story)``, best first."""
        ids, tf = self._vector(features, grow=False)
        if not len(ids) or not self._slot_of:
            return []
        df = self._df[ids]
        cap = max(2, PROBE_MAX_DF * len(self._slot_of))
        usable = (df > 0) & (df <= cap)
        probes = ids[usable][np.argsort(df[usable], kind="stable")[:PROBE_TERMS]]
        lists, budget = [], MAX_POSTINGS
        postings = self._postings
        for tid in probes.tolist():
            p = postings.get(tid)
            if p:
                lists.append(p)
                budget -= len(p)
                if budget <= 0:
                    break
        if not lists:
            return []
        slots = np.frombuffer(b"".join(lists), np.int32)
        slots, shared = np.unique(slots, return_counts=True)
        code = self._langs.get(lang_code(language), -2)
        lang = self._lang[slots]
        ok = (lang >= 0) & (lang != code) & (np.abs(self._at[slots] - at) <= self.window)
        slots, shared = slots[ok], shared[ok]
        if not len(slots):
            return []
        if len(slots) > MAX_CANDIDATES:  # those that share the most of the probed terms
            slots = slots[np.argpartition(-shared, MAX_CANDIDATES)[:MAX_CANDIDATES]]
        cands = slots.tolist()
        sims = self._cosines(ids, tf, cands)
        best = np.argsort(-sims, kind="stable")[:limit].tolist()
        return [
            (float(sims[i]), int(self._key[cands[i]]), int(self._story[cands[i]])) for i in best
        ]

    def _cosines(self, ids: np.ndarray, tf: np.ndarray, cands: list[int]) -> np.ndarray:
        """The cosine of a vector (ids, weights before idf) with each of these slots'."""
        qw = tf * self._idf(ids)
        qw /= np.sqrt(np.dot(qw, qw)) or 1.0
        cat = np.concatenate([self._ids[c] for c in cands])
        w = np.concatenate([self._tf[c] for c in cands]) * self._idf(cat)
        starts = np.cumsum([0] + [len(self._ids[c]) for c in cands[:-1]])
        norms = np.sqrt(np.add.reduceat(w * w, starts))
        if len(self._scratch) < len(self._vocab):
            self._scratch = np.zeros(max(len(self._vocab), 2 * len(self._scratch)), np.float32)
        dense = self._scratch
        dense[ids] = qw
        dots = np.add.reduceat(w * dense[cat], starts)
        dense[ids] = 0.0
        return dots / np.maximum(norms, 1e-9)

    def find(
        self,
        features: Features,
        language: str | None,
        at: float,
        *,
        accept: Callable[[int], bool] | None = None,
    ) -> int | None:
        """The story of the most similar article of another language within the window
        whose cosine reaches the threshold (and that ``accept`` accepts), else None. A
        threshold of 0 finds nothing."""
        if self.threshold <= 0:
            return None
        self.expire(at - 2 * self.window)
        for score, key, story in self.scores(features, language, at):
            if score < self.threshold:
                break
            ids = self._vector(features, grow=False)[0]
            other = self._ids[self._slot_of[key]]
            if self._supported(features, ids, other) and (accept is None or accept(story)):
                return story
        return None

    def _supported(self, features: Features, ids: np.ndarray, other: np.ndarray) -> bool:
        """Whether two articles share enough to be one event: MIN_SHARED pieces of evidence
        (a shared name and its shared stem are one), and not NUMBERS_MIN numbers each with
        none in common (two earthquakes with other tolls)."""
        shared = np.intersect1d(ids, other, assume_unique=True)
        kinds = np.bincount(self._kind[shared], minlength=3)  # ~, @, #
        if kinds[1] + kinds[2] + max(0, kinds[0] - kinds[1]) < MIN_SHARED:
            return False
        if not NUMBERS_MIN or kinds[2]:
            return True
        mine = sum(t[0] == "#" for t in features.terms)
        return mine < NUMBERS_MIN or int((self._kind[other] == 2).sum()) < NUMBERS_MIN

    def merge_stories(self, keep: int, gone: int) -> None:
        """Move the articles of story ``gone`` to story ``keep`` (crawler/story_merge.py)."""
        self._story[self._story == gone] = keep

    def expire(self, before: float) -> None:
        """Drop articles published before ``before`` (seconds since the epoch)."""
        times = self._times
        while times and times[0][0] < before:
            _, key = heapq.heappop(times)
            slot = self._slot_of.pop(key, None)
            if slot is None:
                continue
            self._count(self._ids[slot], -1)
            self._lang[slot] = -1  # out of every look-up from now on
            self._ids[slot] = self._tf[slot] = None
            self._dead.append(slot)
        if len(self._dead) > max(1000, len(self._slot_of)):
            self._purge()

    def _purge(self) -> None:
        """Take expired slots out of the postings, and free them for new articles."""
        live = self._lang
        for tid, p in list(self._postings.items()):
            slots = np.frombuffer(p, np.int32)
            kept = slots[live[slots] >= 0]
            if len(kept) == len(slots):
                continue
            if len(kept):
                self._postings[tid] = array("i", kept.tobytes())
            else:
                del self._postings[tid]
        self._free.extend(self._dead)
        self._dead.clear()
