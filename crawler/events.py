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
candidates are found through postings of their rarest terms. The vocabulary and each
language's articles, frequencies and postings are kept in :mod:`crawler.event_language`.

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
from array import array
from collections import Counter

import numpy as np

from crawler.event_language import Doc, Language, Vocabulary
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
_TRUE = np.ones(1, bool)


class EventIndex:
    """Recent articles per language, to find the event a new article reports.

    ``add`` puts an article in; ``candidates`` scores the earlier articles within the window
    that may report the same event; ``expire`` drops articles older than a time. Term weights are
    computed at query time from the current document frequencies, so the first articles of
    an archive are not stuck with the weights of a nearly empty index.
    """

    def __init__(self, *, window_seconds: float) -> None:
        self.window = window_seconds
        self._vocab = Vocabulary()
        self._langs: dict[str, Language] = {}
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
        self._weights: dict[int, tuple] = {}  # see _weighted

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
        return total + self._vocab.nbytes + self._scratch.nbytes

    def vectors(self, head: Counter, lead: Counter, body: Counter | None = None) -> Vectors:
        """An article's vectors from the term counts of its headline, its lead and the body
        after the lead."""
        return self._vocab.vectors(head, lead, body)

    def numbers(self, ids: np.ndarray) -> np.ndarray:
        """Those of these term ids that are numbers (``#`` terms)."""
        return self._vocab.numbers(ids)

    def years(self, ids: np.ndarray) -> np.ndarray:
        """Which of these number term ids are years (1900-2099)."""
        return self._vocab.years(ids)

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
        order = df[usable].argsort(kind="stable")[:PROBE_TERMS]
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
            bounds = np.concatenate((_TRUE, keys[1:] != keys[:-1], _TRUE)).nonzero()[0]
            if len(bounds) > MAX_CANDIDATES + 1:  # the articles that share the most terms
                shared = bounds[1:] - bounds[:-1]
                keys = keys[bounds[(-shared).argpartition(MAX_CANDIDATES)[:MAX_CANDIDATES]]]
            else:
                keys = keys[bounds[:-1]]
        cands, cat, ctf, starts, _ = lang.packed.gather(keys, at, self.window)
        if not len(cands):
            return []
        qw, norm = self._weighted(lang, tf, ids)  # (centroid_score reuses them)
        qw = qw / np.float32(norm)  # not in place: the weights are remembered
        # every candidate was counted in: its terms' log_df are there (no bounds check)
        w = ctf * (lang.top() - lang.log_df[cat])
        norms = np.sqrt(np.add.reduceat(w * w, starts))
        # the query as a dense vector over the vocabulary: one gather scores every candidate
        dense = self._dense(len(self._vocab))
        dense[ids] = qw
        dots = np.add.reduceat(w * dense[cat], starts)
        dense[ids] = 0.0
        scores = dots / np.maximum(norms, 1e-9)
        best = (-scores).argsort(kind="stable")[:limit]
        keys, docs = cands[best].tolist(), lang.docs
        return [(s, k, docs[k].event) for s, k in zip(scores[best].tolist(), keys, strict=True)]

    def add(self, key: int, event: int, vectors: Vectors, language: str | None, at: float) -> None:
        """Put an article in (or move it to another event if it is in already)."""
        code = _lang(language)
        lang = self._langs.get(code)
        if lang is None:  # (not setdefault: that would build a Language every call)
            lang = self._langs[code] = Language()
        if key in lang.docs:
            lang.docs[key].event = event
            return
        ids = vectors.ids
        self._join(event, key, lang, vectors)
        lang.docs[key] = Doc(key, event, at, vectors)
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
            # the whole is kept packed already (see add): no need to compute it again
            packed = lang.packed.whole(solo) if part == "all" else None
            cids, ctf = packed if packed is not None else doc.vectors.part(part)
            cw = ctf * lang.idf(cids)
        else:
            cent = self._centroids[part].get(event)
            if cent is None:
                return 0.0
            cids, cw = cent
        qw, qn = self._weighted(lang, tf, ids)
        cn = float(np.sqrt(np.dot(cw, cw))) or 1.0
        return _dot(ids, qw, cids, cw) / (qn * cn)

    def _weighted(self, lang: Language, tf: np.ndarray, ids: np.ndarray) -> tuple:
        """tf-idf weights of a vector under the current frequencies, and their norm. The
        last few are remembered: one article's parts are scored against each story it may
        join, with no article counted in meanwhile (``Language.counted`` says)."""
        key = id(tf)
        hit = self._weights.get(key)
        if hit is not None and hit[0] is tf and hit[1] is lang and hit[2] == lang.counted:
            return hit[3]
        qw = tf * lang.idf(ids)
        out = (qw, float(np.sqrt(np.dot(qw, qw))) or 1.0)
        if len(self._weights) >= 16:
            self._weights.clear()
        self._weights[key] = (tf, lang, lang.counted, out)  # tf held: its id stays its own
        return out

    def _join(self, event: int, key: int, lang: Language, vectors: Vectors) -> None:
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
        centroids: dict, event: int, lang: Language, ids: np.ndarray, tf: np.ndarray
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
        merged = np.concatenate((cids, ids))  # np.union1d without its overhead
        merged.sort()
        merged = merged[np.concatenate((_TRUE, merged[1:] != merged[:-1]))]
        out = np.zeros(len(merged), np.float32)
        out[merged.searchsorted(cids)] += cw
        out[merged.searchsorted(ids)] += w
        if len(merged) > CENTROID_TERMS:  # keep the story's core, bound its memory
            keep = np.sort(np.argpartition(-out, CENTROID_TERMS)[:CENTROID_TERMS])
            merged, out = merged[keep], out[keep]
        centroids[event] = (merged, out)

    def merge(self, keep: int, gone: int) -> None:
        """Move every article of event ``gone`` to event ``keep`` (two stories found to
        report one event, crawler/story_merge.py): they count into its centroids (weights
        as they are now) and ``gone`` is forgotten. A scan of the index: merges are rare."""
        for lang in self._langs.values():
            for key, doc in lang.docs.items():
                if doc.event == gone:
                    doc.event = keep
                    self._join(keep, key, lang, doc.vectors)
        self._solo.pop(gone, None)
        self._members.pop(gone, None)
        for cents in self._centroids.values():
            cents.pop(gone, None)

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
    pos = bi.searchsorted(ai)
    np.minimum(pos, len(bi) - 1, out=pos)
    hit = bi[pos] == ai
    return float(np.dot(aw[hit], bw[pos[hit]]))
