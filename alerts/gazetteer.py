"""The country gazetteer: CLDR names, curated aliases, demonyms and inflections -> patterns.

Names come from CLDR through Babel in several languages, plus the curated data under
``alerts/data/gazetteer/`` (aliases, demonyms, inflections, context rules). Everything is folded
with :func:`fold` (lower case, no diacritics, one apostrophe), which keeps every character
offset, so a match in the folded text is a match at the same place in the original.
"""

from __future__ import annotations

import csv
import itertools
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "gazetteer"
LANGUAGES = ("en", "ru", "az", "tr", "fr", "es", "ar")

# CLDR territories that are not ISO 3166-1 countries (Kosovo, XK, is kept on purpose).
_NOT_ISO = {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}
_APOSTROPHES = "\u2019\u2018\u02bc\u00b4`\u2032"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2212"
_AR_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")  # Arabic vowel marks and tatweel


def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in range(0x3000):
        c = chr(cp)
        base = "".join(
            ch for ch in unicodedata.normalize("NFKD", c) if not unicodedata.combining(ch)
        )
        low = base.lower() if len(base) == 1 else c.lower()
        if len(low) != 1:
            low = c
        if low != c:
            table[cp] = low
    for c in _APOSTROPHES:
        table[ord(c)] = "'"
    for c in _DASHES:
        table[ord(c)] = "-"
    table[0x131] = "i"  # dotless i: Turkish and Azerbaijani spellings fold together
    table[0xA0] = " "
    return table


FOLD = _fold_table()


def fold(text: str) -> str:
    """Lower-case ``text`` and strip diacritics, keeping its length (offsets stay valid)."""
    if text.isascii():
        return text.lower()
    out = text.translate(FOLD)
    if len(out) != len(text):  # a character outside the table folded to two; keep offsets
        out = "".join(FOLD.get(ord(c), c) if len(FOLD.get(ord(c), c)) == 1 else c for c in text)
    return out


@dataclass(frozen=True, slots=True)
class Name:
    """One pattern for a country (``code``), or a blocker when ``code`` is empty.

    ``exact`` is the original spelling when the match must be case-sensitive (acronyms);
    ``capital`` asks for an upper-case first letter; ``endings``, when set, lists what may
    follow the pattern inside the same word (inflections), instead of a word boundary, and
    ``prefixes`` what may precede it inside the same word (Arabic proclitics; "" when the
    name may also start the word).
    """

    pattern: str
    code: str
    exact: str | None = None
    capital: bool = False
    endings: frozenset[str] | None = None
    prefixes: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class ContextRule:
    """Drop ``name`` as ``country`` when the text before or after it matches."""

    country: str
    name: str
    before: re.Pattern | None
    after: re.Pattern | None
    case: bool


@dataclass
class Gazetteer:
    """Every country pattern, the blockers, the context rules, and English labels."""

    names: list[Name]
    rules: dict[tuple[str, str], ContextRule]
    labels: dict[str, str]

    def lookup(self, text: str) -> str | None:
        """A country code from a code (``az``) or a name in any language (``Azərbaycan``)."""
        t = text.strip()
        if len(t) == 2 and t.upper() in self.labels:
            return t.upper()
        key = fold(t)
        for n in self.names:
            if n.code and n.pattern == key:
                return n.code
        return None


class GazetteerError(ValueError):
    """A gazetteer data file or alias that cannot be used."""


def _load_toml(name: str) -> dict:
    path = DATA / name
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise GazetteerError(f"{path}: {e}") from None


def _cldr_variants(lang: str, name: str) -> list[str]:
    """Usable forms of one CLDR display name ("Myanmar (Burma)" -> Myanmar, Burma)."""
    if "SAR" in name or "САР" in name or "ÖİB" in name or "XİR" in name or "RAE" in name:
        return []  # "Hong Kong SAR China" and kin: the curated aliases cover these
    out = []
    m = re.match(r"^(.*?)\s*\((.*)\)\s*$", name)
    if m:
        out.append(m.group(1))
        if len(m.group(2)) >= 5:
            out.append(m.group(2))
    else:
        out.append(name)
    more = []
    for n in out:
        if " - " in n:  # "Congo - Kinshasa": the hyphenated form; plain "Congo" is an alias
            more.append(n.replace(" - ", "-"))
            continue
        more.append(n)
        if lang == "en" and "&" in n:
            more.append(n.replace("&", "and"))
        if lang == "en" and n.startswith("St. "):
            more.append("Saint " + n[4:])
            more.append("St " + n[4:])
    return [n for n in more if n]


def _ru_forms(name: str, rules: list[dict]) -> tuple[str, frozenset[str]]:
    """A Russian single-word name as (stem, allowed endings)."""
    low = name
    for rule in rules:
        if low.endswith(rule["when"]):
            stem = low[: len(low) - rule["strip"]] if rule["strip"] else low
            return stem, frozenset(fold(e) for e in rule["endings"])
    return low, frozenset({""})


# A Russian name whose word forms multiply past this is matched in the nominative only.
_MAX_PHRASE_FORMS = 200


def _ru_phrase_forms(name: str, infl: dict) -> list[str]:
    """Every form of a folded Russian name of several words, word by word (see
    ``[ru_phrase_adjectives]`` in inflections.toml); over-generating is harmless."""
    adjectives = {fold(k): [fold(e) for e in v] for k, v in infl["ru_phrase_adjectives"].items()}
    words = name.split(" ")
    plural = any(w[-2:] in ("ые", "ие") for w in words)
    forms: list[list[str]] = []
    for w in words:
        if w == "и" or not re.search(r"[а-я]", w):
            forms.append([w])
        elif w[-2:] in adjectives:
            forms.append([w[:-2] + e for e in adjectives[w[-2:]]])
        elif plural and w.endswith("ы"):
            forms.append([w[:-1] + e for e in infl["ru_plural_nouns"]["endings"]])
        else:
            stem, endings = _ru_forms(w, infl["ru"])
            forms.append([stem + e for e in sorted(endings)])
    total = 1
    for f in forms:
        total *= len(f)
    if total > _MAX_PHRASE_FORMS:
        return [name]
    return [" ".join(p) for p in itertools.product(*forms)]


def _base_names(languages: tuple[str, ...]) -> tuple[tuple[Name, ...], tuple[str, ...]]:
    """The shipped names (CLDR and curated data), without user aliases; cached per version of
    the data files, so a SIGHUP reload sees an edited file."""
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(DATA.iterdir()))
    return _base_names_cached(languages, DATA, stamp)


@lru_cache(maxsize=8)
def _base_names_cached(
    languages: tuple[str, ...], data: Path, stamp: tuple
) -> tuple[tuple[Name, ...], tuple[str, ...]]:
    from babel import Locale

    infl = _load_toml("inflections.toml")
    context = _load_toml("context.toml")
    capitalized = {fold(c) for c in context.get("capitalized", [])}
    aliases = _load_toml("aliases.toml")
    en = Locale.parse("en").territories
    codes = sorted(c for c in en if len(c) == 2 and c.isalpha() and c not in _NOT_ISO)
    names: list[Name] = []

    def add(text: str, code: str, **kw) -> None:
        pattern = fold(text.strip())
        if pattern:
            names.append(Name(pattern, code, **kw))

    cyrillic = re.compile(r"^[\u0400-\u04ff-]+$")
    cyrillic_phrase = re.compile(r"^[\u0400-\u04ff-]+(?: [\u0400-\u04ff\u2014-]+)+$")
    for code, entry in aliases.items():
        for a in entry.get("names", []):
            if cyrillic.match(a):  # a single Russian word: inflect it like the CLDR names
                stem, endings = _ru_forms(fold(a), infl["ru"])
                add(stem, code, capital=True, endings=endings)
            elif cyrillic_phrase.match(a):  # several: word by word
                for form in _ru_phrase_forms(fold(a), infl):
                    add(form, code, capital=True)
            else:
                add(a, code, capital=fold(a) in capitalized)
        for a in entry.get("acronyms", []):
            add(a, code, exact=a)
    with (DATA / "demonyms.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            for d in row["demonyms"].split("|"):
                add(d, row["code"], capital=True)
                if not d.endswith(("s", "sh", "ch", "ese")):
                    add(d + "s", row["code"], capital=True)
    not_names = {fold(n) for n in context.get("not_names", [])}

    def short(original: str, pattern: str) -> str | None:
        # A short non-English name must be written as a name ("Çad", not "CAD" or "çad").
        return original[: len(pattern)] if len(pattern) <= 4 else None

    az_suffixes = frozenset(fold(s) for s in infl["suffixes"]["az"])
    tr_suffixes = frozenset(fold(s) for s in infl["suffixes"]["tr"])
    ar_proclitics = frozenset(infl["ar"]["proclitics"])
    ar_lam = frozenset(infl["ar"]["lam_contracted"])
    for lang in languages:
        territories = Locale.parse(lang).territories
        for code in codes:
            for n in _cldr_variants(lang, territories.get(code, "")):
                if lang == "en":
                    add(n, code, capital=fold(n) in capitalized)
                    continue
                if fold(n) in not_names:  # "Salvador", "Maurice": first names, not countries
                    continue
                if lang == "ru" and " " not in n:
                    stem, endings = _ru_forms(fold(n), infl["ru"])
                    add(stem, code, exact=short(n, stem), capital=True, endings=endings)
                elif lang == "ru":
                    for form in _ru_phrase_forms(fold(n), infl):
                        add(form, code, capital=True)
                elif lang in ("az", "tr"):
                    endings = az_suffixes if lang == "az" else tr_suffixes
                    add(n, code, exact=short(n, fold(n)), capital=True, endings=endings)
                elif lang != "ar":
                    add(n, code, exact=short(n, fold(n)), capital=True)
                else:
                    n = _AR_MARKS.sub("", n)  # "عُمان": news is written without vowel marks
                    add(n, code, prefixes=ar_proclitics)
                    if n.startswith("ال"):  # "ل" + "السودان" is written "للسودان"
                        add("ل" + n[2:], code, prefixes=ar_lam)
    adj_endings = frozenset(fold(e) for e in infl["ru_adjective_endings"]["endings"])
    for code, stems in infl.get("ru_adjectives", {}).items():
        for s in stems:
            add(s, code, endings=adj_endings)
    for code, words in infl.get("ru_demonyms", {}).items():
        for w in words:
            add(w, code)
    for code, words in infl.get("az_demonyms", {}).items():
        for w in words:
            add(w, code, endings=az_suffixes)
    for b in context.get("blockers", []):
        add(b, "")
    return tuple(_resolve(names)), tuple(codes)


def _resolve(names: Iterable[Name]) -> list[Name]:
    """Drop duplicates, and a pattern's later meanings when two countries share it.

    Curated aliases and English come first, so they win over another language's
    homograph (a blocker always keeps its place: it never names a country).
    """
    owner: dict[str, str] = {}
    seen: set[Name] = set()
    out = []
    for n in names:
        if n in seen:
            continue
        first = owner.setdefault(n.pattern, n.code)
        if first != n.code and n.code and first:
            continue
        seen.add(n)
        out.append(n)
    return out


def _rules() -> dict[tuple[str, str], ContextRule]:
    out = {}
    for i, r in enumerate(_load_toml("context.toml").get("rules", [])):
        try:
            rule = ContextRule(
                country=r["country"],
                name=fold(r["name"]),
                before=re.compile(r["before"]) if r.get("before") else None,
                after=re.compile(r["after"]) if r.get("after") else None,
                case=bool(r.get("case", False)),
            )
        except (KeyError, re.error) as e:
            raise GazetteerError(f"{DATA / 'context.toml'}: rules[{i}]: {e}") from None
        out[(rule.country, rule.name)] = rule
    return out


def build(
    aliases: Mapping[str, list[str]] | None = None, languages: Iterable[str] = LANGUAGES
) -> Gazetteer:
    """The gazetteer for ``languages`` plus user ``aliases`` ({ISO code: [names]})."""
    from babel import Locale

    base, codes = _base_names(tuple(languages))
    names: list[Name] = []
    known = set(codes)
    for code, extra in (aliases or {}).items():  # the user's aliases win over shipped ones
        if code not in known:
            raise GazetteerError(f"gazetteer.aliases: {code!r} is not a known country code")
        names.extend(Name(fold(a.strip()), code) for a in extra if a.strip())
    names.extend(base)
    en = Locale.parse("en").territories
    labels = {c: en[c].replace(" - ", "-") for c in codes}
    return Gazetteer(names=_resolve(names), rules=_rules(), labels=labels)
