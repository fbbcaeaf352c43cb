"""Benchmark: article extraction F1 and pages/s on ../shared/corpora/article-extraction.

    .venv/bin/python bench/bench_extraction.py

The metric is the benchmark's: per page, the multiset overlap of 4-token shingles between
extracted and true text gives precision and recall; both are averaged over pages and F1
is computed from the averages (target >= 0.95). Plain ``trafilatura.extract`` with
default settings runs over the same pages in the same run as the baseline. Never asserts;
skips with a message when the corpus is absent.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpora" / "article-extraction"
sys.path.insert(0, str(REPO))


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
    if not CORPUS.is_dir():
        print(f"skipped: {CORPUS} is absent (the corpus is not part of the project)")
        return 0
    truth = json.loads((CORPUS / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key, entry in sorted(truth.items()):
        path = CORPUS / "html" / f"{key}.html.gz"
        if path.exists():
            pages.append((gzip.decompress(path.read_bytes()), entry["url"], entry["articleBody"]))

    import trafilatura

    from crawler.extract import extract_article

    t0 = time.perf_counter()
    base = [(trafilatura.extract(html, url=url) or "", body) for html, url, body in pages]
    base_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours = [(extract_article(html, url=url)["text"] or "", body) for html, url, body in pages]
    ours_s = time.perf_counter() - t0
    for label, pairs, secs in (
        ("trafilatura.extract defaults", base, base_s),
        ("newswatch extract_article", ours, ours_s),
    ):
        p, r, f1 = score(pairs)
        print(
            f"{label}: {len(pairs)} pages, precision {p:.3f}, recall {r:.3f}, F1 {f1:.3f}, "
            f"{len(pairs) / secs:.1f} pages/s"
        )
    print(
        f"time ratio (ours / baseline): {ours_s / base_s:.2f}x (ours adds metadata, "
        "date search and language detection)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
