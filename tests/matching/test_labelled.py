"""The labelled set, checked in full: countries, watches and tiers of every article."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "matching"


def labelled() -> list[dict]:
    """The labelled articles, each with title, text and what a correct match gives."""
    articles = []
    for path in sorted(FIXTURES.glob("labelled*.toml")):  # labelled.toml and its companions
        articles += tomllib.loads(path.read_text(encoding="utf-8"))["article"]
    out = []
    for a in articles:
        if "file" in a:
            title, _, text = (FIXTURES / a["file"]).read_text(encoding="utf-8").partition("\n")
            a = {**a, "title": title.strip(), "text": text.strip()}
        out.append(a)
    return out


ARTICLES = labelled()


def _tiers(result) -> set[str]:
    return {f"{t.country}:{t.tier}" for t in result.tiers}


def _expected_tiers(article: dict, formulas: bool = False) -> tuple[set[str], dict[str, int]]:
    """The statements an article gives: ``tiers`` as shipped, plus ``formula_tiers`` (read
    from a minimum-standards formula alone) with ``[gazetteer] tier_formulas``."""
    tiers, years = set(), {}
    specs = article.get("tiers", []) + (article.get("formula_tiers", []) if formulas else [])
    for spec in specs:
        parts = spec.split(":")
        tiers.add(f"{parts[0]}:{parts[1]}")
        if len(parts) == 3:
            years[f"{parts[0]}:{parts[1]}"] = int(parts[2])
    return tiers, years


def test_the_set_is_large_and_multilingual():
    assert len(ARTICLES) >= 60
    assert {a.get("lang", "en") for a in ARTICLES} >= {"en", "ru", "az", "es", "fr", "tr", "ar"}
    assert len({a["id"] for a in ARTICLES}) == len(ARTICLES)


@pytest.mark.parametrize("article", ARTICLES, ids=[a["id"] for a in ARTICLES])
def test_labelled_article(default_matcher, article):
    result = default_matcher.match(article["title"], article["text"])
    assert sorted(result.countries) == sorted(article["countries"]), article["rule"]
    assert sorted(result.watches) == sorted(article["watches"]), article["rule"]
    tiers, years = _expected_tiers(article)
    assert _tiers(result) == tiers, article["rule"]
    for t in result.tiers:
        assert t.year == years.get(f"{t.country}:{t.tier}"), article["rule"]


@pytest.mark.parametrize("article", ARTICLES, ids=[a["id"] for a in ARTICLES])
def test_labelled_article_with_tier_formulas(formula_matcher, article):
    """With the opt-in: the same countries and watches, the statements in words unchanged,
    and the ones read from a formula alone (basis "formula") added."""
    result = formula_matcher.match(article["title"], article["text"])
    assert sorted(result.countries) == sorted(article["countries"]), article["rule"]
    assert sorted(result.watches) == sorted(article["watches"]), article["rule"]
    tiers, years = _expected_tiers(article, formulas=True)
    assert _tiers(result) == tiers, article["rule"]
    by_formula = _expected_tiers({"formula_tiers": article.get("formula_tiers", [])}, True)[0]
    for t in result.tiers:
        assert t.year == years.get(f"{t.country}:{t.tier}"), article["rule"]
        want = "formula" if f"{t.country}:{t.tier}" in by_formula else "words"
        assert t.basis == want, article["rule"]


def test_some_labelled_statements_need_the_formulas():
    assert any(a.get("formula_tiers") for a in ARTICLES)


def test_seed_article(default_matcher):
    seed = next(a for a in ARTICLES if a["id"] == "seed")
    result = default_matcher.match(seed["title"], seed["text"])
    assert set(result.countries) == {"AZ", "BY", "SD", "CU", "CN", "RU", "UA", "US"}
    assert result.watches == ["trafficking", "azerbaijan"]
    assert {(t.country, t.tier) for t in result.tiers} == {("AZ", "Tier 2"), ("RU", "Tier 3")}
    ru = next(t for t in result.tiers if t.country == "RU")
    assert "remaining on Tier 3" in ru.sentence
