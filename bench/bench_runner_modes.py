"""Scrapy in a long-running process: one asyncio reactor for all crawls (pattern A, what the
daemon does) against one subprocess per crawl (pattern B). Prints per-crawl wall time, the
overhead beyond the crawl itself, and memory; never asserts.

    python bench/bench_runner_modes.py [CRAWLS]
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from support.httpserver import LocalServer  # noqa: E402

FEED = (
    "<?xml version='1.0'?><rss version='2.0'><channel><title>t</title><link>http://x/</link>"
    "<description>d</description>"
    + "".join(
        f"<item><title>Item {i}</title><link>http://x/{i}</link><guid>g{i}</guid>"
        f"<description>Text of item {i} about forced labour.</description></item>"
        for i in range(20)
    )
    + "</channel></rss>"
)

SCRIPT = """
import sys, time, json
sys.path.insert(0, {repo!r})
t0 = time.perf_counter()
from crawler.config import CrawlSettings, Source
from crawler.runner import run_crawl
crawl = CrawlSettings(allow_private_addresses=True, obey_robots=False, retries=0)
src = [Source(name="f", kind="feed", url={url!r})]
run_crawl(crawl, src, {db!r})
print(json.dumps({{"seconds": time.perf_counter() - t0}}))
"""


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def in_process(url: str, db: str, n: int) -> dict:
    from crawler.runner import install_asyncio_reactor

    install_asyncio_reactor()
    from scrapy.utils.defer import deferred_from_coro
    from twisted.internet import reactor

    from crawler.config import CrawlSettings, Source
    from crawler.runner import crawl_sources

    crawl = CrawlSettings(allow_private_addresses=True, obey_robots=False, retries=0)
    src = [Source(name="f", kind="feed", url=url)]
    times, rss, fds = [], [], []

    async def main():
        for i in range(n):
            t0 = time.perf_counter()
            await crawl_sources(crawl, src, db)
            times.append(time.perf_counter() - t0)
            rss.append(rss_mb())
            fds.append(fd_count())
            print(f"\r  in-process crawl {i + 1}/{n}", end="", file=sys.stderr, flush=True)

    reactor.callWhenRunning(lambda: deferred_from_coro(main()).addBoth(lambda _: reactor.stop()))
    reactor.run(installSignalHandlers=False)
    print(file=sys.stderr)
    return {"times": times, "rss": rss, "fds": fds}


def subprocesses(url: str, db: str, n: int) -> dict:
    times, inner = [], []
    for i in range(n):
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", SCRIPT.format(repo=str(REPO), url=url, db=db)],
            capture_output=True,
            text=True,
            check=True,
        )
        times.append(time.perf_counter() - t0)
        inner.append(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])
        print(f"\r  subprocess crawl {i + 1}/{n}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return {"times": times, "inner": inner}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    server = LocalServer().start()
    server.add("/feed.xml", body=FEED, content_type="application/rss+xml")
    with tempfile.TemporaryDirectory() as tmp:
        b = subprocesses(server.url("/feed.xml"), f"{tmp}/b.db", max(3, n // 4))
        a = in_process(server.url("/feed.xml"), f"{tmp}/a.db", n)
    server.stop()
    med_a = statistics.median(a["times"][1:])
    med_b = statistics.median(b["times"][1:])
    print(f"pattern A, one reactor: median {med_a:.3f} s per crawl over {n} crawls")
    print(f"  RSS {a['rss'][0]:.0f} MB after crawl 1, {a['rss'][-1]:.0f} MB after crawl {n}")
    print(f"  open files {a['fds'][0]} after crawl 1, {a['fds'][-1]} after crawl {n}")
    print(f"pattern B, subprocess per crawl: median {med_b:.3f} s per crawl")
    print(f"  of which start-up and imports: {med_b - statistics.median(b['inner'][1:]):.3f} s")
    print(f"ratio B/A: {med_b / med_a:.1f}x")
    try:
        from results import record  # bench/results.py, when present

        record(
            "runner_modes",
            "per-crawl time, one reactor",
            med_a,
            "s",
            baseline=med_b,
            better="lower",
        )
    except ImportError:
        pass


if __name__ == "__main__":
    main()
