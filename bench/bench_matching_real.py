"""Matching on real text nobody on the project wrote: LGL countries (and hooks for more).

LGL (../shared/corpora/countries-lgl/lgl.jsonl; $NEWSWATCH_CORPORA overrides
../shared/corpora): 588 real US local news articles with every place mention resolved to
GeoNames. The definitions are the issue's (issue 14):

- precision: a country the matcher tags counts as right when any mention in the article
  resolves to it (it is in the article's ``doc_countries``);
- recall of named countries: over the countries mentioned by name (toponyms whose
  ``fcode`` is ``PCL*``), per article.

The matcher is the shipped default (data/newswatch.toml; city gazetteer off, as shipped);
the same matcher with the opt-in city gazetteer is printed beside it, and so is the
flashgeotext figure the issue quotes. Other sections come from sibling modules when they
exist: ``bench/tiers_real.py`` (Factbook tier statements) and ``bench/trafficking_real.py``
(the trafficking watch on real text); each exposes ``main(matcher)``.

    .venv/bin/python bench/bench_matching_real.py [--errors N]
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections import Counter
from pathlib import Path

import results

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
BENCH = "matching_real"

from alerts.matcher import Matcher  # noqa: E402
from scheduler import load_config  # noqa: E402

LGL = results.corpus("countries-lgl") / "lgl.jsonl"
# flashgeotext on LGL with the same definitions (issue 14): the comparable open tool.
PEER = {"precision": 0.809, "recall": 0.762}
TARGETS = {"precision": 0.95, "recall": 0.98}
SECTIONS = ("tiers_real", "trafficking_real")


def load_lgl(path: Path = LGL) -> list[dict]:
    """The LGL articles: text, the named countries (PCL*) and every resolved country."""
    out = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            a = json.loads(line)
            named = {
                t["country"]
                for t in a["toponyms"]
                if t.get("fcode", "").startswith("PCL") and t.get("country")
            }
            out.append(
                {
                    "id": a["doc_id"],
                    "text": a["text"],
                    "named": named,
                    "gold": set(a.get("doc_countries") or []),
                }
            )
    return out


def score(matcher: Matcher, articles: list[dict]) -> dict:
    """Precision, recall of named countries, and the errors behind them."""
    tp = fp = hit = named = found_all = gold_all = 0
    fps: Counter = Counter()
    fns: Counter = Counter()
    examples: dict[tuple, list[str]] = {}
    for a in articles:
        res = matcher.match("", a["text"])
        got = set(res.countries)
        for c in got:
            if c in a["gold"]:
                tp += 1
            else:
                fp += 1
                fps[c] += 1
                examples.setdefault(("fp", c), []).append(_context(a, res, c))
        hit += len(a["named"] & got)
        named += len(a["named"])
        found_all += len(a["gold"] & got)
        gold_all += len(a["gold"])
        for c in a["named"] - got:
            fns[c] += 1
            examples.setdefault(("fn", c), []).append(a["id"])
    return {
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": hit / named if named else 1.0,
        "recall_all": found_all / gold_all if gold_all else 1.0,
        "found_all": found_all,
        "gold_all": gold_all,
        "tp": tp,
        "fp": fp,
        "hit": hit,
        "named": named,
        "fps": fps,
        "fns": fns,
        "examples": examples,
    }


def _context(a: dict, res, code: str) -> str:
    """The first place in the article where the matcher found ``code`` (for the error list)."""
    text = a["text"]
    for s, e, c in res.country_spans:
        if c == code:
            return f"{a['id']}: {text[max(0, s - 60) : e + 40]!r}"
    return a["id"]


def report(label: str, s: dict, errors: int) -> None:
    print(
        f"  {label:34} precision {s['precision']:.3f} ({s['tp']} right, {s['fp']} wrong)   "
        f"recall of named countries {s['recall']:.3f} ({s['hit']}/{s['named']})"
    )
    print(
        f"  {'':34} recall of every country the article resolves to (cities included): "
        f"{s['recall_all']:.3f} ({s['found_all']}/{s['gold_all']})"
    )
    if errors:
        print(f"    wrong tags: {dict(s['fps'].most_common(errors))}")
        print(f"    missed named countries: {dict(s['fns'].most_common(errors))}")


def examples(s: dict, limit: int) -> None:
    """Every wrong tag in context, and the articles behind each missed country."""
    for (kind, code), where in sorted(s["examples"].items()):
        for w in where[:limit]:
            print(f"    {kind} {code} {w}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--errors", type=int, default=10, help="list the N most frequent errors")
    ap.add_argument("--examples", type=int, default=0, help="show N examples of each error")
    args = ap.parse_args()
    cfg = load_config(REPO / "data" / "newswatch.toml")
    t = time.perf_counter()
    matcher = Matcher.compile(
        cfg.watches,
        cfg.term_sets,
        cfg.gazetteer.aliases,
        cities=cfg.gazetteer.cities,
        tier_formulas=cfg.gazetteer.tier_formulas,
    )
    print(f"compiled the default matcher in {time.perf_counter() - t:.2f} s")
    if not LGL.exists():
        results.skip(BENCH, f"LGL: {LGL} is absent")
    else:
        articles = load_lgl()
        print(f"\nLGL: {len(articles)} articles ({LGL})")
        shipped = score(matcher, articles)
        report(f"shipped defaults (cities {'on' if cfg.gazetteer.cities else 'off'})", shipped,
               args.errors)  # fmt: skip
        examples(shipped, args.examples)
        t = time.perf_counter()
        with_cities = Matcher.compile(
            cfg.watches, cfg.term_sets, cfg.gazetteer.aliases, cities=True
        )
        print(f"  (city gazetteer compiled in {time.perf_counter() - t:.2f} s)")
        cities = score(with_cities, articles)
        report("city gazetteer on ([gazetteer] cities)", cities, args.errors)
        examples(cities, args.examples)
        print(
            f"  {'flashgeotext (issue 14)':34} precision {PEER['precision']:.3f}"
            f"{'':22}recall of named countries {PEER['recall']:.3f}"
        )
        for key in ("precision", "recall"):
            results.record(
                BENCH,
                f"LGL {key}",
                shipped[key],
                baseline=PEER[key],
                baseline_label="flashgeotext",
                target=TARGETS[key],
                note="shipped defaults",
            )
            results.record(BENCH, f"LGL {key}, city gazetteer on", cities[key],
                           target=TARGETS[key], note="opt-in")  # fmt: skip
        results.record(BENCH, "LGL recall of every resolved country", shipped["recall_all"],
                       note="shipped defaults")  # fmt: skip
        results.record(BENCH, "LGL recall of every resolved country, cities on",
                       cities["recall_all"], note="opt-in")  # fmt: skip
    for name in SECTIONS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            print(f"\n{name}: not present (bench/{name}.py), skipped")
            continue
        print()
        try:
            module.main(matcher)
        except Exception as e:  # another module's work in progress must not hide these
            print(f"{name}: failed: {type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
