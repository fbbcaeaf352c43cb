"""Events across outlets: the evidence that two independently written articles report one
event, and the in-memory index of recent articles that a new article is compared against.

A reprint shares most of its words with its original (see :mod:`crawler.dedupe`); two
outlets writing their own articles on one event share far fewer, but the ones they share
are telling: names, places, numbers, the rare words of the headline and the lead. The
evidence here is a TF-IDF cosine over the headline (counted twice) and the first
``LEAD_WORDS`` words of the text, stop words left out, words cut to a 6-letter prefix (a
cheap stemmer that works across the European languages; CJK text is read as character
bigrams), numbers kept as tokens. Document frequencies come from the articles in the index,
so the words one site or one season repeats weigh little. Two articles are compared only
when they are in the same language and published within the window of each other.

Weights and the default threshold were chosen on development data (SemEval-2022 Task 8
pairs and ECB+, see ``bench/bench_stories.py``): the headline counted twice and an 80-word
lead gave the best precision at 0.6 recall of the variants tried (lead 40/80/150/300 words,
prefix 5/6/none, entity and number overlap as extra logistic features, which did not help
beyond the cosine). Precision first: a false merge hides a second event's alert.
"""

from __future__ import annotations

import heapq
import math
import re
from array import array
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# The lead: headline plus this many words of the text (see the module docstring).
LEAD_WORDS = 80
TITLE_WEIGHT = 2
PREFIX = 6
# An article is looked up through its PROBE_TERMS rarest terms: an article on the same
# event shares at least one of them.
PROBE_TERMS = 12
# A term in more than this share of the index's articles is no use for finding candidates.
PROBE_MAX_DF = 0.02
MAX_CANDIDATES = 64

_WORD = re.compile(r"[^\W_]+(?:['’.,-][^\W_]+)*")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]+")
_DIGITS = re.compile(r"\d")


@lru_cache(maxsize=64)
def stop_words(language: str | None) -> frozenset[str]:
    """The stop words of a language (ISO 639-1), English ones always included: news in any
    language quotes English names and phrases. Lists from the ``stop-words`` package."""
    from stop_words import LANGUAGE_MAPPING, get_stop_words

    words = set(get_stop_words("en"))
    lang = (language or "").split("-")[0].lower()
    if lang in LANGUAGE_MAPPING and lang != "en":
        words.update(get_stop_words(lang))
    return frozenset(w.lower() for w in words)


def terms(title: str | None, text: str | None, language: str | None) -> Counter:
    """The term counts an article is compared by: headline words (twice) and the lead."""
    stop = stop_words(language)
    counts: Counter = Counter()
    for t in _tokens(title or "", stop, 60, names=False):
        counts[t] += TITLE_WEIGHT
    counts.update(_tokens(text or "", stop, LEAD_WORDS, names=NAMES))
    return counts


NAMES = True
_SENTENCE_END = re.compile(r"[.!?:;\"“”«»()\[\]|\n-]\s*$")


def _tokens(text: str, stop: frozenset[str], limit: int, names: bool = False) -> list[str]:
    out: list[str] = []
    for m in _WORD.finditer(text):
        word = m.group()
        if names and word[0].isupper() and m.start() > 0:
            before = text[max(0, m.start() - 3) : m.start()]
            if not _SENTENCE_END.search(before) and word.lower() not in stop:
                out.append("@" + word.lower()[:PREFIX])
        if _CJK.search(word):
            for run in _CJK.findall(word):
                out.extend(run[i : i + 2] for i in range(max(1, len(run) - 1)))
        elif _DIGITS.search(word):
            # "1,200" and "1.200" are one number; a lone digit says nothing
            num = word.replace(",", "").replace(".", "")
            if len(num) >= 2:
                out.append("#" + num.lower())
        else:
            low = word.lower()
            if len(low) >= 2 and low not in stop:
                out.append(low[:PREFIX])
        if len(out) >= limit:
            break
    return out


@dataclass
class _Doc:
    key: int  # article id
    event: int  # story id
    at: float  # publication (else first-seen) time, seconds since the epoch
    ids: np.ndarray  # term ids, sorted (int32)
    tf: np.ndarray  # 1 + log(term count), in the order of ``ids`` (float32)


class _Language:
    """The articles of one language: document frequencies and postings."""

    def __init__(self) -> None:
        self.df = np.zeros(1024, np.int32)
        self.docs: dict[int, _Doc] = {}
        self.postings: dict[int, array] = {}

    def idf(self, ids: np.ndarray) -> np.ndarray:
        df = self.df[ids] if len(self.df) > ids.max(initial=-1) else self._df_of(ids)
        # smoothed, and never below 1: with a handful of articles every word is "rare"
        return np.log((len(self.docs) + 1) / (df + 1.0)) + 1.0

    def _df_of(self, ids: np.ndarray) -> np.ndarray:
        out = np.zeros(len(ids), np.int32)
        known = ids < len(self.df)
        out[known] = self.df[ids[known]]
        return out

    def count(self, ids: np.ndarray, delta: int) -> None:
        if len(ids) and ids.max() >= len(self.df):
            grown = np.zeros(max(2 * len(self.df), int(ids.max()) + 1), np.int32)
            grown[: len(self.df)] = self.df
            self.df = grown
        self.df[ids] += delta


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

    def __len__(self) -> int:
        return len(self._where)

    @property
    def nbytes(self) -> int:
        """Approximate memory of the term vectors and postings, in bytes."""
        total = 0
        for lang in self._langs.values():
            total += lang.df.nbytes
            total += sum(d.ids.nbytes + d.tf.nbytes + 150 for d in lang.docs.values())
            total += sum(p.itemsize * len(p) + 80 for p in lang.postings.values())
        return total + 90 * len(self._vocab)

    def _ids(self, counts: Counter) -> tuple[np.ndarray, np.ndarray]:
        vocab = self._vocab
        ids = np.empty(len(counts), np.int32)
        tf = np.empty(len(counts), np.float32)
        for i, (term, n) in enumerate(counts.items()):
            tid = vocab.get(term)
            if tid is None:
                tid = vocab[term] = len(vocab)
            ids[i] = tid
            tf[i] = 1.0 + math.log(n)
        order = np.argsort(ids)
        return ids[order], tf[order]

    def candidates(
        self,
        counts: Counter,
        language: str | None,
        at: float,
        *,
        also: tuple[int, ...] = (),
        probe: bool = True,
    ) -> list[tuple[float, int, int]]:
        """Earlier articles within the window that share a rare term with these term counts
        (plus the articles named in ``also``; only those when ``probe`` is False), as
        ``(score, article, event)`` best first; the score is the cosine of the two tf-idf
        vectors."""
        lang = self._langs.get(_lang(language))
        if lang is None or not lang.docs or not counts:
            return []
        ids, tf = self._ids(counts)
        df = lang._df_of(ids)
        cap = max(2.0, PROBE_MAX_DF * len(lang.docs))
        usable = (df > 0) & (df <= cap)
        probes = ids[usable][np.argsort(df[usable], kind="stable")[:PROBE_TERMS]]
        if not probe:
            probes = probes[:0]
        hits: Counter = Counter()
        postings = lang.postings
        for tid in probes.tolist():
            hits.update(postings.get(tid, ()))
        keys = [k for k, _ in hits.most_common(MAX_CANDIDATES)]
        keys += [k for k in also if k not in hits]
        cands = []
        for key in keys:
            doc = lang.docs.get(key)
            if doc is not None and abs(doc.at - at) <= self.window:
                cands.append(doc)
        if not cands:
            return []
        qw = tf * lang.idf(ids)
        qw /= np.sqrt(np.dot(qw, qw)) or 1.0
        cat = np.concatenate([d.ids for d in cands])
        w = np.concatenate([d.tf for d in cands]) * lang.idf(cat)
        starts = np.cumsum([0] + [len(d.ids) for d in cands[:-1]])
        norms = np.sqrt(np.add.reduceat(w * w, starts))
        pos = np.minimum(np.searchsorted(ids, cat), len(ids) - 1)
        dots = np.add.reduceat(np.where(ids[pos] == cat, w * qw[pos], 0.0), starts)
        scores = (dots / np.maximum(norms, 1e-9)).tolist()
        out = [(scores[i], d.key, d.event) for i, d in enumerate(cands)]
        out.sort(key=lambda x: -x[0])
        return out

    def add(self, key: int, event: int, counts: Counter, language: str | None, at: float) -> None:
        """Put an article in (or move it to another event if it is in already)."""
        code = _lang(language)
        lang = self._langs.setdefault(code, _Language())
        if key in lang.docs:
            lang.docs[key].event = event
            return
        ids, tf = self._ids(counts)
        lang.docs[key] = _Doc(key, event, at, ids, tf)
        self._where[key] = code
        heapq.heappush(self._times, (at, key))
        lang.count(ids, 1)
        postings = lang.postings
        for tid in ids.tolist():
            p = postings.get(tid)
            if p is None:
                p = postings[tid] = array("q")
            p.append(key)

    def move(self, key: int, event: int) -> None:
        """Record that an article now belongs to another event."""
        code = self._where.get(key)
        if code is not None:
            self._langs[code].docs[key].event = event

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
            lang.count(doc.ids, -1)
            self._dead += 1
        if self._dead > max(1000, len(self._where)):
            self._compact()

    def _compact(self) -> None:
        for lang in self._langs.values():
            live = lang.docs
            for tid, p in list(lang.postings.items()):
                kept = array("q", (k for k in p if k in live))
                if kept:
                    lang.postings[tid] = kept
                else:
                    del lang.postings[tid]
        self._dead = 0


def _lang(language: str | None) -> str:
    return (language or "").split("-")[0].lower()


def _dot(ai: np.ndarray, aw: np.ndarray, bi: np.ndarray, bw: np.ndarray) -> float:
    common, ia, ib = np.intersect1d(ai, bi, assume_unique=True, return_indices=True)
    if not len(common):
        return 0.0
    return float(np.dot(aw[ia], bw[ib]))
