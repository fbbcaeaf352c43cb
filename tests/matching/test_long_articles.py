"""Long and adversarial articles: the tier reader's work grows with the text, not with its
square.

Each text repeats a tier statement, a country or a break tens of thousands of times (one
paragraph, one sentence without punctuation, one clause per ";", a paragraph per line,
headings, formulas). Before the reader took each clause's and paragraph's share of the
mentions and countries by binary search, every one of these ran for minutes; the timeouts
are guards far above what a linear reading needs, and the assertions are about what is
read (the statements, and that reading stops after ``tiers.TIER_ITEMS`` items).
"""

from __future__ import annotations

import re

import pytest

from alerts import tier_grammar, tiers
from alerts.gazetteer import fold

pytestmark = pytest.mark.slow  # whole long articles through the tier reader: seconds of CPU each

CODES = {"Azerbaijan": "AZ", "Armenia": "AM", "Ghana": "GH", "Burma": "MM", "Eritrea": "ER"}
_NAMES = re.compile("|".join(CODES))
ITEMS = getattr(tiers, "TIER_ITEMS", 2000)


def read(doc: str, formulas: bool = False) -> set[str]:
    """The tier statements of ``doc`` as "CODE:tier[:year]", its countries found by name
    (with ``formulas``, the opt-in readings from a formula alone too)."""
    countries = [(m.start(), m.end(), CODES[m.group(0)]) for m in _NAMES.finditer(doc)]
    found = tiers.find(doc, fold(doc), countries, formulas=formulas)
    return {f"{t.country}:{t.tier}" + (f":{t.year}" if t.year else "") for t in found}


@pytest.mark.timeout(60)
def test_one_paragraph_of_placements():
    # 40,000 sentences in one paragraph, each a placement: read up to the item budget.
    doc = "The trafficking report: " + "Azerbaijan is placed on Tier 2. " * 40_000
    assert read(doc) == {"AZ:Tier 2"}


@pytest.mark.timeout(60)
def test_countries_without_tiers_after_a_placement():
    # One placement, then 60,000 sentences (in one paragraph, then a paragraph each)
    # naming a country and no tier: these cost no budget (only sentences with a tier
    # mention do), and say nothing.
    for sep in (" ", "\n"):
        doc = "The trafficking report placed Ghana on Tier 3.\n" + f"Azerbaijan.{sep}" * 60_000
        assert read(doc) == {"GH:Tier 3"}


@pytest.mark.timeout(60)
def test_one_sentence_without_punctuation():
    unit = "Azerbaijan was placed on Tier 3 and Armenia on Tier 2 "
    # The short one is read; the same words 20,000 times are one sentence of 80,000 items,
    # more than the reader reads, and say nothing.
    assert read("Trafficking: " + unit) == {"AZ:Tier 3", "AM:Tier 2"}
    assert read("Trafficking: " + unit * 20_000) == set()


@pytest.mark.timeout(60)
def test_clauses_by_the_ten_thousand():
    unit = "Azerbaijan remained on Tier 3; "
    assert read("Trafficking report. " + unit * 2) == {"AZ:Tier 3"}
    # One sentence of 50,000 clauses holds 100,000 items: past the budget, not read.
    assert read("Trafficking report. " + unit * 50_000) == set()
    # The same clauses as sentences: read up to the budget.
    assert read("Trafficking report. " + unit.replace(";", ".") * 50_000) == {"AZ:Tier 3"}


@pytest.mark.timeout(60)
def test_a_paragraph_per_line():
    tier = {"Azerbaijan": "Tier 2", "Armenia": "Tier 1", "Ghana": "Tier 2 Watch List"}
    lines = [
        f"{name} was placed on {tier[name]} in the 2012 Trafficking in Persons report."
        for _ in range(10_000)
        for name in tier
    ]
    assert read("\n".join(lines)) == {
        "AZ:Tier 2:2012",
        "AM:Tier 1:2012",
        "GH:Tier 2 Watch List:2012",
    }


@pytest.mark.timeout(60)
def test_repeated_headings():
    head = "Trafficking in Persons report\n"
    line = "Tier 3 - Burma\nBurma is a source country for forced labor.\n"
    assert read(head + line) == {"MM:Tier 3"}
    assert read(head + line * 30_000) == {"MM:Tier 3"}


@pytest.mark.timeout(60)
def test_formulas_in_one_sentence():
    unit = "Azerbaijan fully meets the minimum standards for the elimination of trafficking and "
    assert read(unit.removesuffix(" and ") + ".", formulas=True) == {"AZ:Tier 1"}
    assert read(unit.removesuffix(" and ") + ".") == set()  # a formula alone: opt-in
    # one sentence of 30,000 countries: not read
    assert read(unit * 30_000, formulas=True) == set()


@pytest.mark.timeout(60)
def test_watch_lists_beside_tier_2():
    # "Tier 2 ... Watch List" within 30 characters, 30,000 times: each looks up the one
    # mention that may hold the watch list, not all of them.
    doc = "Trafficking. " + "Ghana is on Tier 2 and the Tier 2 Watch List. " * 30_000
    assert read(doc) == set()


def test_reading_stops_after_the_item_budget():
    """A placement is read when it comes first, and not after more than TIER_ITEMS tier
    mentions: the bound on one article's tier reading."""
    filler = "Tier 3 was discussed.\n" * (ITEMS + 10)
    statement = "The trafficking report placed Ghana on Tier 3.\n"
    assert read(statement + filler) == {"GH:Tier 3"}
    assert read(filler + statement) == set()
    r = tiers.rules()
    assert len(tier_grammar.mentions(fold(filler * 3), r, ITEMS + 1)) == ITEMS + 1


@pytest.mark.timeout(120)
def test_whole_article_through_the_matcher(default_matcher, formula_matcher):
    """countries, watches and tiers of one long article of dense trafficking wording (the
    tier from its formulas, read with the opt-in; as shipped, none)."""
    text = (
        "The government of Azerbaijan does not fully comply with the minimum standards for "
        "the elimination of trafficking and is not making significant efforts to do so; "
        "trafficking of women and children remained a concern. "
    ) * 2_000 + "trafficking women " * 20_000
    result = formula_matcher.match("Trafficking report", text)
    assert "AZ" in result.countries
    # 2,000 sentences of one country each: within the item budget, all read, one reading.
    assert [(t.country, t.tier) for t in result.tiers] == [("AZ", "Tier 3")]
    assert default_matcher.match("Trafficking report", text).tiers == []
