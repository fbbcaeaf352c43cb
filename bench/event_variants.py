"""Kinds of evidence measured for the event level at the pairs level (bench/event_pairs.py)
and not shipped: a language-wide rarity prior for the idf from wordfreq's frequency lists,
and simplemma's lemmas instead of 6-letter prefixes. The figures: docs/architecture.md
(event level)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict

from crawler import event_terms


def index_idf(df: Counter, n: int):
    """The event index's idf: log((N + 1) / (df + 1)) + 1 over the corpus's articles."""

    def idf(t: str) -> float:
        return math.log((n + 1) / (df.get(t, 0) + 1)) + 1

    return idf


_PRIOR: dict = {}


def prior_freqs(lang: str, wordlist: str = "best") -> dict[str, float]:
    """wordfreq's frequencies of a language summed per term (6-letter prefix, or the word
    for Chinese): the language-wide rarity of an event term."""
    key = (lang, wordlist)
    if key not in _PRIOR:
        import wordfreq

        out: dict[str, float] = defaultdict(float)
        try:
            d = wordfreq.get_frequency_dict(lang, wordlist)
        except LookupError:
            d = {}
        stop = event_terms.stop_words(lang)
        for w, f in d.items():
            for t in event_terms._terms_of(w, stop)[:1]:
                out[t] += f
        _PRIOR[key] = dict(out)
    return _PRIOR[key]


def prior_idf(df: Counter, n: int, lang: str, c: float, w: float, wordlist="best"):
    base = index_idf(df, n)
    freqs = prior_freqs(lang, wordlist)
    top = math.log(n + 1) + 1

    def idf(t: str) -> float:
        i = base(t)
        f = freqs.get(t)
        if f is None or t[0] in "#@":
            return i
        p = min(top, max(1.0, -math.log(f) - c))
        if w < 0:  # the lower of the two: common in the language or in the index
            return min(p, i)
        return w * p + (1 - w) * i

    return idf


def lemma_terms(mode: str):
    """A headline_lead_body that cuts words to simplemma's lemma (``lemma``), or to the
    lemma's 6-letter prefix (``lemma6``), instead of a 6-letter prefix of the word."""
    import simplemma

    from crawler.event_terms import stop_words

    original = event_terms._terms_of
    langs = {}

    def terms_of(tok, stop):
        out = original(tok, stop)
        lang = langs.get(stop)
        if len(out) != 2 or out[0] is None or out[0][0] == "#" or lang in (None, "zh"):
            return out
        try:
            lem = simplemma.lemmatize(tok, lang=lang).lower()
        except ValueError:
            return out
        if lem in stop:
            return ()
        stem = lem if mode == "lemma" else lem[: int(mode[5:])]
        return (stem, "@" + stem if out[1] is not None else None)

    def fn(title, text, lang, *, words=None):
        stop = stop_words(lang)
        langs[stop] = lang
        event_terms._terms_of = terms_of
        try:
            return event_terms.headline_lead_body(title, text, lang, words=words)
        finally:
            event_terms._terms_of = original

    return fn
