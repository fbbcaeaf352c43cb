"""A daemon keeps parsed robots.txt files between its crawls (crawler/robots.py), and nothing
else of those crawls: the parser Scrapy builds keeps the spider it parsed the file for,
which held the first crawl of each host (its engine, pipelines, story assigner and the event
index it loaded) for the day the file is kept. Found by bench/bench_soak.py --trace."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from conftest import REPO

SCRIPT = textwrap.dedent(
    """
    import gc, json, sys
    from crawler.runner import install_asyncio_reactor
    install_asyncio_reactor()
    from twisted.internet import reactor
    from scrapy.utils.defer import deferred_from_coro
    from crawler.config import CrawlSettings, Source
    from crawler.robots import RobotsCache
    from crawler.runner import crawl_sources

    base, archive = sys.argv[1], sys.argv[2]
    crawl = CrawlSettings(allow_private_addresses=True, autothrottle=False, obey_robots=True)
    feed = Source(name="feed", kind="feed", url=base + "/feeds/rss20.xml")
    cache = RobotsCache()
    out = {}

    def alive(name):
        gc.collect()
        return sum(type(o).__name__ == name for o in gc.get_objects())

    async def main():
        for _ in range(2):
            results = await crawl_sources(crawl, [feed], archive, robots=cache)
        out["errors"] = [r.error_class for r in results]
        out["new"] = results[0].items_new
        out["robots kept"] = cache.get(base.split("//")[1]) is not None
        out["crawlers alive"] = alive("Crawler")
        out["assigners alive"] = alive("StoryAssigner")

    reactor.callWhenRunning(
        lambda: deferred_from_coro(main()).addBoth(lambda r: reactor.stop() or r))
    reactor.run()
    print(json.dumps(out))
    """
)


@pytest.mark.slow  # a real process
def test_the_robots_cache_keeps_no_crawl_alive(news_site, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, news_site.url("").rstrip("/"), str(tmp_path / "a.db")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["errors"] == [None] and out["robots kept"]
    # both crawls are over: neither their crawlers nor their story assigners are kept
    # (with the spider kept by the cached parser: 1 and 1, the first crawl's)
    assert out["crawlers alive"] == 0
    assert out["assigners alive"] == 0
