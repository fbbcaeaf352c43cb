"""Events across outlets: the index of recent articles (and story centroids) that the
evidence of one event is read from.

A reprint shares most of its words with its original (see :mod:`crawler.minhash`); two
outlets writing their own articles on one event share far fewer, but the ones they share
are telling: names, places, numbers, the rare words of the headline and the lead. The
evidence is TF-IDF cosines over an article's terms (:mod:`crawler.event_terms`): the whole
(headline counted twice and the first ``LEAD_WORDS`` words) and a long view (the whole and
the text up to ``BODY_WORDS`` words). Document frequencies come from the articles in the
index at query time, so the words one site or one season repeats weigh little. Only
articles in the same language and published within the window of each other are compared;
candidates are found through postings of their rarest terms.

Chosen on development data (SemEval-2022 Task 8 pairs and ECB+, see
``bench/bench_stories.py``), for precision first: headline x2 with an 80-word lead did
best of single leads tried (40 to 600 words); the mean of the 80-word and the 300-word
cosines beat every single lead on both sets (pairs level: SemEval recall at 9 false pairs
0.51 -> 0.57, ECB+ recall at 0.9 pairwise precision 0.65 -> 0.70). 6-letter prefixes beat 5
and whole words; Chinese as jieba's words beat character bigrams. Measured and not used
(docs/architecture.md has the figures): character n-grams, word bigrams, a suffix term for
German compounds, Arabic clitic stripping, idf squared, cosines of the shared names or
numbers as scores, name coverage. At the pairs level no rule of these views reaches
SemEval precision 0.9 above recall 0.55. A false merge hides a second event's alert.
"""

from __future__ import annotations

import heapq
import re
from array import array
from collections import Counter
from itertools import repeat

import numpy as np

from crawler.event_pack import Packed
from crawler.event_terms import Vectors

# An article is looked up through its PROBE_TERMS rarest terms: an article on the same
# event shares at least one of them.
PROBE_TERMS = 12
# A term in more than this share of the index's articles is no use for finding candidates.
PROBE_MAX_DF = 0.02
MAX_CANDIDATES = 16
MAX_POSTINGS = 1000
# Every term gets a posting while the index is small (the frequencies say little yet).
POSTING_MIN_DF = 1000
# A story's centroid keeps its heaviest terms only.
CENTROID_TERMS = 300
PARTS = ("all", "long", "text", "headline")
_YEAR = re.compile(r"#(19|20)\d\d")
_ROWS = np.arange(3)
_TRUE = np.ones(1, bool)


class _Doc:
    __slots__ = ("key", "event", "at", "vectors")

    def __init__(self, key: int, event: int, at: float, vectors: Vectors):
        self.key = key  # article id
        self.event = event  # story id
        self.at = at  # publication (else first-seen) time, seconds since the epoch
        self.vectors = vectors


class _Language:
    """The articles of one language: document frequencies and postings."""

    def __init__(self) -> None:
        self.df = np.zeros(1024, np.int32)
        # log(df + 1) per term, kept up to date by count(): a look-up gathers, never logs
        self.log_df = np.zeros(1024, np.float32)
        self.docs: dict[int, _Doc] = {}
        self.postings: dict[int, array] = {}
        self.packed = Packed()

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
        return np.float32(np.log(len(self.docs) + 1) + 1.0)

    def df_of(self, ids: np.ndarray) -> np.ndarray:
        out = np.zeros(len(ids), np.int32)
        known = ids < len(self.df)
        out[known] = self.df[ids[known]]
        return out

    def count(self, ids: np.ndarray, delta: int) -> None:
        if len(ids) and ids.max() >= len(self.df):
            size = max(2 * len(self.df), int(ids.max()) + 1)
            grown = np.zeros(size, np.int32)
            grown[: len(self.df)] = self.df
            self.df = grown
            log_df = np.zeros(size, np.float32)
            log_df[: len(self.log_df)] = self.log_df
            self.log_df = log_df
        self.df[ids] += delta
        self.log_df[ids] = np.log1p(self.df[ids].astype(np.float32))


class EventIndex:
    """Recent articles per language, to find the event a new article reports.

    ``add`` puts an article in; ``candidates`` scores the earlier articles within the window
    that may report the same event; ``expire`` drops articles older than a time. Term weights are
    computed at query time from the current document frequencies, so the first articles of
    an archive are not stuck with the weights of a nearly empty index.
    """

    def __init__(self, *, window_seconds: float) -> None:
        self.window = window_seconds
        self._vocab: dict[str, int] = {}
        self._langs: dict[str, _Language] = {}
        self._where: dict[int, str] = {}
        self._times: list[tuple[float, int]] = []  # a heap of (time, article): oldest first
        self._dead = 0
        # An event of one article is that article (``_solo``: event -> article). An event of
        # several has, per part ("all": headline and lead; "long": and the body; "text": the
        # lead and the body; "headline"),
        # the sum of its articles' unit tf-idf vectors (weights as they went in) as sorted
        # term ids and weights; ``_members`` counts its articles in the index.
        self._solo: dict[int, int] = {}
        self._centroids: dict[str, dict[int, tuple[np.ndarray, np.ndarray]]] = {
            part: {} for part in PARTS
        }
        self._members: dict[int, int] = {}
        self._scratch = np.zeros(4096, np.float32)
        self._numeric = np.zeros(4096, np.int8)  # term id -> 0 a word, 1 a number, 2 a year

    def __len__(self) -> int:
        return len(self._where)

    def terms(self) -> tuple[int, int]:
        """Terms known (a vocabulary never shrinks) and terms the live articles use."""
        return len(self._vocab), sum(int(np.count_nonzero(g.df)) for g in self._langs.values())

    def _dense(self, size: int) -> np.ndarray:
        """A zeroed float32 scratch vector over the vocabulary (callers zero what they set)."""
        if len(self._scratch) < size:
            self._scratch = np.zeros(max(size, 2 * len(self._scratch)), np.float32)
        return self._scratch

    @property
    def nbytes(self) -> int:
        """Approximate memory of the term vectors and postings, in bytes."""
        total = 0
        for lang in self._langs.values():
            total += lang.df.nbytes + lang.log_df.nbytes
            total += sum(sum(a.nbytes for a in d.vectors) + 300 for d in lang.docs.values())
            total += lang.packed.nbytes
            total += sum(p.itemsize * len(p) + 80 for p in lang.postings.values())
        for cents in self._centroids.values():
            total += sum(i.nbytes + w.nbytes + 150 for i, w in cents.values())
        return total + 90 * len(self._vocab) + self._scratch.nbytes

    def vectors(self, head: Counter, lead: Counter, body: Counter | None = None) -> Vectors:
        """An article's vectors from the term counts of its headline, its lead and the body
        after the lead."""
        vocab = self._vocab
        parts = (head, lead, body or {})
        terms = [*head, *lead, *parts[2]]  # a term once per part
        every = np.fromiter(map(vocab.get, terms, repeat(-1)), np.int64, len(terms))
        if every.min(initial=0) < 0:
            missing = np.flatnonzero(every < 0)
            new = [terms[i] for i in missing.tolist()]
            self._learn(new)
            every[missing] = [vocab[t] for t in new]
        ids = np.sort(every)
        if len(ids) > 1:  # a term of several parts once
            ids = ids[np.concatenate(([True], ids[1:] != ids[:-1]))]
        counts = np.zeros((3, len(ids)), np.uint8)
        rows = np.repeat(_ROWS, [len(p) for p in parts])
        values = np.array([*head.values(), *lead.values(), *parts[2].values()], np.int64)
        counts[rows, np.searchsorted(ids, every)] = np.minimum(values, 255)
        return Vectors(ids.astype(np.int32), counts)

    def _learn(self, terms: list[str]) -> None:
        """Give new terms the next ids, in the order they first appear, and note which are
        numbers (a known term was noted when it was new)."""
        vocab = self._vocab
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
        """Those of these term ids that are numbers (``#`` terms)."""
        return ids[self._numeric[ids] > 0]

    def years(self, ids: np.ndarray) -> np.ndarray:
        """Which of these number term ids are years (1900-2099)."""
        return self._numeric[ids] == 2

    def event_numbers(self, language: str | None, event: int) -> np.ndarray:
        """The numbers among an event's terms (its article's, or its long centroid's)."""
        solo = self._solo.get(event)
        if solo is not None:
            lang = self._langs.get(_lang(language))
            doc = lang.docs.get(solo) if lang is not None else None
            return self.numbers(doc.vectors.ids) if doc is not None else np.zeros(0, np.int32)
        cent = self._centroids["long"].get(event)
        return self.numbers(cent[0]) if cent is not None else np.zeros(0, np.int32)

    def __contains__(self, key: int) -> bool:
        return key in self._where

    def size(self, event: int) -> int:
        """How many of an event's articles are in the index."""
        return 1 if event in self._solo else self._members.get(event, 0)

    def article_numbers(self, language: str | None, key: int) -> np.ndarray | None:
        """The numbers among one article's terms, or None when it is not in the index."""
        lang = self._langs.get(_lang(language))
        doc = lang.docs.get(key) if lang is not None else None
        return None if doc is None else self.numbers(doc.vectors.ids)

    def candidates(
        self,
        vector: tuple[np.ndarray, np.ndarray],
        language: str | None,
        at: float,
        *,
        limit: int = 8,
    ) -> list[tuple[float, int, int]]:
        """The ``limit`` earlier articles within the window most similar to this vector,
        among those that share a rare term with it, as ``(score, article, event)`` best
        first; the score is the cosine of the two tf-idf vectors."""
        lang = self._langs.get(_lang(language))
        ids, tf = vector
        if lang is None or not lang.docs or not len(ids):
            return []
        df = lang.df_of(ids)
        cap = max(2.0, PROBE_MAX_DF * len(lang.docs))
        usable = (df > 0) & (df <= cap)
        order = np.argsort(df[usable], kind="stable")[:PROBE_TERMS]
        probes = ids[usable][order]
        postings = lang.postings
        found = array("i")  # the postings read, joined in one buffer (no array per term)
        budget = MAX_POSTINGS  # the rarest terms first, until this many postings are read
        for p in map(postings.get, probes.tolist()):
            if p:
                found += p
                budget -= len(p)
                if budget <= 0:
                    break
        if not found:
            return []
        # np.unique(found, return_counts=True) without its overhead: sort, cut at changes
        keys = np.frombuffer(found, np.int32)
        keys.sort()
        if len(keys) > 1:
            bounds = np.flatnonzero(np.concatenate((_TRUE, keys[1:] != keys[:-1], _TRUE)))
            if len(bounds) > MAX_CANDIDATES + 1:  # the articles that share the most terms
                shared = bounds[1:] - bounds[:-1]
                keys = keys[bounds[np.argpartition(-shared, MAX_CANDIDATES)[:MAX_CANDIDATES]]]
            else:
                keys = keys[bounds[:-1]]
        cands, cat, ctf, starts, _ = lang.packed.gather(keys, at, self.window)
        if not len(cands):
            return []
        qw = tf * lang.idf(ids)
        qw /= np.sqrt(np.dot(qw, qw)) or 1.0
        # every candidate was counted in: its terms' log_df are there (no bounds check)
        w = ctf * (lang.top() - lang.log_df[cat])
        norms = np.sqrt(np.add.reduceat(w * w, starts))
        # the query as a dense vector over the vocabulary: one gather scores every candidate
        dense = self._dense(len(self._vocab))
        dense[ids] = qw
        dots = np.add.reduceat(w * dense[cat], starts)
        dense[ids] = 0.0
        scores = dots / np.maximum(norms, 1e-9)
        best = np.argsort(-scores, kind="stable")[:limit].tolist()
        keys, docs = cands[best].tolist(), lang.docs
        return [(float(scores[i]), k, docs[k].event) for i, k in zip(best, keys, strict=True)]

    def add(self, key: int, event: int, vectors: Vectors, language: str | None, at: float) -> None:
        """Put an article in (or move it to another event if it is in already)."""
        code = _lang(language)
        lang = self._langs.get(code)
        if lang is None:  # (not setdefault: that would build a _Language every call)
            lang = self._langs[code] = _Language()
        if key in lang.docs:
            lang.docs[key].event = event
            return
        ids = vectors.ids
        self._join(event, key, lang, vectors)
        lang.docs[key] = _Doc(key, event, at, vectors)
        whole, tf = vectors.part("all")  # kept packed: every look-up scores it
        lang.packed.put(key, whole, tf, at)
        self._where[key] = code
        heapq.heappush(self._times, (at, key))
        # a term this common is never looked up (see PROBE_MAX_DF): no posting for it;
        # look-ups probe with the whole's terms only
        cap = max(POSTING_MIN_DF, PROBE_MAX_DF * len(lang.docs))
        rare = whole[lang.df_of(whole) <= cap]
        lang.count(ids, 1)
        postings = lang.postings
        for tid in rare.tolist():
            p = postings.get(tid)
            if p is None:
                p = postings[tid] = array("i")
            p.append(key)

    def centroid_score(
        self,
        vector: tuple[np.ndarray, np.ndarray],
        language: str | None,
        event: int,
        *,
        part: str = "all",
    ) -> float:
        """Cosine between this vector (under the current weights) and the event's centroid:
        the mean of its articles. An article that shares the core of a story (its names,
        place, numbers) scores high; one that shares the idiosyncrasies of one member (the
        way chains of "nearest article" drift to a second event) does not."""
        lang = self._langs.get(_lang(language))
        ids, tf = vector
        if lang is None or not len(ids):
            return 0.0
        solo = self._solo.get(event)
        if solo is not None:
            doc = lang.docs.get(solo)
            if doc is None:
                return 0.0
            cids, ctf = doc.vectors.part(part)
            cw = ctf * lang.idf(cids)
        else:
            cent = self._centroids[part].get(event)
            if cent is None:
                return 0.0
            cids, cw = cent
        qw = tf * lang.idf(ids)
        qn = float(np.sqrt(np.dot(qw, qw))) or 1.0
        cn = float(np.sqrt(np.dot(cw, cw))) or 1.0
        return _dot(ids, qw, cids, cw) / (qn * cn)

    def _join(self, event: int, key: int, lang: _Language, vectors: Vectors) -> None:
        """Count an article into its event: the second article turns the event's first
        article into centroids, later ones are added to them."""
        n = self._members.get(event)
        if n is None:
            first = self._solo.pop(event, None)
            code = self._where.get(first) if first is not None else None
            if code is None:
                self._solo[event] = key
                return
            doc = self._langs[code].docs[first]
            for part in PARTS:
                self._add_to(self._centroids[part], event, lang, *doc.vectors.part(part))
            n = 1
        for part in PARTS:
            self._add_to(self._centroids[part], event, lang, *vectors.part(part))
        self._members[event] = n + 1

    @staticmethod
    def _add_to(
        centroids: dict, event: int, lang: _Language, ids: np.ndarray, tf: np.ndarray
    ) -> None:
        if not len(ids):
            return
        w = tf * lang.idf(ids)
        w = (w / (float(np.sqrt(np.dot(w, w))) or 1.0)).astype(np.float32)
        cent = centroids.get(event)
        if cent is None:
            centroids[event] = (ids, w)
            return
        cids, cw = cent
        merged = np.union1d(cids, ids)
        out = np.zeros(len(merged), np.float32)
        out[np.searchsorted(merged, cids)] += cw
        out[np.searchsorted(merged, ids)] += w
        if len(merged) > CENTROID_TERMS:  # keep the story's core, bound its memory
            keep = np.sort(np.argpartition(-out, CENTROID_TERMS)[:CENTROID_TERMS])
            merged, out = merged[keep], out[keep]
        centroids[event] = (merged, out)

    def expire(self, before: float) -> None:
        """Drop articles published before ``before`` (seconds since the epoch)."""
        times = self._times
        while times and times[0][0] < before:
            _, key = heapq.heappop(times)
            code = self._where.pop(key, None)
            if code is None:
                continue
            lang = self._langs[code]
            doc = lang.docs.pop(key)
            lang.packed.drop(key)
            self._leave(doc.event, key)
            lang.count(doc.vectors.ids, -1)
            self._dead += 1
        if self._dead > max(1000, len(self._where)):
            self._compact()

    def _leave(self, event: int, key: int) -> None:
        # An event's centroids stay as they are until its last article leaves the window.
        if self._solo.get(event) == key:
            del self._solo[event]
            return
        n = self._members.get(event)
        if n is not None:
            if n <= 1:
                del self._members[event]
                for cents in self._centroids.values():
                    cents.pop(event, None)
            else:
                self._members[event] = n - 1

    def _compact(self) -> None:
        for lang in self._langs.values():
            live = lang.docs
            for tid, p in list(lang.postings.items()):
                kept = array("i", (k for k in p if k in live))
                if kept:
                    lang.postings[tid] = kept
                else:
                    del lang.postings[tid]
        self._dead = 0


def _lang(language: str | None) -> str:
    return (language or "").split("-")[0].lower()


def _dot(ai: np.ndarray, aw: np.ndarray, bi: np.ndarray, bw: np.ndarray) -> float:
    """The dot product of two sparse vectors given as sorted unique term ids and weights
    (searchsorted into the other's ids: cheaper than intersect1d, which sorts both)."""
    if not len(ai) or not len(bi):
        return 0.0
    pos = np.searchsorted(bi, ai)
    np.minimum(pos, len(bi) - 1, out=pos)
    hit = bi[pos] == ai
    return float(np.dot(aw[hit], bw[pos[hit]]))
