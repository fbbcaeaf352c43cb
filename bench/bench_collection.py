"""Benchmark: crawls of 200 real feeds served from a local HTTP server, against plain
`feedparser.parse` (default options) over the same 200 files, in the same run.

    .venv/bin/python bench/bench_collection.py [--feeds N]

Two ways of crawling, each a first crawl (empty archive) then a second crawl of the
unchanged feeds (the server answers the conditional requests with 304):

- in-process, as the daemon does: one process awaits `crawl_sources` twice on one asyncio
  reactor; the second await is the figure for the 0.05x target;
- the CLI: two `newswatch crawl` processes (Python start-up and imports included).

Prints wall times, items stored, peak RSS (the crawl process and its parse worker) and the
ratios to the baseline (targets: first crawl <= 0.5x, second crawl of unchanged feeds
<= 0.05x, RSS < 400 MB), and each crawl's CPU seconds (its parse worker's included) against
the baseline's CPU: on a shared machine those stay put while wall seconds follow the load.
Never asserts. Skips with a message when ../shared/corpora/real-feeds is absent.

The crawl processes run as an installed newswatch does, with its bytecode cached: an
inherited PYTHONDONTWRITEBYTECODE is dropped from their environment (with it, every
process compiled the project's modules again, about 0.04 s of CPU each).

Each feed is served from its own loopback address (127.0.0.2, 127.0.0.3, ...: real feeds
live on their own sites) and crawled with the SHIPPED DEFAULTS (AutoThrottle on, 2 requests
per host, 16 at once, robots.txt asked for and kept in the archive); the only setting given
is allow_private_addresses, since 127.0.0.x is one. ``--tuned`` prints a run with
AutoThrottle off, 8 per host and no robots.txt beside it, never instead. ``--runs N``
repeats the whole measurement and prints every run's ratios; the machine's load average is
printed first (the ratios are against the baseline measured in the same process).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import results

REPO = Path(__file__).resolve().parent.parent
CORPUS = results.corpus("real-feeds")
sys.path[:0] = [str(REPO / "tests"), str(REPO)]
BENCH = "collection"
# the crawl processes' environment: bytecode cached, as for an installed newswatch
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

# One process, one reactor, two awaits of crawl_sources: what the daemon does.
IN_PROCESS = """
import json, resource, sys, time
from crawler.runner import install_asyncio_reactor
install_asyncio_reactor()
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import reactor
from crawler.runner import crawl_sources
from crawler.workers import ParseWorkers
from scheduler import load_config

cfg = load_config(sys.argv[1])
out = {"crawls": []}

def cpu():
    me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime

def peak_rss_mb(pid):
    # VmHWM: the worker's own peak since it started (ru_maxrss of a child also counts the
    # moment between fork and exec, when it was a copy of this process).
    with open(f"/proc/{pid}/status") as f:
        return next(int(ln.split()[1]) for ln in f if ln.startswith("VmHWM")) / 1024

async def main():
    for i in range(2):
        t0, c0 = time.perf_counter(), cpu()
        workers = ParseWorkers(parse_while_starting=True) if i == 0 else None  # as crawl_sources
        results = await crawl_sources(
            cfg.crawl, cfg.sources, sys.argv[2], dedupe=cfg.dedupe, workers=workers
        )
        if workers is not None:
            out["rss_workers_mb"] = max([peak_rss_mb(p) for p in workers.pids] or [0])
            await workers.close()
        c1 = cpu()
        out["crawls"].append({
            "seconds": time.perf_counter() - t0,
            "cpu_self": c1[0] - c0[0],
            "cpu_workers": c1[1] - c0[1],
            "new": sum(r.items_new for r in results),
            "not_modified": sum(r.not_modified for r in results),
            "failed": sum(r.status in ("error", "timeout") for r in results),
        })

def done(result):
    reactor.stop()
    return result

reactor.callWhenRunning(lambda: deferred_from_coro(main()).addBoth(done))
reactor.run()
out["rss_self_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


# The shipped defaults: only what a loopback test server needs is set (private addresses
# allowed, since 127.0.0.x is one).
DEFAULTS = "allow_private_addresses = true\n"
TUNED_LABEL = "AutoThrottle off, 8 per host, 32 at once, robots.txt not asked"
TUNED = (
    "allow_private_addresses = true\nautothrottle = false\nconcurrency_per_domain = 8\n"
    "concurrency = 32\nobey_robots = false\n"
)


def measure(work: Path, server, bodies: dict[str, bytes], crawl: str) -> dict:
    """Both ways of crawling (in-process, two CLI processes), each a first crawl and a
    re-crawl of the unchanged feeds, into fresh archives under ``work``."""
    work.mkdir(parents=True)
    archive = work / "bench.db"
    cfg = work / "bench.toml"
    text = f'[archive]\npath = "{archive}"\n\n[crawl]\n{crawl}'
    for i, name in enumerate(bodies):
        text += f'\n[[sources]]\nname = "f{name}"\nkind = "feed"\nurl = "{server.url(i)}"\n'
    cfg.write_text(text, encoding="utf-8")
    in_proc = subprocess.run(
        [sys.executable, "-c", IN_PROCESS, str(cfg), str(work / "inproc.db")],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=CHILD_ENV,
    )
    if in_proc.returncode != 0:
        raise SystemExit(in_proc.stderr[-2000:])
    daemon = json.loads(in_proc.stdout.strip().splitlines()[-1])
    times, cpus = [], []
    for _ in range(2):
        t0, c0 = time.perf_counter(), _children_cpu()
        proc = subprocess.run(
            [sys.executable, str(REPO / "scheduler.py"), "crawl", "--config", str(cfg)],
            capture_output=True,
            text=True,
            cwd=REPO,
            env=CHILD_ENV,
        )
        times.append(time.perf_counter() - t0)
        # the newswatch process and its parse worker (which it waited for): CPU seconds
        # do not grow with the machine's load as wall seconds do
        cpus.append(_children_cpu() - c0)
        if proc.returncode != 0:
            print(proc.stderr[-2000:])
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
    db.close()
    d1, d2 = daemon["crawls"]
    return {
        "d1": d1,
        "d2": d2,
        "inproc1": d1["seconds"],
        "inproc2": d2["seconds"],
        "cli1": times[0],
        "cli2": times[1],
        "cli1_cpu": cpus[0],
        "cli2_cpu": cpus[1],
        "stored": stored,
        "not_modified": not_modified,
        "failed": failed,
        "rss": {"rss_self_mb": daemon["rss_self_mb"], "rss_workers_mb": daemon["rss_workers_mb"]},
        "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def _children_cpu() -> float:
    """CPU seconds (user and system) of the waited-for child processes so far."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def measure_baseline(bodies: dict[str, bytes]) -> tuple[float, float, int]:
    """Plain feedparser.parse over every file: wall seconds, CPU seconds, items."""
    import feedparser

    t0, c0 = time.perf_counter(), time.process_time()
    items = sum(len(feedparser.parse(b).entries) for b in bodies.values())
    return time.perf_counter() - t0, time.process_time() - c0, items


def print_run(label: str, r: dict, baseline: float, n: int) -> None:
    """One line per crawl of one measured run, with its ratio to the baseline; then the
    CPU seconds of each crawl against the baseline's CPU (measured in the same run)."""
    print(
        f"{label}: baseline {baseline:.2f} s; in-process {r['inproc1']:.2f} s ({r['inproc1'] / baseline:.2f}x), "
        f"re-crawl {r['inproc2']:.3f} s ({r['inproc2'] / baseline:.3f}x, "
        f"{r['d2']['not_modified']}/{n} not modified); newswatch crawl {r['cli1']:.2f} s "
        f"({r['cli1'] / baseline:.2f}x), re-crawl {r['cli2']:.3f} s "
        f"({r['cli2'] / baseline:.3f}x, {r['not_modified']}/{n} not modified); "
        f"{r['stored']} articles stored"
    )
    cpu = r["baseline_cpu"]
    d1, d2 = r["d1"], r["d2"]
    load = os.getloadavg()[0]
    print(
        f"  CPU (s, x the baseline's {cpu:.2f} s): in-process crawl process "
        f"{d1['cpu_self']:.2f} + parse worker {d1['cpu_workers']:.2f} "
        f"({(d1['cpu_self'] + d1['cpu_workers']) / cpu:.2f}x), re-crawl {d2['cpu_self']:.3f} "
        f"({d2['cpu_self'] / cpu:.3f}x); newswatch crawl {r['cli1_cpu']:.2f} "
        f"({r['cli1_cpu'] / cpu:.2f}x), re-crawl {r['cli2_cpu']:.3f} "
        f"({r['cli2_cpu'] / cpu:.3f}x); load average now {load:.1f}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=200, help="how many feeds (default all 200)")
    ap.add_argument("--runs", type=int, default=1, help="measured runs (each prints its ratios)")
    ap.add_argument(
        "--tuned", action="store_true", help="also print a tuned run (never the headline)"
    )
    args = ap.parse_args()
    if not CORPUS.is_dir():
        return results.skip(
            BENCH, f"{CORPUS} is absent (the real-feeds corpus is not part of the project)"
        )
    files = sorted(p for p in CORPUS.iterdir() if p.is_file())[: args.feeds]
    bodies = {p.name: p.read_bytes() for p in files}

    warnings.simplefilter("ignore")
    baseline, baseline_cpu, baseline_items = measure_baseline(bodies)
    print(
        f"baseline: feedparser.parse (defaults) over {len(bodies)} files: {baseline:.2f} s, "
        f"{baseline_items} items, {baseline_items / baseline:.0f} items/s "
        f"({baseline_cpu:.2f} s CPU)"
    )

    from peer_servers import FeedServer

    # One loopback address per feed (127.0.0.2, 127.0.0.3, ...), as real feeds live on
    # their own hosts: the per-host limit, robots.txt and AutoThrottle apply per feed.
    server = FeedServer(list(bodies.values()))
    load = os.getloadavg()
    print(f"load average: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} ({os.cpu_count()} cores)")
    runs = []
    tuned = None
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            # the baseline again in every run: the machine's load changes between runs
            if run:
                baseline, baseline_cpu, _ = measure_baseline(bodies)
            runs.append(measure(Path(tmp) / f"run{run}", server, bodies, DEFAULTS))
            runs[-1]["baseline"] = baseline
            runs[-1]["baseline_cpu"] = baseline_cpu
            print_run(f"run {run + 1} (shipped defaults)", runs[-1], baseline, len(bodies))
        if args.tuned:
            tuned = measure(Path(tmp) / "tuned", server, bodies, TUNED)
            tuned["baseline_cpu"] = baseline_cpu
            print_run("tuned (not the headline: " + TUNED_LABEL + ")", tuned, baseline, len(bodies))
    if len(runs) > 1:
        for key, label in (
            ("inproc1", "in-process crawl 1"),
            ("inproc2", "in-process crawl 2 (304s)"),
            ("cli1", "CLI crawl 1"),
            ("cli2", "CLI crawl 2 (304s)"),
        ):
            ratios = ", ".join(f"{r[key] / r['baseline']:.3f}" for r in runs)
            print(f"{label} / baseline over {len(runs)} runs: {ratios}")
        for key, label in (("cli1_cpu", "CLI crawl 1"), ("cli2_cpu", "CLI crawl 2 (304s)")):
            ratios = ", ".join(f"{r[key] / r['baseline_cpu']:.3f}" for r in runs)
            print(f"{label} CPU (with its parse worker) / baseline CPU: {ratios}")
    r = runs[-1]
    daemon = {"crawls": [r["d1"], r["d2"]], **r["rss"]}
    first, second, stored, not_modified, failed, rss_mb = (
        r["cli1"],
        r["cli2"],
        r["stored"],
        r["not_modified"],
        r["failed"],
        r["rss_mb"],
    )
    n = len(bodies)
    d1, d2 = daemon["crawls"]
    print(
        f"in-process crawl 1 (fetch, parse, normalize, dedupe, store): {d1['seconds']:.2f} s, "
        f"{d1['new']} articles stored, {d1['seconds'] / baseline:.2f}x baseline (target <= 0.5x)"
    )
    print(
        f"  CPU: crawl process {d1['cpu_self']:.2f} s ({d1['cpu_self'] / baseline_cpu:.2f}x the "
        f"baseline's CPU), parse worker {d1['cpu_workers']:.2f} s"
    )
    print(
        f"in-process crawl 2 (second await, unchanged, 304s): {d2['seconds']:.2f} s, "
        f"{d2['not_modified']} of {n} not modified, {d2['seconds'] / baseline:.3f}x baseline "
        "(target <= 0.05x)"
    )
    print(
        f"CLI crawl 1 (process start-up included): {first:.2f} s, {stored} articles stored, "
        f"{first / baseline:.2f}x baseline (target <= 0.5x)"
    )
    print(
        f"CLI crawl 2 (unchanged, 304s; process start-up included): {second:.2f} s, "
        f"{not_modified} of {n} not modified, {second / baseline:.3f}x baseline "
        "(target <= 0.05x)"
    )
    print(
        f"peak RSS: crawl process {daemon['rss_self_mb']:.0f} MB, parse worker "
        f"{daemon['rss_workers_mb']:.0f} MB (in-process run); largest of all crawl processes "
        f"{rss_mb:.0f} MB (target < 400 MB)"
    )
    # A malformed feed whose good items were kept stays recorded as parse_error.
    print(f"sources with a recorded problem (error class, count): {failed or 'none'}")
    base = {"baseline": baseline, "baseline_label": "feedparser.parse, defaults"}
    note = f"{n} feeds, {stored} articles"
    rec = results.record
    rec(
        BENCH,
        "first crawl, in-process",
        d1["seconds"],
        "s",
        **base,
        target_ratio=0.5,
        better="lower",
        note=note,
    )
    rec(
        BENCH,
        "first crawl, CPU of the crawl process",
        d1["cpu_self"],
        "s",
        baseline=baseline_cpu,
        baseline_label="feedparser.parse, defaults (CPU)",
        target_ratio=0.5,
        better="lower",
        note=f"parse worker {d1['cpu_workers']:.1f} s CPU",
    )
    rec(
        BENCH,
        "second crawl (304s), in-process",
        d2["seconds"],
        "s",
        **base,
        target_ratio=0.05,
        better="lower",
        note="the second await, as in the daemon",
    )
    rec(
        BENCH,
        "first crawl, newswatch crawl",
        first,
        "s",
        **base,
        target_ratio=0.5,
        better="lower",
        note="process start-up included",
    )
    rec(
        BENCH,
        "second crawl (304s), newswatch crawl",
        second,
        "s",
        **base,
        target_ratio=0.05,
        better="lower",
        note="process start-up included",
    )
    rec(
        BENCH,
        "peak RSS, crawl process",
        daemon["rss_self_mb"],
        "MB",
        target=400,
        better="lower",
        note=f"parse worker {daemon['rss_workers_mb']:.0f} MB",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
