"""Matching quality and speed.

Quality: precision and recall for countries, watches and tiers on the labelled set
(tests/fixtures/matching/labelled.toml) with the default watchlist (data/newswatch.toml).

Speed: the full matcher (every country in every language, the default watches, tier
statements) against a naive baseline measured in the same run: one Python `re`
alternation with re.IGNORECASE over the same English names, applied per article. The
articles are the item texts of ../shared/corpora/real-feeds ($NEWSWATCH_CORPORA overrides
../shared/corpora), parsed with feedparser. Prints figures and records them through
bench/results.py; asserts nothing. Skips the speed part when the corpus is absent.

    .venv/bin/python bench/bench_matching.py [--items N]
"""

from __future__ import annotations

import argparse
import csv
import html
import re
import sys
import time
import tomllib
from pathlib import Path

import results

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
BENCH = "matching"

from alerts import gazetteer  # noqa: E402
from alerts.matcher import Matcher  # noqa: E402
from scheduler import load_config  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "matching"
CORPUS = results.corpus("real-feeds")
TARGETS = {"countries": 0.95, "watches": 0.9, "tiers": 0.9}
_TAG = re.compile(r"<[^>]+>")


def labelled() -> list[dict]:
    data = tomllib.loads((FIXTURES / "labelled.toml").read_text(encoding="utf-8"))
    out = []
    for a in data["article"]:
        if "file" in a:
            title, _, text = (FIXTURES / a["file"]).read_text(encoding="utf-8").partition("\n")
            a = {**a, "title": title, "text": text}
        out.append(a)
    return out


def pr(found: set, expected: set) -> tuple[float, float, int, int, int]:
    tp = len(found & expected)
    p = tp / len(found) if found else 1.0
    r = tp / len(expected) if expected else 1.0
    return p, r, tp, len(found - expected), len(expected - found)


def quality(matcher: Matcher) -> None:
    got = {"countries": set(), "watches": set(), "tiers": set()}
    want = {"countries": set(), "watches": set(), "tiers": set()}
    articles = labelled()
    for a in articles:
        res = matcher.match(a["title"], a["text"])
        got["countries"] |= {(a["id"], c) for c in res.countries}
        got["watches"] |= {(a["id"], w) for w in res.watches}
        got["tiers"] |= {(a["id"], t.country, t.tier) for t in res.tiers}
        want["countries"] |= {(a["id"], c) for c in a["countries"]}
        want["watches"] |= {(a["id"], w) for w in a["watches"]}
        want["tiers"] |= {(a["id"], *t.split(":")[:2]) for t in a.get("tiers", [])}
    print(f"quality on the labelled set ({len(articles)} articles)")
    print(f"  {'':10} {'precision':>9} {'recall':>7} {'tp':>4} {'fp':>4} {'fn':>4}")
    for key in ("countries", "watches", "tiers"):
        p, r, tp, fp, fn = pr(got[key], want[key])
        print(f"  {key:10} {p:9.3f} {r:7.3f} {tp:4} {fp:4} {fn:4}")
        results.record(BENCH, f"{key} precision", p, target=TARGETS[key], note="labelled set")
        results.record(BENCH, f"{key} recall", r, target=TARGETS[key], note="labelled set")
        for miss in sorted(got[key] - want[key])[:5]:
            print(f"    false positive: {miss}")
        for miss in sorted(want[key] - got[key])[:5]:
            print(f"    missed: {miss}")


def corpus_items() -> list[tuple[str, str]]:
    import feedparser

    items = []
    paths = sorted(p for p in CORPUS.rglob("*") if p.is_file())
    for path in results.Progress(BENCH, "parsing feeds", len(paths)).iterate(paths):
        d = feedparser.parse(path.read_bytes(), sanitize_html=False, resolve_relative_uris=False)
        for e in d.entries:
            parts = [c.get("value", "") for c in e.get("content", [])] or [e.get("summary", "")]
            text = html.unescape(_TAG.sub(" ", " ".join(parts)))
            items.append((html.unescape(e.get("title", "")), " ".join(text.split())))
    return items


def english_names() -> dict[str, str]:
    """Folded English name -> code: CLDR English, curated ASCII aliases, demonyms."""
    from babel import Locale

    gaz = gazetteer.build(languages=("en",))
    return {
        n.pattern: n.code
        for n in gaz.names
        if n.code and n.pattern.isascii() and n.exact is None and n.endings is None
    } | {
        gazetteer.fold(name): code
        for code, name in Locale.parse("en").territories.items()
        if code in gaz.labels
    }


def baseline(names: dict[str, str]):
    rx = re.compile(
        r"\b(?:" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")\b",
        re.IGNORECASE,
    )

    def run(title: str, text: str) -> list[str]:
        found = {}
        for m in rx.finditer(f"{title}\n\n{text}"):
            code = names.get(m.group(0).lower())
            if code:
                found[code] = True
        return list(found)

    return run


def speed(matcher: Matcher, limit: int | None = None) -> None:
    if not CORPUS.is_dir():
        results.skip(BENCH, f"speed part: {CORPUS} is absent")
        return
    t = time.perf_counter()
    items = corpus_items()[:limit]
    parse_s = time.perf_counter() - t
    size = sum(len(a.encode()) + len(b.encode()) + 2 for a, b in items)
    print(
        f"\ncorpus: {len(items)} items, {size / 1e6:.2f} MB of title+text (UTF-8), "
        f"parsed in {parse_s:.1f} s (not timed below)"
    )
    names = english_names()
    naive = baseline(names)
    runs = {}
    for label, fn in (("baseline re.I alternation", naive), ("full matcher", matcher.match)):
        best = None
        for _ in range(1):
            progress = results.Progress(BENCH, f"{label}: items", len(items))
            t = time.perf_counter()
            out = [fn(a, b) for a, b in progress.iterate(items)]
            elapsed = time.perf_counter() - t
            best = elapsed if best is None else min(best, elapsed)
        runs[label] = (best, out)
        print(
            f"  {label:26} {best:7.2f} s  {size / 1e6 / best:7.2f} MB/s  "
            f"{len(items) / best:9.0f} articles/s"
        )
    base_s, base_out = runs["baseline re.I alternation"]
    full_s, full_out = runs["full matcher"]
    print(f"  speed-up: {base_s / full_s:.1f}x the baseline ({len(names)} English names in it)")
    mb = size / 1e6
    label = "re.I alternation"
    results.record(BENCH, "full matcher throughput", mb / full_s, "MB/s", baseline=mb / base_s,
                   baseline_label=label, target=5, target_ratio=20)  # fmt: skip
    results.record(BENCH, "full matcher articles/s", len(items) / full_s, "articles/s",
                   baseline=len(items) / base_s, baseline_label=label)  # fmt: skip
    with_country = sum(1 for r in full_out if r.countries)
    fired = sum(1 for r in full_out if r.watches)
    tiers = sum(len(r.tiers) for r in full_out)
    agree = sum(1 for b, r in zip(base_out, full_out, strict=True) if set(b) == set(r.countries))
    print(
        f"  full matcher: {with_country} items name a country, {fired} fire a watch, "
        f"{tiers} tier statements; same country set as the baseline on "
        f"{agree}/{len(items)} items"
    )


def tier_history_sample() -> None:
    """How the tier reader does on sentences built from real placements (map_tiers.csv)."""
    path = results.corpus("tip-tiers") / "map_tiers.csv"
    if not path.exists():
        print(f"tier sentences: skipped ({path} is absent)")
        return
    names = {1: "Tier 1", 2: "Tier 2", 3: "Tier 2 Watch List", 4: "Tier 3"}
    matcher = Matcher.compile()
    gaz = matcher.gazetteer
    total = right = 0
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["tier"] == "NA" or int(row["year"]) < 2010:
                continue
            code = gaz.lookup(row["countryname"])
            if code is None:
                continue
            tier = names[int(row["tier"])]
            text = (
                f"The {row['year']} Trafficking in Persons Report placed "
                f"{row['countryname']} on {tier}."
            )
            got = {(t.country, t.tier, t.year) for t in matcher.match("", text).tiers}
            total += 1
            right += got == {(code, tier, int(row["year"]))}
    print(f"\ntier sentences from map_tiers.csv (2010-2015): {right}/{total} read exactly")
    results.record(BENCH, "tier sentences read exactly", right / total, note="map_tiers.csv")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, help="time only the first N corpus items (default all)")
    args = ap.parse_args()
    cfg = load_config(REPO / "data" / "newswatch.toml")
    t = time.perf_counter()
    matcher = Matcher.compile(cfg.watches, cfg.term_sets, cfg.gazetteer.aliases)
    print(
        f"compiled {len(matcher.gazetteer.names)} gazetteer patterns and "
        f"{len(cfg.watches)} watches in {time.perf_counter() - t:.2f} s\n"
    )
    quality(matcher)
    speed(matcher, args.items)
    tier_history_sample()


if __name__ == "__main__":
    main()
