"""Word forms of country names per language: case endings, suffixes, spelling variants.

The rules are data (``alerts/data/gazetteer/inflections.toml`` and ``languages.toml``); this
module only applies them. Every function takes and returns folded text (see
:func:`alerts.gazetteer.fold`), except :func:`spelling_variants`, which needs the original
letters to tell "ü" from "u".
"""

from __future__ import annotations

import itertools
import re

# A name whose word forms multiply past this is matched in its dictionary form only.
MAX_PHRASE_FORMS = 200

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def stem_forms(name: str, rules: list[dict]) -> tuple[str, frozenset[str]]:
    """A single-word name as (stem, allowed endings), by the first rule whose ``when``
    suffix fits it (Russian, Ukrainian and Polish noun declensions)."""
    for rule in rules:
        if name.endswith(rule["when"]):
            stem = name[: len(name) - rule["strip"]] if rule["strip"] else name
            return stem, frozenset(rule["endings"])
    return name, frozenset({""})


def ru_phrase_forms(name: str, infl: dict, fold) -> list[str]:
    """Every form of a Russian name of several words, word by word (see
    ``[ru_phrase_adjectives]`` in inflections.toml); over-generating is harmless."""
    adjectives = {fold(k): [fold(e) for e in v] for k, v in infl["ru_phrase_adjectives"].items()}
    rules = [{**r, "endings": [fold(e) for e in r["endings"]]} for r in infl["ru"]]
    words = name.split(" ")
    plural = any(w[-2:] in ("ые", "ие") for w in words)
    forms: list[list[str]] = []
    for w in words:
        if w == "и" or not _CYRILLIC.search(w):
            forms.append([w])
        elif w[-2:] in adjectives:
            forms.append([w[:-2] + e for e in adjectives[w[-2:]]])
        elif plural and w.endswith("ы"):
            forms.append([w[:-1] + e for e in infl["ru_plural_nouns"]["endings"]])
        else:
            stem, endings = stem_forms(w, rules)
            forms.append([stem + e for e in sorted(endings)])
    return _product(name, forms)


def german_phrase_forms(name: str, rules: dict) -> list[str]:
    """German forms of a name: the genitive of its last noun ("Irans", "Königreichs"), the
    dative plural of one in -e ("Niederlanden") and the weak adjective endings of the words
    before it ("Vereinigten Staaten")."""
    words = name.split(" ")
    forms: list[list[str]] = []
    for i, w in enumerate(words):
        if i == len(words) - 1:
            endings = list(rules["noun_endings"])
            if w.endswith("e"):  # the dative plural: "in den Niederlanden"
                endings += rules.get("noun_e_endings", [])
            forms.append([w + e for e in endings])
            continue
        for when, endings in rules["adjectives"].items():
            if w.endswith(when):
                forms.append([w[: len(w) - len(when)] + e for e in endings])
                break
        else:
            forms.append([w])
    return _product(name, forms)


def _product(name: str, forms: list[list[str]]) -> list[str]:
    total = 1
    for f in forms:
        total *= len(f)
    if total > MAX_PHRASE_FORMS:
        return [name]
    return list(dict.fromkeys(" ".join(p) for p in itertools.product(*forms)))


def spelling_variants(name: str, variants: dict[str, list[str]]) -> list[str]:
    """Other spellings of ``name`` (original letters): German "Türkei" -> "Tuerkei",
    "Russland" -> "Rußland" (umlauts written out, the pre-1996 "ß"), as ``variants`` maps
    a letter group to its alternatives."""
    out = [name]
    for letters, alternatives in variants.items():
        grown = []
        for n in out:
            if letters in n:
                grown.extend(n.replace(letters, a) for a in alternatives)
        out.extend(grown)
    return list(dict.fromkeys(out))


def saint_forms(name: str) -> list[str]:
    """English writes Saint, St. and St interchangeably ("St. Vincent", "Saint Kitts"); the
    other two for a name that starts with one (original letters, not folded)."""
    for lead in ("Saint ", "St. ", "St "):
        if name.startswith(lead):
            rest = name[len(lead) :]
            return [f + rest for f in ("Saint ", "St. ", "St ") if f != lead]
    return []
