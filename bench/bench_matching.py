"""Matching quality and speed.

Quality: precision and recall for countries, watches and tiers on the labelled set
(tests/fixtures/matching/labelled.toml) with the default watchlist (data/newswatch.toml).

Speed: the full matcher (every country in every language, the default watches, tier
statements) against a naive baseline measured in the same run: one Python `re`
alternation with re.IGNORECASE over the same English names, applied per article. The
articles are the item texts of ../shared/corpora/real-feeds, parsed with feedparser.
Prints figures; asserts nothing. Skips the speed part when the corpus is absent.

    .venv/bin/python bench/bench_matching.py
"""

from __future__ import annotations

import csv
import html
import re
import sys
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from alerts import gazetteer  # noqa: E402
from alerts.matcher import Matcher  # noqa: E402
from scheduler import load_config  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "matching"
CORPUS = REPO.parent / "shared" / "corpora" / "real-feeds"
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
        for miss in sorted(got[key] - want[key])[:5]:
            print(f"    false positive: {miss}")
        for miss in sorted(want[key] - got[key])[:5]:
            print(f"    missed: {miss}")


def corpus_items() -> list[tuple[str, str]]:
    import feedparser

    items = []
    for path in sorted(p for p in CORPUS.rglob("*") if p.is_file()):
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


def speed(matcher: Matcher) -> None:
    if not CORPUS.is_dir():
        print(f"speed: skipped ({CORPUS} is absent)")
        return
    t = time.perf_counter()
    items = corpus_items()
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
            t = time.perf_counter()
            out = [fn(a, b) for a, b in items]
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
    path = REPO.parent / "shared" / "corpora" / "tip-tiers" / "map_tiers.csv"
    if not path.exists():
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


def main() -> None:
    cfg = load_config(REPO / "data" / "newswatch.toml")
    t = time.perf_counter()
    matcher = Matcher.compile(cfg.watches, cfg.term_sets, cfg.gazetteer.aliases)
    print(
        f"compiled {len(matcher.gazetteer.names)} gazetteer patterns and "
        f"{len(cfg.watches)} watches in {time.perf_counter() - t:.2f} s\n"
    )
    quality(matcher)
    speed(matcher)
    tier_history_sample()


if __name__ == "__main__":
    main()
