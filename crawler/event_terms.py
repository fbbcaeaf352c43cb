"""The words two articles on one event are compared by: headline, lead and body terms, stop
words out, 6-letter prefixes, Chinese words (jieba), Japanese and Korean bigrams, ``#``
numbers and ``@`` mid-sentence names, and an article's :class:`Vectors` of them (the
choices and how they were made: :mod:`crawler.events`)."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from crawler.fingerprints import tokens

# The lead: headline plus this many words of the text (see the module docstring).
LEAD_WORDS = 80
# The body read for the second, longer view of an article: its first this many words.
BODY_WORDS = 300
# The lead is read from this many characters of the text (enough for LEAD_WORDS words).
LEAD_CHARS = LEAD_WORDS * 12
TITLE_WEIGHT = 2
PREFIX = 6


@lru_cache(maxsize=64)
def stop_words(language: str | None) -> frozenset[str]:
    """The stop words of a language (ISO 639-1), English ones always included: news in any
    language quotes English names and phrases. Lists from the ``stop-words`` package."""
    from stop_words import LANGUAGE_MAPPING, get_stop_words

    words = set(get_stop_words("en"))
    lang = (language or "").split("-")[0].lower()
    if lang in LANGUAGE_MAPPING and lang != "en":
        words.update(get_stop_words(lang))
    found = frozenset(w.lower() for w in words)
    # One object for equal lists: the tables keyed by them (_KNOWN) find their key by
    # identity, not by comparing ~1,300 words. Without a language and "en" (half and half
    # of the 200 real feeds' items) gave two equal sets, and every other lookup took 14 us.
    return _STOP_SETS.setdefault(found, found)


_STOP_SETS: dict[frozenset[str], frozenset[str]] = {}


def terms(title: str | None, text: str | None, language: str | None) -> Counter:
    """The term counts an article is compared by: headline words (twice) and the lead."""
    head, lead = headline_and_lead(title, text, language)
    for t in head:
        head[t] *= TITLE_WEIGHT
    return head + lead


def headline_and_lead(
    title: str | None, text: str | None, language: str | None
) -> tuple[Counter, Counter]:
    """The term counts of the headline and of the lead, apart."""
    stop = stop_words(language)
    head = Counter(_tokens(title or "", stop, 60, names=False))
    return head, lead_terms(text, language)


def lead_terms(text: str | None, language: str | None) -> Counter:
    """The term counts of the lead: the first ``LEAD_WORDS`` words of the text, read from
    its first ``LEAD_CHARS`` characters (nothing after them counts)."""
    # the lead is at the start: no need to scan a long text to its end
    return Counter(_tokens((text or "")[:LEAD_CHARS], stop_words(language), LEAD_WORDS, names=True))


def headline_lead_body(
    title: str | None,
    text: str | None,
    language: str | None,
    *,
    words: list[str] | None = None,
) -> tuple[Counter, Counter, Counter]:
    """The term counts of the headline, of the lead (the first ``LEAD_WORDS`` words of the
    text) and of the body after the lead up to ``BODY_WORDS`` words, apart.

    The body is read from ``words``, the text's normalized words (``fingerprints.tokens``:
    the reprint level has them already, furniture left out), without names: the lead gives
    those. Passing them spares a second reading of the text."""
    head, lead = headline_and_lead(title, text, language)
    if words is None:
        words = tokens(text)
    return head, lead, body_terms(words, language)


def body_terms(words: list[str], language: str | None) -> Counter:
    """The term counts of the body: ``words`` (the text's normalized words) from the
    ``LEAD_WORDS``-th to the ``BODY_WORDS``-th, without names (nothing after them counts)."""
    stop = stop_words(language)
    known = _known_words(stop)
    body: list[str] = []
    for word in words[LEAD_WORDS:BODY_WORDS]:
        terms = known.get(word)
        if terms is None:
            terms = known[word] = _terms_of(word, stop)
        if terms:
            body.extend(terms[:-1])
    return Counter(body)


# Each word with the punctuation in front of it (after a capital, that says whether the
# capital starts a sentence or marks a name). Digits and letters are split apart.
_TOKEN = re.compile(r"([^\w\s]*)\s*([^\W\d_]+|\d+)")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
# After one of these, a capital letter starts a sentence (or a headline) and names nothing.
_STARTERS = frozenset('.!?:;"“”«»()[]|-–—')


def _tokens(
    text: str, stop: frozenset[str], limit: int, *, names: bool, mark: int | None = None
) -> list:
    """Stemmed words, ``#`` numbers, and (``names``) ``@`` capitalised words that do not
    start a sentence: mid-sentence capitals are names, and a shared name is strong evidence.
    The first ``limit`` words of the text are read (stop words included in the count).
    With ``mark``, the list ends with one int: how many of its terms come from the first
    ``mark`` words."""
    out: list = []
    cut = None
    known = _known_words(stop)
    for i, (punct, tok) in enumerate(_TOKEN.findall(text)[:limit]):
        if i == mark:
            cut = len(out)
        terms = known.get(tok)
        if terms is None:
            terms = known[tok] = _terms_of(tok, stop)
        if not terms:
            continue
        name = terms[-1]  # a word's "@" term (not a term of the text itself), else None
        if name is None:
            out.extend(terms[:-1])
            continue
        out.append(terms[0])
        if names and i and not (punct and punct[-1] in _STARTERS):
            out.append(name)
    if mark is not None:
        out.append(len(out) if cut is None else cut)
    return out


def _terms_of(tok: str, stop: frozenset[str]) -> tuple:
    """The terms one token gives, then the ``@`` term it gives where it is capitalised
    inside a sentence (None if it can name nothing): ``#`` and a number of 2 digits or
    more, the words of a Chinese run or the bigrams of a Japanese or Korean one
    (:func:`_cjk_terms`), or a word's stem unless it is a stop word or a single letter; ()
    when it gives no term."""
    if tok.isdigit():
        if len(tok) < 2:
            return ()  # a lone digit says nothing
        if not tok.isascii() and tok.isdecimal():
            tok = str(int(tok))  # one number in any script's digits: "٢٠٢٠" is 2020
        return ("#" + tok, None)
    if not tok.isascii() and _CJK.search(tok):
        return (*_cjk_terms(tok, _chinese(stop)), None)
    low = tok.lower()
    if len(low) < 2 or low in stop:
        return ()
    stem = low[:PREFIX]
    return (stem, "@" + stem if tok[0].isupper() else None)


def _cjk_terms(tok: str, chinese: bool) -> list[str]:
    """A run written without spaces: in a Chinese article, Chinese (Han characters only)
    cut into words by jieba's dictionary, words of one character left out (particles,
    mostly); otherwise (Japanese, Korean, a Chinese name in another language's article) as
    overlapping character bigrams. Words put Chinese cosines on the scale of the other
    languages: with bigrams, SemEval's same-story Chinese pairs had a median cosine of 0.27,
    under one threshold for all languages (0.36 with words). Segmenting costs about 0.6 ms
    CPU more per Chinese article, and about a second once, for the dictionary."""
    if not chinese or _KANA_HANGUL.search(tok):
        return [tok[k : k + 2] for k in range(max(1, len(tok) - 1))]
    # HMM=False: the dictionary's words only (its guesses at unknown words changed nothing on
    # SemEval's Chinese pairs and cost a fifth more time)
    words = _segmenter().lcut(tok, HMM=False)
    return [w.lower() for w in words if len(w) > 1 and not w.isspace()]


@lru_cache(maxsize=64)
def _chinese(stop: frozenset[str]) -> bool:
    """Whether these are the stop words of a Chinese article (their language is not passed
    further down: each language has its own list)."""
    return stop == stop_words("zh")


_KANA_HANGUL = re.compile(r"[\u3040-\u30ff\uac00-\ud7af]")


@lru_cache(maxsize=1)
def _segmenter():
    """jieba's tokenizer with its own dictionary (shipped in the package; loaded on the first
    Chinese article, about a second)."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    # Built from the shipped dictionary here rather than by tok.initialize(), which loads
    # and rewrites a shared jieba.cache in the system temp folder: another user's file
    # there would be trusted (marshal) or, when it cannot be replaced, a traceback and a
    # stray 9 MB file would be left in every process. Building costs what loading did.
    tok.FREQ, tok.total = tok.gen_pfdict(tok.get_dict_file())
    tok.initialized = True
    return tok


# token -> its terms, per stop-word list: most tokens of an article are words seen before,
# and looking them up is several times cheaper than lower-casing, testing and cutting them
_KNOWN: dict[frozenset[str], dict[str, tuple]] = {}
KNOWN_WORDS = 200_000  # per language; the table starts again when it is full


def _known_words(stop: frozenset[str]) -> dict[str, tuple]:
    known = _KNOWN.get(stop)
    if known is None or len(known) > KNOWN_WORDS:
        known = _KNOWN[stop] = {}
    return known


# (id of a Vectors' counts, part) -> (those counts, the part): see Vectors.part
_PARTS: dict[tuple[int, str], tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]] = {}
PARTS_KEPT = 64


class Vectors(NamedTuple):
    """An article as term ids (sorted) and the count of each in the headline (row 0), the
    lead (row 1) and the body after it (row 2): two small arrays, from which each vector is
    computed when needed."""

    ids: np.ndarray  # int32
    counts: np.ndarray  # uint8, shape (3, len(ids))

    def part(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Term ids and 1 + log(count) weights of the whole ("all": the headline counted
        TITLE_WEIGHT times, and the lead), of the "long" view (the whole and the body), of
        the "text" (the lead and the body, without the headline), or of the "headline" or
        the "lead" alone. (Read-only arrays: the last few are remembered, because one
        article's parts are scored against each story it may join, then indexed.)"""
        key = (id(self.counts), name)
        hit = _PARTS.get(key)
        if hit is not None and hit[0] is self.counts:
            return hit[1]
        ids, weights = self._part(name)
        ids, weights = ids.view(), weights.view()
        ids.flags.writeable = weights.flags.writeable = False
        if len(_PARTS) >= PARTS_KEPT:
            _PARTS.clear()
        # the counts are held with the result, so their id is not another array's meanwhile
        _PARTS[key] = (self.counts, (ids, weights))
        return ids, weights

    def _part(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        counts = self.counts
        if name == "long":
            return self.ids, tf_weights(counts, body=True)
        if name == "all":
            keep = (counts[0] | counts[1]) > 0
            return self.ids[keep], tf_weights(counts[:, keep])
        if name == "text":  # the lead and the body, the headline left out
            n = counts[1].astype(np.float32) + counts[2]
            keep = n > 0
            return self.ids[keep], 1.0 + np.log(n[keep])
        row = counts[0 if name == "headline" else 1]
        keep = row > 0
        return self.ids[keep], 1.0 + np.log(row[keep].astype(np.float32))


def tf_weights(counts: np.ndarray, *, body: bool = False) -> np.ndarray:
    """1 + log(count) of the whole (headline TITLE_WEIGHT times, and lead), with ``body``
    of the long view (and the body)."""
    n = TITLE_WEIGHT * counts[0].astype(np.float32) + counts[1]
    if body:
        n += counts[2]
    return 1.0 + np.log(n)
