"""The matcher: one Aho-Corasick automaton over every country name and query term.

``Matcher.compile(watches, term_sets, aliases)`` builds it once per watchlist;
``matcher.match(title, text, source)`` gives the countries, the terms with their offsets,
the watches that fire and the tier statements of one article.

Offsets are into ``title + "\\n\\n" + text`` (just ``text`` when the title is empty).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import ahocorasick

from alerts import gazetteer, query, tiers
from alerts.config import Watch
from alerts.gazetteer import Gazetteer, Name, fold
from alerts.language import detect_language
from alerts.query import Leaf, Node
from alerts.tiers import TierStatement

SEPARATOR = "\n\n"
_CONTEXT = 60
_CAPS_WORD = re.compile(r"[A-Z]{3,}")


@dataclass
class MatchResult:
    """What one article matched.

    ``terms`` holds (matched text, start, end) for country names and query terms;
    ``watch_terms`` the terms each matching watch fired on; ``country_spans`` (start, end,
    code) for every country name that counted.
    """

    countries: list[str]
    terms: list[tuple[str, int, int]]
    watches: list[str]
    tiers: list[TierStatement]
    watch_terms: dict[str, list[str]] = field(default_factory=dict)
    # watches whose query evaluation hit its bound (query_eval.BUDGET) on this article
    stopped: list[str] = field(default_factory=list)
    country_spans: list[tuple[int, int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Watch:
    name: str
    countries: frozenset[str]
    query: Node | None
    exclude: Node | None
    sources: frozenset[str]
    title: bool
    text: bool
    cities: bool = False


def _compile_watch(w: Watch, term_sets: Mapping[str, list[str]]) -> _Watch:
    return _Watch(
        name=w.name,
        countries=frozenset(w.countries),
        query=query.parse(w.query, term_sets) if w.query else None,
        exclude=query.parse(w.exclude, term_sets) if w.exclude else None,
        sources=frozenset(w.sources),
        title="title" in w.fields,
        text="text" in w.fields,
        cities=bool(getattr(w, "cities", False)),
    )


_NON_LATIN = re.compile("[\u0370-\u1fff\u3000-\uffff]")


def _latin(c: str) -> bool:
    """Latin letters, digits, punctuation and symbols: the one automaton most text needs."""
    return ord(c) < 0x370 or 0x2000 <= ord(c) < 0x3000


@lru_cache(maxsize=4096)
def _script(c: str) -> str:
    """The script a pattern's first character belongs to ("latin", "CYRILLIC", "CJK"...)."""
    if _latin(c):
        return "latin"
    return unicodedata.name(c, "OTHER").split(" ")[0]


def _is_kana(c: str) -> bool:
    return "\u30a0" <= c <= "\u30ff"


def _script_bound(bound: str, folded: str, start: int, end: int) -> bool:
    """Whether a name in a script without spaces meets its neighbours properly."""
    if bound == "han":
        return True
    if bound == "kana":  # a katakana word is a run of katakana: the name must be all of it
        return not (start > 0 and _is_kana(folded[start - 1])) and not (
            end < len(folded) and _is_kana(folded[end])
        )
    return not (start > 0 and folded[start - 1].isalnum())  # hangul: a word start


def _in_word(entry: tuple[str, object]) -> bool:
    """Whether a pattern item may match inside a word (see ``Matcher._scan``): a name in a
    script without spaces, a name after a prefix (Arabic "و"), a Chinese or Japanese term."""
    kind, item = entry
    if kind == "c":
        return item.bound != "word" or item.prefixes is not None
    return "\u3040" <= item.pattern[:1] <= "\u9fff"


def _word_head(folded: str, start: int) -> str:
    """What precedes ``start`` inside its word (up to 3 characters; longer is never a
    prefix)."""
    i = start
    while i > 0 and start - i < 3 and (folded[i - 1].isalnum() or folded[i - 1] == "_"):
        i -= 1
    if i > 0 and (folded[i - 1].isalnum() or folded[i - 1] == "_"):
        return folded[i - 1 : start]  # 4 or more: not a prefix of any name
    return folded[i:start]


class Matcher:
    """A compiled watchlist: build once with :meth:`compile`, then :meth:`match` per article."""

    def __init__(
        self,
        gaz: Gazetteer,
        watches: list[_Watch],
        cities: bool = False,
        tier_formulas: bool = False,
    ):
        self.gazetteer = gaz
        self.watches = watches
        self.cities = cities  # city-implied countries count for every watch and the result
        self.tier_formulas = tier_formulas  # tiers read from a formula alone (opt-in)
        entries: dict[str, list[tuple[str, object]]] = {}
        for n in gaz.names:
            entries.setdefault(n.pattern, []).append(("c", n))
        for w in watches:
            for node in (w.query, w.exclude):
                for lf in query.leaves(node) if node is not None else ():
                    entries.setdefault(lf.pattern, []).append(("q", lf))
        # The words without which an article has no tier statement, found in the same pass
        # (anywhere, even inside a word), so tiers.find need not look for them again.
        for t in tiers.TRIGGERS:
            entries.setdefault(t, []).append(("t", None))
        # One automaton per script of a pattern's first letter: pyahocorasick slows down on
        # every character when the root of its trie has many children (measured: Latin text
        # through an automaton of the Cyrillic, Arabic, CJK... names alone ran 7x slower
        # than through the Latin one). A text meets the automata of its own scripts only.
        # Each pattern's value says up front whether it is a tier trigger and whether any
        # of its items can match inside a word: most hits in English text are short names
        # inside longer words ("us" in "because"), skipped before any other work.
        by_script: dict[str, dict[str, tuple]] = {}
        for pattern, items in entries.items():
            group = by_script.setdefault(_script(pattern[0]), {})
            unique = tuple(dict.fromkeys(items))
            trigger = unique[-1][0] == "t"  # always the last item of its pattern
            if trigger:
                unique = unique[:-1]
            group[pattern] = (len(pattern), unique, any(map(_in_word, unique)), trigger)
        self._automata: dict[str, ahocorasick.Automaton] = {}
        for script, group in by_script.items():
            a = ahocorasick.Automaton()
            for pattern, value in group.items():
                a.add_word(pattern, value)
            a.make_automaton()
            self._automata[script] = a
        self._automaton = self._automata.get("latin") or ahocorasick.Automaton()

    @classmethod
    def compile(
        cls,
        watches: Sequence[Watch] = (),
        term_sets: Mapping[str, list[str]] | None = None,
        aliases: Mapping[str, list[str]] | None = None,
        cities: bool = False,
        tier_formulas: bool = False,
    ) -> Matcher:
        """Build the matcher for ``watches``; raises QueryError or GazetteerError.

        ``cities`` turns the city gazetteer on for everything; a watch with ``cities`` set
        turns it on for that watch alone. ``tier_formulas`` gives tier statements read from
        the report's minimum-standards formula alone (see ``tiers.find``)."""
        compiled = [_compile_watch(w, term_sets or {}) for w in watches]
        with_cities = cities or any(w.cities for w in compiled)
        gaz = gazetteer.build(aliases, cities=with_cities)
        return cls(gaz, compiled, cities, tier_formulas)

    def match(
        self,
        title: str | None,
        text: str | None,
        source: str | None = None,
        language: str | None = None,
    ) -> MatchResult:
        """Match one article: countries, terms with offsets, watches, tier statements.

        ``language`` (ISO 639-1, e.g. from extraction) says which languages' country names
        apply besides English; when it is None and a name needs it, it is detected."""
        title = title or ""
        text = text or ""
        doc = f"{title}{SEPARATOR}{text}" if title else text
        text_start = len(title) + len(SEPARATOR) if title else 0
        folded = fold(doc)
        lang = language.split("-")[0].split("_")[0].lower() if language else None
        spans, qhits, triggered = self._scan(doc, folded, lang)
        named = [(s, e, c) for s, e, c, kind in spans if not kind.startswith("city")]
        with_cities = [(s, e, c) for s, e, c, _ in spans]
        countries = with_cities if self.cities else named
        codes = list(dict.fromkeys(code for _, _, code in countries))
        terms = [(doc[s:e], s, e) for s, e, _ in countries]
        for spans in qhits.values():
            terms.extend((doc[s:e], s, e) for s, e in spans)
        terms.sort(key=lambda t: t[1])
        fired: dict[str, list[str]] = {}
        stopped: list[str] = []
        for w in self.watches:
            try:
                seen = with_cities if w.cities else countries
                got = self._watch(w, doc, folded, seen, qhits, source, text_start)
            except query.EvaluationLimit:  # undecided here; the other watches go on
                stopped.append(w.name)
                continue
            if got is not None:
                fired[w.name] = got
        statements = tiers.find(
            doc, folded, named, triggered=triggered, formulas=self.tier_formulas
        )
        return MatchResult(
            codes, terms, list(fired), statements, fired, stopped=stopped, country_spans=countries
        )

    def _scan(
        self, doc: str, folded: str, lang: str | None = None
    ) -> tuple[list[tuple[int, int, str, str]], dict[Leaf, list[tuple[int, int]]], bool]:
        """Country spans (start, end, code, kind: "", "demonym" or a city's kind), query
        term hits, and whether a tier trigger word occurs."""
        n = len(folded)
        cands: list[tuple[int, int, Name]] = []
        qhits: dict[Leaf, list[tuple[int, int]]] = {}
        triggered = False
        for last, (length, items, in_word, trigger) in self._hits(folded):
            if trigger:
                triggered = True
                if not items:
                    continue
            start = last - length + 1
            joined = start > 0 and (folded[start - 1].isalnum() or folded[start - 1] == "_")
            if joined and not in_word:
                continue
            end = last + 1
            bounded = end >= n or not (folded[end].isalnum() or folded[end] == "_")
            for kind, item in items:
                if kind == "c" and item.bound != "word":
                    if not _script_bound(item.bound, folded, start, end):
                        continue
                    if item.langs is None:
                        cands.append((start, end, item))
                        continue
                if kind == "q" and "\u3040" <= item.pattern[:1] <= "\u9fff":
                    # Chinese and Japanese terms: no spaces between words, any substring
                    qhits.setdefault(item, []).append((start, end))
                    continue
                if joined or (kind == "c" and item.prefixes is not None):
                    # inside a word: only after a prefix the name allows (Arabic "و")
                    if kind == "q" or item.prefixes is None:
                        continue
                    if _word_head(folded, start) not in item.prefixes:
                        continue
                if kind == "q":
                    if item.prefix:  # report the whole word a wildcard matched
                        stop = end
                        while stop < n and folded[stop].isalnum():
                            stop += 1
                        qhits.setdefault(item, []).append((start, stop))
                    elif bounded:
                        qhits.setdefault(item, []).append((start, end))
                    continue
                stop = end
                if item.endings is None:
                    if not bounded:
                        continue
                else:
                    while stop < n and folded[stop].isalnum():
                        stop += 1
                    if folded[end:stop] not in item.endings:
                        continue
                if item.exact is not None and not self._acronym(doc, start, end, item.exact):
                    continue
                if item.capital and doc[start].islower():
                    continue
                if self._excluded(doc, folded, start, stop, item):
                    continue
                cands.append((start, stop, item))
        cands.sort(key=lambda c: (c[0], c[0] - c[1]))
        out: list[tuple[int, int, str, str]] = []
        last_stop = -1
        # A name of another language than English counts only in a text of that language;
        # the language is detected only when such a name would add a country.
        ungated = {item.code for _, _, item in cands if item.langs is None}
        for start, stop, item in cands:
            if start >= last_stop:
                if item.langs is not None and item.code not in ungated:
                    if lang is None:
                        gaz = self.gazetteer
                        lang = detect_language(doc, gaz.function_words, gaz.function_share)
                    if lang not in item.langs:
                        continue
                last_stop = stop
                if item.code:
                    kind = item.city or ("demonym" if item.demonym else "")
                    out.append((start, stop, item.code, kind))
        if self.gazetteer.senses is not None:
            out = self.gazetteer.senses.filter(doc, folded, out)
        return out, qhits, triggered

    def _hits(self, folded: str):
        """(last index, value) for every pattern in ``folded``, through the automata of the
        scripts it is written in."""
        hits = [self._automaton.iter(folded)] if "latin" in self._automata else []
        if _NON_LATIN.search(folded):
            scripts = {_script(c) for c in set(folded) if not _latin(c)}
            hits += [self._automata[s].iter(folded) for s in scripts if s in self._automata]
        return itertools.chain.from_iterable(hits)

    @staticmethod
    def _acronym(doc: str, start: int, end: int, exact: str) -> bool:
        """Case-sensitive, and not inside an all-caps run ("HELP US FIGHT")."""
        if doc[start:end] != exact:
            return False
        before = doc[max(0, start - 20) : start].split()
        after = doc[end : end + 20].split()
        return not (
            before
            and after
            and _CAPS_WORD.fullmatch(before[-1].strip(".,:;!?\"'"))
            and _CAPS_WORD.fullmatch(after[0].strip(".,:;!?\"'"))
        )

    def _excluded(self, doc: str, folded: str, start: int, stop: int, item: Name) -> bool:
        rule = self.gazetteer.rules.get((item.code, folded[start:stop]))
        if rule is None:
            return False
        src = doc if rule.case else folded
        if rule.before and rule.before.search(src[max(0, start - _CONTEXT) : start]):
            return True
        return bool(rule.after and rule.after.search(src[stop : stop + _CONTEXT]))

    def _watch(
        self,
        w: _Watch,
        doc: str,
        folded: str,
        countries: list[tuple[int, int, str]],
        qhits: dict[Leaf, list[tuple[int, int]]],
        source: str | None,
        text_start: int,
    ) -> list[str] | None:
        """The terms ``w`` fired on, or None when it does not match."""
        if w.sources and source not in w.sources:
            return None
        lo, hi = 0, len(doc)
        if not w.text:
            hi = text_start
        elif not w.title:
            lo = text_start
        if (lo, hi) != (0, len(doc)):
            countries = [c for c in countries if lo <= c[0] < hi]
            qhits = {
                k: kept for k, v in qhits.items() if (kept := [s for s in v if lo <= s[0] < hi])
            }
        terms: list[str] = []
        if w.countries:
            names = [doc[s:e] for s, e, code in countries if code in w.countries]
            if not names:
                return None
            terms.extend(names)
        if w.query is not None:
            spans = query.spans(w.query, qhits, folded)
            if not spans:
                return None
            terms.extend(doc[s:e] for s, e in spans if e > s)
        if w.exclude is not None and query.evaluate(w.exclude, qhits, folded):
            return None
        return list(dict.fromkeys(terms))
