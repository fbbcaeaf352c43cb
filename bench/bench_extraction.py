"""Benchmark: article extraction F1 and pages/s on ../shared/corpora/article-extraction.

    .venv/bin/python bench/bench_extraction.py [--pages N]

The metric is the benchmark's: per page, the multiset overlap of 4-token shingles between
extracted and true text gives precision and recall; both are averaged over pages and F1
is computed from the averages (target >= 0.95). Plain ``trafilatura.extract`` with
default settings runs over the same pages in the same run as the baseline. Never asserts;
skips with a message when the corpus is absent ($NEWSWATCH_CORPORA overrides
../shared/corpora). Figures are recorded through bench/results.py for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

import results

REPO = Path(__file__).resolve().parent.parent
CORPUS = results.corpus("article-extraction")
sys.path.insert(0, str(REPO))
BENCH = "extraction"


def shingles(text: str, n: int = 4) -> Counter:
    tokens = re.findall(r"\w+", (text or "").lower())
    return Counter(tuple(tokens[i : i + n]) for i in range(max(0, len(tokens) - n + 1)))


def score(pairs: list[tuple[str, str]]) -> tuple[float, float, float]:
    precisions, recalls = [], []
    for predicted, truth in pairs:
        p, t = shingles(predicted), shingles(truth)
        overlap = sum((p & t).values())
        precisions.append(overlap / sum(p.values()) if p else (1.0 if not t else 0.0))
        recalls.append(overlap / sum(t.values()) if t else 1.0)
    precision, recall = sum(precisions) / len(precisions), sum(recalls) / len(recalls)
    return precision, recall, 2 * precision * recall / (precision + recall)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, help="use only the first N pages (default: all 181)")
    args = ap.parse_args()
    if not CORPUS.is_dir():
        return results.skip(BENCH, f"{CORPUS} is absent (the corpus is not part of the project)")
    truth = json.loads((CORPUS / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key, entry in sorted(truth.items())[: args.pages]:
        path = CORPUS / "html" / f"{key}.html.gz"
        if path.exists():
            pages.append((gzip.decompress(path.read_bytes()), entry["url"], entry["articleBody"]))

    import trafilatura

    from crawler.extract import extract_article

    def baseline(html, url):
        return trafilatura.extract(html, url=url) or ""

    def ours(html, url):
        return extract_article(html, url=url)["text"] or ""

    figures = {}
    for label, fn in (("trafilatura.extract defaults", baseline), ("newswatch", ours)):
        progress = results.Progress(BENCH, f"{label}: pages", len(pages))
        t0 = time.perf_counter()
        pairs = [(fn(html, url), body) for html, url, body in progress.iterate(pages)]
        secs = time.perf_counter() - t0
        p, r, f1 = score(pairs)
        figures[label] = (p, r, f1, len(pairs) / secs)
        print(
            f"{label}: {len(pairs)} pages, precision {p:.3f}, recall {r:.3f}, F1 {f1:.3f}, "
            f"{len(pairs) / secs:.1f} pages/s",
            flush=True,
        )
    (bp, br, bf1, brate), (p, r, f1, rate) = figures.values()
    base_label = "trafilatura defaults"
    results.record(
        BENCH, "F1 (4-token shingles)", f1, baseline=bf1, baseline_label=base_label, target=0.95
    )
    results.record(BENCH, "precision", p, baseline=bp, baseline_label=base_label)
    results.record(BENCH, "recall", r, baseline=br, baseline_label=base_label)
    results.record(BENCH, "pages/s", rate, "pages/s", baseline=brate, baseline_label=base_label)
    ours_s, base_s = 1 / rate, 1 / brate
    print(
        f"time ratio (ours / baseline): {ours_s / base_s:.2f}x (ours adds metadata, "
        "date search and language detection)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
