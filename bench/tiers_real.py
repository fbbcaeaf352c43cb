"""Tier statements on real official text: the CIA World Factbook's trafficking field.

../shared/corpora/tip-factbook/factbook-2006-2013.jsonl ($NEWSWATCH_CORPORA overrides
../shared/corpora) holds 387 real statements of 2006-2013. Each row gives the country
(``iso2``), the tier the Factbook heads it with (``tier``), the report year it cites
(``tip_report_year``) and the statement itself without that heading (``tier_rating_body``):
the body is what the matcher reads, as ``matcher.match("", body)``.

Figures, split the way issue 14 asks:

- **in words**: bodies that name a tier ("Tier 3", "Tier 2 Watch List");
- **formulas only**: bodies that name none and speak only through the report's
  minimum-standards formulas ("does not fully comply ...");
- **neither**: bodies with no tier and no formula (any statement there is wrong).

Per body: *right* when the matcher gives the row's country exactly the row's tier and no
tier to any other country; *wrong* when it gives the row's country another tier, or gives
any other country a tier (each body speaks of one country, so that tier is unfounded);
*silent* otherwise. Report years are judged on the right ones: right, wrong (a year other
than the cited one) or none.

Some Factbook entries head a statement cited from one report with the next report's tier
(the 2010 entries for Chad, Fiji, Malaysia and Niger cite the 2009 report, which placed them
on Tier 3, in its words, under the 2010 heading "Tier 2 Watch List"). Each wrong verdict is
checked against ../shared/corpora/tip-tiers/map_tiers.csv, and the count of readings that
match the real tier of the report year the text cites is printed beside it: they still
count as wrong. So is how many wrong ones the matcher read from a formula alone (its
``basis`` "formula", the weaker reading), and the verdicts on the whole field as the
Factbook prints it, heading included (``tier_rating_text``): there the heading and a
formula of another year's report meet, and the matcher says nothing. Last, every statement
is checked against map_tiers.csv for the report year it states itself.

The headline is the shipped default, which gives no tier read from a formula alone
(``[gazetteer] tier_formulas = false``: the wrong readings above are all of that kind, and
nothing in their text tells them from the right ones). The same figures with the opt-in
(``tier_formulas = true``) are printed after it, labelled as not the default.

    .venv/bin/python bench/tiers_real.py [--show wrong|silent|all]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import results

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
BENCH = "matching_real"
PATH = results.corpus("tip-factbook") / "factbook-2006-2013.jsonl"
# Real placements per country and report year (1 Tier 1, 2 Tier 2, 3 Watch List, 4 Tier 3).
MAP = results.corpus("tip-tiers") / "map_tiers.csv"
MAP_TIERS = {"1": "Tier 1", "2": "Tier 2", "3": "Tier 2 Watch List", "4": "Tier 3"}
TARGET_IN_WORDS = 0.97

from alerts.matcher import Matcher  # noqa: E402
from scheduler import load_config  # noqa: E402

# The split is the bench's own reading of the text, independent of the matcher's rules.
_IN_WORDS = re.compile(
    r"\btier\s*(?:1|2|3|one|two|three)\b|\bwatch\s*list\b|\bspecial case\b", re.I
)
_FORMULA = re.compile(r"minimum standards", re.I)
KINDS = ("in words", "formulas only", "neither")
# The tiers a formula can settle alone (Tier 2 and its Watch List share one formula).
SETTLED_BY_FORMULA = ("Tier 1", "Tier 3")


def rows(path: Path = PATH) -> Iterator[dict]:
    """The Factbook rows that carry a statement and a tier."""
    with path.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row.get("tier_rating_body") and row.get("tier"):
                yield row


def kind(body: str) -> str:
    """Which of KINDS a statement is."""
    if _IN_WORDS.search(body):
        return "in words"
    return "formulas only" if _FORMULA.search(body) else "neither"


def judge(row: dict, statements) -> tuple[str, str | None]:
    """("right" | "wrong" | "silent", year verdict or None) for one row."""
    mine = {t.tier for t in statements if t.country == row["iso2"]}
    others = [t for t in statements if t.country != row["iso2"]]
    if others or (mine and mine != {row["tier"]}):
        return "wrong", None
    if not mine:
        return "silent", None
    years = {t.year for t in statements}
    if years == {row["tip_report_year"]}:
        return "right", "right"
    return "right", "none" if years == {None} else "wrong"


def real_tiers(matcher: Matcher, path: Path = MAP) -> dict[tuple[str, int], str]:
    """(country code, report year) -> tier, from map_tiers.csv ({} when it is absent)."""
    if not path.exists():
        return {}
    out = {}
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            code = matcher.gazetteer.lookup(row["countryname"])
            if code and row["tier"] in MAP_TIERS:
                out[(code, int(row["year"]))] = MAP_TIERS[row["tier"]]
    return out


def figures(matcher: Matcher | None = None, path: Path = PATH) -> dict | None:
    """The Factbook figures: per kind, counts of right / wrong / silent and of report years
    (right / wrong / none among the right ones), and the cases behind each verdict.
    None when the corpus is absent."""
    if not path.exists():
        return None
    if matcher is None:
        matcher = default_matcher()
    out = {
        k: {"total": 0, "right": 0, "wrong": 0, "silent": 0, "years": {}, "cases": []}
        for k in KINDS
    }
    real = real_tiers(matcher)
    for f in out.values():
        f["wrong, real tier of the cited year"] = 0
        f["wrong by formula"] = 0
    out["whole field"] = {"total": 0, "right": 0, "wrong": 0, "silent": 0}
    # Every statement against map_tiers.csv for the report year it states (an independent
    # record; statements with no year, or a year the map lacks, are not judged).
    out["by map"] = {"judged": 0, "agree": 0, "disagree": []}
    for row in rows(path):
        body = row["tier_rating_body"]
        statements = matcher.match("", body).tiers
        verdict, year = judge(row, statements)
        f = out[kind(body)]
        f["total"] += 1
        f[verdict] += 1
        if year:
            f["years"][year] = f["years"].get(year, 0) + 1
        mine = {t.tier for t in statements if t.country == row["iso2"]}
        if verdict == "wrong" and mine == {real.get((row["iso2"], row["tip_report_year"]))}:
            f["wrong, real tier of the cited year"] += 1
        if verdict == "wrong" and all(t.basis == "formula" for t in statements):
            f["wrong by formula"] += 1
        by_map = out["by map"]
        for t in statements:
            known = real.get((t.country, t.year)) if t.year else None
            if known:
                by_map["judged"] += 1
                if known == t.tier:
                    by_map["agree"] += 1
                else:
                    by_map["disagree"].append((row["factbook_year"], t, known))
        # The whole field as the Factbook prints it, heading included ("Tier 2 Watch List -
        # the Government of ..."): the heading and a formula of another year's report
        # disagree there, and the reader says nothing.
        if row.get("tier_rating_text"):
            w = out["whole field"]
            w["total"] += 1
            w[judge(row, matcher.match("", row["tier_rating_text"]).tiers)[0]] += 1
        if row["tier"] in SETTLED_BY_FORMULA:
            f["settleable"] = f.get("settleable", 0) + 1
            f["settleable right"] = f.get("settleable right", 0) + (verdict == "right")
        got = sorted(f"{t.country}:{t.tier}:{t.year}:{t.basis}" for t in statements)
        f["cases"].append((verdict, row, got))
    return out


def default_matcher(**settings) -> Matcher:
    """The shipped default matcher (data/newswatch.toml); ``settings`` override its
    ``[gazetteer]`` ones (``tier_formulas=True``: the opt-in)."""
    cfg = load_config(REPO / "data" / "newswatch.toml")
    g = cfg.gazetteer.model_copy(update=settings)
    return Matcher.compile(
        cfg.watches, cfg.term_sets, g.aliases, cities=g.cities, tier_formulas=g.tier_formulas
    )


def report(figs: dict) -> int:
    """Print one matcher's figures; returns its wrong tiers anywhere."""
    for k in KINDS:
        f = figs[k]
        n = f["total"] or 1
        y = f["years"]
        print(
            f"  {k:14} {f['total']:4} texts: right {f['right']:4} ({f['right'] / n:.3f})  "
            f"wrong {f['wrong']:3}  silent {f['silent']:4}   report year on the right ones: "
            f"right {y.get('right', 0)}, wrong {y.get('wrong', 0)}, none {y.get('none', 0)}"
        )
        if k == "formulas only" and f.get("settleable"):
            print(
                f"  {'':14} of the {f['settleable']} labelled Tier 3 or Tier 1 (a formula can "
                f"settle those alone), right {f['settleable right']}"
            )
        if f["wrong"]:
            print(
                f"  {'':14} of the {f['wrong']} wrong, {f['wrong by formula']} are read from "
                f"a formula alone (basis 'formula'), "
                f"{f['wrong, real tier of the cited year']} give the tier map_tiers.csv "
                "records for the report year the text cites (the heading is a later year's)"
            )
    wrong = sum(figs[k]["wrong"] for k in KINDS)
    by_formula = sum(figs[k]["wrong by formula"] for k in KINDS)
    years_wrong = sum(figs[k]["years"].get("wrong", 0) for k in KINDS)
    print(
        f"  wrong tiers anywhere: {wrong} (in words: {wrong - by_formula}, from a formula "
        f"alone: {by_formula}); wrong report years: {years_wrong}"
    )
    m = figs["by map"]
    print(
        f"  against map_tiers.csv for the year each statement states: {m['judged']} judged, "
        f"{m['agree']} agree, {len(m['disagree'])} disagree"
        + "".join(
            f"\n    Factbook {fy}: {t.country} {t.tier} ({t.year}, {t.basis}); map: {known}"
            for fy, t, known in m["disagree"]
        )
    )
    w = figs["whole field"]
    print(
        f"  the whole field, heading included ({w['total']} texts): right {w['right']}, "
        f"wrong {w['wrong']}, silent {w['silent']}"
    )
    return wrong


def cases(figs: dict, show: str, label: str) -> None:
    """List the wrong, silent or all cases of one matcher's figures."""
    for k in KINDS:
        for verdict, row, got in figs[k]["cases"]:
            if show == "all" or verdict == show:
                print(
                    f"\n[{label}, {k}] {verdict}: {row['factbook_year']} {row['iso2']} "
                    f"{row['tier']} ({row['tip_report_year']}) got {got}\n  "
                    f"{row['tier_rating_body'][:600]}"
                )


def main(matcher: Matcher | None = None, show: str | None = None) -> None:
    """Print (and record) the Factbook figures, shipped defaults first and then with the
    opt-in ``tier_formulas`` beside them; ``show`` lists the wrong, silent or all cases.
    ``matcher`` is the shipped default one when the caller has it compiled."""
    figs = figures(matcher)
    if figs is None:
        results.skip(BENCH, f"Factbook tiers: {PATH} is absent")
        return
    print(
        f"Factbook tier statements 2006-2013 ({PATH}), shipped defaults "
        "([gazetteer] tier_formulas = false: no tier from a formula alone):"
    )
    wrong = report(figs)
    opt_in = figures(default_matcher(tier_formulas=True))
    print(
        "\nthe same with the opt-in [gazetteer] tier_formulas = true (NOT the default: tiers "
        "read from a formula alone too):"
    )
    opt_in_wrong = report(opt_in)
    words = figs["in words"]
    results.record(
        BENCH,
        "Factbook tiers in words right",
        words["right"] / (words["total"] or 1),
        target=TARGET_IN_WORDS,
        note=f"{words['total']} statements 2006-2013",
    )
    formulas = figs["formulas only"]
    results.record(
        BENCH,
        "Factbook tiers by formula only right",
        formulas["right"] / (formulas["total"] or 1),
        note="shipped: silent on a formula alone (tier_formulas off)",
    )
    results.record(BENCH, "Factbook wrong tiers", wrong, target=0, better="lower")
    results.record(BENCH, "Factbook wrong tiers, whole field with heading",
                   figs["whole field"]["wrong"], target=0, better="lower")  # fmt: skip
    formulas = opt_in["formulas only"]
    results.record(BENCH, "Factbook tiers by formula only right, tier_formulas on",
                   formulas["right"] / (formulas["total"] or 1), note="opt-in")  # fmt: skip
    results.record(BENCH, "Factbook wrong tiers, tier_formulas on", opt_in_wrong,
                   better="lower", note="opt-in")  # fmt: skip
    if show:
        cases(figs, show, "shipped")
        cases(opt_in, show, "tier_formulas on")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show", choices=("wrong", "silent", "all"), help="list these cases")
    main(show=ap.parse_args().show)
