"""The default `trafficking` watch on real text nobody on the project wrote.

Three sets from ../shared/corpora ($NEWSWATCH_CORPORA overrides it), each skipped when absent:

- tip-factbook: every Factbook `current_situation` text is trafficking coverage, so the
  watch must fire on each (recall);
- real-feeds: 6,555 real feed items; every firing is printed with the phrases that fired,
  for a verdict by eye (precision is judged on that list);
- story-pairs, countries-lgl, article-extraction and story-clusters: general news in ten
  languages (SemEval 2022 task 8) and English (LGL local news, extraction benchmark pages,
  ECB+), where drug, arms and wildlife trafficking and smuggling of goods appear; every
  firing is printed for a verdict (a false positive shows up here).

``figures(matcher)`` returns the numbers; ``main(matcher)`` prints them and records them
through bench/results.py. Run alone or from bench/bench_matching_real.py:

    .venv/bin/python bench/trafficking_real.py [--quiet]
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import re
import sys
from pathlib import Path

import results

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
BENCH = "matching_real"
WATCH = "trafficking"
_TAG = re.compile(r"<[^>]+>")


def factbook() -> list[dict]:
    """Factbook trafficking texts: one per country and edition (current_situation)."""
    path = results.corpus("tip-factbook") / "factbook-2006-2013.jsonl"
    if not path.exists():
        return []
    out = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row.get("current_situation"):
                key = f"{row['iso2']}-{row['factbook_year']}"
                out.append({"id": key, "title": "", "text": row["current_situation"]})
    return out


def real_feeds() -> list[dict]:
    """The items of the real feeds: title and plain text of content or summary."""
    folder = results.corpus("real-feeds")
    if not folder.is_dir():
        return []
    import feedparser

    out = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        d = feedparser.parse(path.read_bytes(), sanitize_html=False, resolve_relative_uris=False)
        for i, e in enumerate(d.entries):
            parts = [c.get("value", "") for c in e.get("content", [])] or [e.get("summary", "")]
            text = html.unescape(_TAG.sub(" ", " ".join(parts)))
            out.append(
                {
                    "id": f"{path.name}#{i}",
                    "title": html.unescape(e.get("title", "")),
                    "text": " ".join(text.split()),
                }
            )
    return out


def general_news() -> list[dict]:
    """Story-pairs texts (10 languages), LGL US local news, the article-extraction pages and
    ECB+ articles: mostly not about trafficking, with drug and arms trafficking among them."""
    out = []
    pairs = results.corpus("story-pairs") / "semeval2022-task8-train-sample.csv"
    if pairs.exists():
        csv.field_size_limit(1 << 30)
        seen = set()
        with pairs.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                for k in ("1", "2"):
                    text = row[f"text{k}"]
                    if text and text not in seen:
                        seen.add(text)
                        out.append(
                            {
                                "id": f"pair {row['pair_id']}/{k} ({row[f'lang{k}']})",
                                "title": "",
                                "text": text,
                            }  # fmt: skip
                        )
    lgl = results.corpus("countries-lgl") / "lgl.jsonl"
    if lgl.exists():
        with lgl.open(encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                out.append({"id": f"lgl {row['doc_id']}", "title": "", "text": row["text"]})
    truth = results.corpus("article-extraction") / "ground-truth.json"
    if truth.exists():
        for key, row in json.loads(truth.read_text(encoding="utf-8")).items():
            out.append({"id": f"extraction {key[:12]}", "title": "", "text": row["articleBody"]})
    ecb = results.corpus("story-clusters") / "ecbplus.jsonl"
    if ecb.exists():
        with ecb.open(encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                out.append({"id": f"ecb+ {row['doc_id']}", "title": "", "text": row["text"]})
    return out


def firings(matcher, articles: list[dict]) -> list[tuple[dict, list[str]]]:
    """(article, phrases that fired) for every article the watch fires on."""
    out = []
    for a in articles:
        res = matcher.match(a["title"], a["text"])
        if WATCH in res.watches:
            out.append((a, res.watch_terms.get(WATCH, [])))
    return out


def figures(matcher) -> dict:
    """Recall on the Factbook texts; the firings on real feeds and on general news."""
    fb = factbook()
    fired_fb = {a["id"] for a, _ in firings(matcher, fb)}
    feeds = real_feeds()
    news = general_news()
    return {
        "factbook_total": len(fb),
        "factbook_fired": len(fired_fb),
        "factbook_missed": [a for a in fb if a["id"] not in fired_fb],
        "feeds_total": len(feeds),
        "feeds_firings": firings(matcher, feeds),
        "news_total": len(news),
        "news_firings": firings(matcher, news),
    }


def _show(label: str, found: list[tuple[dict, list[str]]], quiet: bool) -> None:
    if quiet:
        return
    for a, terms in found:
        head = a["title"] or a["text"][:90]
        print(f"    {label} {a['id']}: {head[:110]!r}  <- {terms[:6]}")


def main(matcher=None, quiet: bool = False) -> dict:
    """Print and record the trafficking watch's figures on real text."""
    if matcher is None:
        from alerts.matcher import Matcher
        from scheduler import load_config

        cfg = load_config(REPO / "data" / "newswatch.toml")
        matcher = Matcher.compile(cfg.watches, cfg.term_sets, cfg.gazetteer.aliases)
    f = figures(matcher)
    print("the default `trafficking` watch on real text")
    if f["factbook_total"]:
        recall = f["factbook_fired"] / f["factbook_total"]
        print(
            f"  Factbook current_situation: fires on {f['factbook_fired']}/"
            f"{f['factbook_total']} (recall {recall:.3f})"
        )
        results.record(BENCH, "trafficking watch recall (Factbook)", recall, target=1.0)
        for a in f["factbook_missed"]:
            print(f"    missed {a['id']}: {a['text'][:160]!r}")
    else:
        results.skip(BENCH, "trafficking watch: tip-factbook is absent")
    if f["feeds_total"]:
        print(f"  real-feeds: fires on {len(f['feeds_firings'])}/{f['feeds_total']} items")
        _show("fired", f["feeds_firings"], quiet)
        results.record(BENCH, "trafficking watch firings (real-feeds)",
                       len(f["feeds_firings"]), "items", better="higher")  # fmt: skip
    if f["news_total"]:
        print(
            f"  general news (story-pairs, LGL, extraction pages, ECB+): fires on {len(f['news_firings'])}/"
            f"{f['news_total']} texts (each is listed for a verdict)"
        )
        _show("fired", f["news_firings"], quiet)
    return f


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quiet", action="store_true", help="only the figures")
    main(quiet=ap.parse_args().quiet)
