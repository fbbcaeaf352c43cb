"""The words two articles on one event are compared by: headline and lead terms, stop
words out, 6-letter prefixes, CJK bigrams, ``#`` numbers and ``@`` mid-sentence names (the
choices and how they were made: :mod:`crawler.events`)."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

# The lead: headline plus this many words of the text (see the module docstring).
LEAD_WORDS = 80
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
    return frozenset(w.lower() for w in words)


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
    # the lead is at the start: no need to scan a long text to its end
    lead = Counter(_tokens((text or "")[: LEAD_WORDS * 12], stop, LEAD_WORDS, names=True))
    return head, lead


# Each word with the punctuation in front of it (after a capital, that says whether the
# capital starts a sentence or marks a name). Digits and letters are split apart.
_TOKEN = re.compile(r"([^\w\s]*)\s*([^\W\d_]+|\d+)")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
# After one of these, a capital letter starts a sentence (or a headline) and names nothing.
_STARTERS = frozenset('.!?:;"“”«»()[]|-–—')


def _tokens(text: str, stop: frozenset[str], limit: int, *, names: bool) -> list[str]:
    """Stemmed words, ``#`` numbers, and (``names``) ``@`` capitalised words that do not
    start a sentence: mid-sentence capitals are names, and a shared name is strong evidence.
    The first ``limit`` words of the text are read (stop words included in the count)."""
    out: list[str] = []
    first = True
    for punct, tok in _TOKEN.findall(text)[:limit]:
        if tok.isdigit():
            if len(tok) >= 2:  # a lone digit says nothing
                out.append("#" + tok)
        elif not tok.isascii() and _CJK.search(tok):
            # CJK runs are read as overlapping character bigrams
            out.extend(tok[i : i + 2] for i in range(max(1, len(tok) - 1)))
        else:
            low = tok.lower()
            if len(low) >= 2 and low not in stop:
                stem = low[:PREFIX]
                out.append(stem)
                if (
                    names
                    and not first
                    and tok[0].isupper()
                    and not (punct and punct[-1] in _STARTERS)
                ):
                    out.append("@" + stem)
        first = False
    return out
