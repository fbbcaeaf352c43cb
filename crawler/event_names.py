"""Events across languages: the evidence two articles in different languages share (names,
cognate word stems, numbers, dates), as :class:`Features` (the index they are looked up
in: :mod:`crawler.crosslang`).

The same-language event level (:mod:`crawler.events`) compares words; across languages
few words are shared, but much survives translation: names ("Erdoğan", "Erdogan",
"Эрдоган" all fold to ``erdogan`` through AnyAscii's transliteration tables), the stems of
international words ("pandemic", "Pandemie", "pandemia" share ``pande``), and numbers
(tolls, amounts, dates). An article's :class:`Features` are three kinds of terms:

* ``~`` the first ``PREFIX`` letters of each word of ``MIN_WORD`` letters or more, folded
  to ASCII (cognates; a word of another language that happens to share a prefix weighs
  little: such prefixes are common, so their idf is low);
* ``@`` names: capitalised words inside a sentence (a capital after a full stop or at a
  line start names nothing), and all-capital acronyms, folded whole. German capitalises
  every noun: its nouns count as names too (they match no other language's names, and
  leaving German capitals out lost 5 of the 17 German-English same-story pairs at 0.25);
* ``#`` numbers of two digits or more, thousands separators removed ("12,500", "12.500" and
  "12 500" are one number); digits glued to a word ("COVID-19", "G20") are part of a name.

and ``#d<month>-<day>`` dates ("December 18", "18 de diciembre", "12月18日"; month names
from Babel). Chosen on SemEval-2022 Task 8 (bench/bench_crosslang.py).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import NamedTuple

from anyascii import anyascii
from stop_words import LANGUAGE_MAPPING, get_stop_words

# An article is read up to this many characters (headline included): its lead and a body.
MAX_CHARS = 2000
PREFIX = 5
MIN_WORD = 4
MIN_NAME = 3
# Calendar dates as ``#d<month>-<day>`` terms.
DATES = True
_TOKEN = re.compile(r"([^\w\s]*)(\s*)([^\W\d_]+(?:[-'’]?\d+)?)")
_NUMBER = re.compile(
    r"(?<![\w.,\-])(\d{1,3}(?:([,. \u00a0\u202f])\d{3})(?:\2\d{3})*|\d+)(?:[.,](\d+))?(?!\w)"
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_NOT_ASCII_WORD = re.compile(r"[^a-z0-9]")
# After one of these, a capital letter starts a sentence (or a headline) and names nothing.
# (Not a bracket: "(Mitch McConnell)" in a Chinese text names.)
_STARTERS = frozenset('.!?:;"“”„«»|-–—•')


class Features(NamedTuple):
    """An article's cross-language terms (``~`` cognate stems, ``@`` names, ``#`` numbers)
    and how often each occurs, in the same order."""

    terms: tuple[str, ...]
    counts: tuple[int, ...]

    def __len__(self) -> int:  # type: ignore[override]
        return len(self.terms)


@lru_cache(maxsize=200_000)
def fold(word: str) -> str:
    """A word as lower-case ASCII letters and digits: transliterated (AnyAscii: "Erdoğan",
    "Эрдоган" -> "erdogan"), diacritics and punctuation dropped."""
    return _NOT_ASCII_WORD.sub("", anyascii(word).lower())


@lru_cache(maxsize=64)
def _stops(language: str) -> frozenset[str]:
    """The folded stop words of a language and of English (news quotes English), from the
    ``stop-words`` package (the lists the same-language event level uses)."""
    words = set(get_stop_words("en"))
    if language in LANGUAGE_MAPPING and language != "en":
        words.update(get_stop_words(language))
    return frozenset(fold(w) for w in words)


def names_of(title: str | None, text: str | None, language: str | None) -> Features:
    """What an article is compared with articles of other languages by (see the module
    docstring): the headline and the text up to ``MAX_CHARS`` characters."""
    lang = lang_code(language)
    known = _known_tokens(lang)
    body = f"{title or ''}\n{text or ''}"[:MAX_CHARS]
    out: list[str] = []
    for i, (punct, space, tok) in enumerate(_TOKEN.findall(body)):
        terms = known.get(tok)
        if terms is None:
            terms = known[tok] = _terms_of(tok, _stops(lang))
        stem, name, acronym = terms
        if stem:
            out.append(stem)
        # a capital names something inside a sentence (not after a full stop, a quote, a
        # line break), an acronym wherever it stands
        if name and (acronym or (i and punct[-1:] not in _STARTERS and "\n" not in space)):
            out.append(name)
    for m in _NUMBER.finditer(body):
        whole = m.group(1)
        if m.group(2):
            whole = re.sub(r"\D", "", whole)
        whole = whole.lstrip("0") or "0"
        frac = (m.group(3) or "").rstrip("0")
        if len(whole) < 2 and not frac:
            continue  # a lone digit says nothing
        out.append("#" + whole + ("." + frac if frac else ""))
    if DATES:
        out.extend(_dates(body, lang))
    counts = Counter(out)
    return Features(tuple(counts), tuple(counts.values()))


def _dates(text: str, lang: str) -> list[str]:
    """``#`` terms of the calendar dates in a text, as month and day ("December 18",
    "18 de diciembre", "18. Dezember", "12月18日" are all ``#d12-18``): month names of the
    language and of English from Babel's locale data."""
    months = _month_names(lang)
    out = []
    # from each one- or two-digit number, the month name after it ("18 de diciembre",
    # "18. Dezember") or before it ("December 18", not "May 2020")
    for m in _DAY.finditer(text):
        day = int(m.group())
        after = _MONTH_AFTER.match(text, m.end())
        month = months.get(after.group(1).lower()) if after else None
        if month is None and not _DECIMAL.match(text, m.end()):
            before = _MONTH_BEFORE.search(text, max(0, m.start() - 16), m.start())
            month = months.get(before.group(1).lower()) if before else None
        if month:
            out.append((month, day))
    for m in _CJK_DATE.finditer(text):
        out.append((int(m.group(1)), int(m.group(2))))
    return [f"#d{month}-{day}" for month, day in out if 1 <= month <= 12 and 1 <= day <= 31]


_DAY = re.compile(r"(?<!\d)\d{1,2}(?!\d)")
_DECIMAL = re.compile(r"[.,]\d")
_MONTH_AFTER = re.compile(r"\.?\s+(?:de\s+|di\s+)?([^\W\d_]{3,})")
_MONTH_BEFORE = re.compile(r"([^\W\d_]{3,})\.?\s+$")
_CJK_DATE = re.compile(r"(?<!\d)(\d{1,2})\s*月\s*(\d{1,2})\s*日")


@lru_cache(maxsize=64)
def _month_names(lang: str) -> dict[str, int]:
    """Lower-case month name -> month, of a language and of English (Babel)."""
    from babel import Locale, UnknownLocaleError
    from babel.dates import get_month_names

    months: dict[str, int] = {}
    for code in dict.fromkeys((lang, "en")):
        try:
            locale = Locale.parse(code)
        except (UnknownLocaleError, ValueError, TypeError):
            continue
        for context in ("format", "stand-alone"):
            for number, name in get_month_names("wide", context, locale).items():
                if len(name) >= 3 and not _CJK.search(name):
                    months[name.lower()] = number
    return months


def _terms_of(tok: str, stop: frozenset[str]) -> tuple[str | None, str | None, bool]:
    """A token's ``~`` stem, its ``@`` name if it is capitalised, and whether it is an
    acronym; CJK words give nothing (their transliteration matches few names)."""
    if _CJK.search(tok):
        return None, None, False
    f = fold(tok)
    if not f or f in stop:
        return None, None, False
    stem = "~" + f[:PREFIX] if len(f) >= MIN_WORD and not f[0].isdigit() else None
    if len(f) < MIN_NAME or not tok[0].isupper():
        return stem, None, False
    return stem, "@" + f, tok.isupper() and len(tok) > 1


# token -> its terms, per language: most tokens are words seen before, and a look-up is
# several times cheaper than transliterating again
_KNOWN: dict[str, dict[str, tuple]] = {}
KNOWN_TOKENS = 200_000  # per language; the table starts again when it is full


def _known_tokens(lang: str) -> dict[str, tuple]:
    known = _KNOWN.get(lang)
    if known is None or len(known) > KNOWN_TOKENS:
        known = _KNOWN[lang] = {}
    return known


def lang_code(language: str | None) -> str:
    """The language part of a tag, lower-case ("en-GB" -> "en")."""
    return (language or "").split("-")[0].lower()
