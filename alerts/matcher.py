"""The matcher: one Aho-Corasick automaton over every country name and query term.

``Matcher.compile(watches, term_sets, aliases)`` builds it once per watchlist;
``matcher.match(title, text, source)`` gives the countries, the terms with their offsets,
the watches that fire and the tier statements of one article.

Offsets are into ``title + "\\n\\n" + text`` (just ``text`` when the title is empty).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import ahocorasick

from alerts import gazetteer, query, tiers
from alerts.config import Watch
from alerts.gazetteer import Gazetteer, Name, fold
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


def _compile_watch(w: Watch, term_sets: Mapping[str, list[str]]) -> _Watch:
    return _Watch(
        name=w.name,
        countries=frozenset(w.countries),
        query=query.parse(w.query, term_sets) if w.query else None,
        exclude=query.parse(w.exclude, term_sets) if w.exclude else None,
        sources=frozenset(w.sources),
        title="title" in w.fields,
        text="text" in w.fields,
    )


def detect_language(doc: str) -> str:
    """The language of ``doc`` (ISO 639-1) by py3langid, from its first 600 characters:
    enough for a language, and only asked when a name of another language than English
    turns up."""
    import py3langid

    return py3langid.classify(doc[:600])[0]


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

    def __init__(self, gaz: Gazetteer, watches: list[_Watch]):
        self.gazetteer = gaz
        self.watches = watches
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
        self._automaton = ahocorasick.Automaton()
        for pattern, items in entries.items():
            self._automaton.add_word(pattern, (len(pattern), tuple(dict.fromkeys(items))))
        self._automaton.make_automaton()

    @classmethod
    def compile(
        cls,
        watches: Sequence[Watch] = (),
        term_sets: Mapping[str, list[str]] | None = None,
        aliases: Mapping[str, list[str]] | None = None,
    ) -> Matcher:
        """Build the matcher for ``watches``; raises QueryError or GazetteerError."""
        compiled = [_compile_watch(w, term_sets or {}) for w in watches]
        return cls(gazetteer.build(aliases), compiled)

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
        countries, qhits, triggered = self._scan(doc, folded, lang)
        codes = list(dict.fromkeys(code for _, _, code in countries))
        terms = [(doc[s:e], s, e) for s, e, _ in countries]
        for spans in qhits.values():
            terms.extend((doc[s:e], s, e) for s, e in spans)
        terms.sort(key=lambda t: t[1])
        fired: dict[str, list[str]] = {}
        stopped: list[str] = []
        for w in self.watches:
            try:
                got = self._watch(w, doc, folded, countries, qhits, source, text_start)
            except query.EvaluationLimit:  # undecided here; the other watches go on
                stopped.append(w.name)
                continue
            if got is not None:
                fired[w.name] = got
        statements = tiers.find(doc, folded, countries, triggered=triggered)
        return MatchResult(
            codes, terms, list(fired), statements, fired, stopped=stopped, country_spans=countries
        )

    def _scan(
        self, doc: str, folded: str, lang: str | None = None
    ) -> tuple[list[tuple[int, int, str]], dict[Leaf, list[tuple[int, int]]], bool]:
        n = len(folded)
        cands: list[tuple[int, int, Name]] = []
        qhits: dict[Leaf, list[tuple[int, int]]] = {}
        triggered = False
        for last, (length, items) in self._automaton.iter(folded):
            if items[-1][0] == "t":  # a tier trigger (always the last item of its pattern)
                triggered = True
                if len(items) == 1:
                    continue
                items = items[:-1]
            start = last - length + 1
            end = last + 1
            joined = start > 0 and (folded[start - 1].isalnum() or folded[start - 1] == "_")
            bounded = end >= n or not (folded[end].isalnum() or folded[end] == "_")
            for kind, item in items:
                if kind == "c" and item.bound != "word":
                    if not _script_bound(item.bound, folded, start, end):
                        continue
                    if item.langs is None:
                        cands.append((start, end, item))
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
        out: list[tuple[int, int, str, bool]] = []
        last_stop = -1
        # A name of another language than English counts only in a text of that language;
        # the language is detected only when such a name would add a country.
        ungated = {item.code for _, _, item in cands if item.langs is None}
        for start, stop, item in cands:
            if start >= last_stop:
                if item.langs is not None and item.code not in ungated:
                    if lang is None:
                        lang = detect_language(doc)
                    if lang not in item.langs:
                        continue
                last_stop = stop
                if item.code:
                    out.append((start, stop, item.code, item.demonym))
        if self.gazetteer.senses is not None:
            return self.gazetteer.senses.filter(doc, folded, out), qhits, triggered
        return [(s, e, c) for s, e, c, _ in out], qhits, triggered

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
