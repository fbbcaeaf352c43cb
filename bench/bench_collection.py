"""Benchmark: one `newswatch crawl` of 200 real feeds served from a local HTTP server,
against plain `feedparser.parse` (default options) over the same 200 files, in the same run.

    .venv/bin/python bench/bench_collection.py [--feeds N]

Prints wall times, items stored, the child's peak RSS, and the ratios to the baseline
(targets: first crawl <= 0.5x, second crawl of unchanged feeds <= 0.05x, RSS < 400 MB).
Never asserts. Skips with a message when ../shared/corpora/real-feeds is absent.

All 200 feeds come from one host (127.0.0.1), so the crawl runs with AutoThrottle off and
8 requests per domain (the maximum); real feeds live on 200 hosts, where the per-domain limit of 2
does not serialize them.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpora" / "real-feeds"
sys.path[:0] = [str(REPO / "tests"), str(REPO)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=200, help="how many feeds (default all 200)")
    args = ap.parse_args()
    if not CORPUS.is_dir():
        print(f"skipped: {CORPUS} is absent (the real-feeds corpus is not part of the project)")
        return 0
    files = sorted(p for p in CORPUS.iterdir() if p.is_file())[: args.feeds]
    bodies = {p.name: p.read_bytes() for p in files}

    import feedparser

    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    baseline_items = sum(len(feedparser.parse(b).entries) for b in bodies.values())
    baseline = time.perf_counter() - t0
    print(
        f"baseline: feedparser.parse (defaults) over {len(bodies)} files: {baseline:.2f} s, "
        f"{baseline_items} items, {baseline_items / baseline:.0f} items/s"
    )

    from support.httpserver import LocalServer

    server = LocalServer().start()
    for name, body in bodies.items():
        server.add(f"/feeds/{name}", body=body, content_type="application/xml", etag=f'"{name}"')
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "bench.db"
        cfg = Path(tmp) / "bench.toml"
        text = (
            f'[archive]\npath = "{archive}"\n\n[crawl]\nallow_private_addresses = true\n'
            "autothrottle = false\nconcurrency_per_domain = 8\nconcurrency = 32\n"
            'obey_robots = false\ndownload_timeout = "30s"\ncrawl_timeout = "20m"\n'
        )
        for name in bodies:
            text += f'\n[[sources]]\nname = "f{name}"\nkind = "feed"\nurl = "{server.url("/feeds/" + name)}"\n'
        cfg.write_text(text, encoding="utf-8")
        times = []
        for _ in range(2):
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, str(REPO / "scheduler.py"), "crawl", "--config", str(cfg)],
                capture_output=True,
                text=True,
                cwd=REPO,
            )
            times.append(time.perf_counter() - t0)
            if proc.returncode != 0:
                print(proc.stderr[-2000:])
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        db = sqlite3.connect(archive)
        stored = db.execute("SELECT count(*) FROM articles").fetchone()[0]
        failed = db.execute(
            "SELECT last_error_class, count(*) FROM sources WHERE last_error_class IS NOT NULL"
            " GROUP BY 1"
        ).fetchall()
        not_modified = db.execute(
            "SELECT sum(not_modified) FROM fetches WHERE id > (SELECT max(id) - ? FROM fetches)",
            [len(bodies)],
        ).fetchone()[0]
    server.stop()
    first, second = times
    print(
        f"crawl 1 (fetch, parse, normalize, dedupe, store): {first:.2f} s, "
        f"{stored} articles stored, {first / baseline:.2f}x baseline (target <= 0.5x)"
    )
    print(
        f"crawl 2 (unchanged, 304s): {second:.2f} s, {not_modified} of {len(bodies)} "
        f"not modified, {second / baseline:.3f}x baseline (target <= 0.05x)"
    )
    print(f"peak RSS of a crawl process: {rss_mb:.0f} MB (target < 400 MB)")
    print(f"sources with a recorded problem: {failed or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
