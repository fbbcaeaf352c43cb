"""Parsing in worker processes gives exactly what parsing on the reactor thread gives."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import REPO

from crawler.feeds import parse_feed
from crawler.workers import ParseWorkers

FEED_NAMES = (
    "rss20.xml",
    "atom10.xml",
    "jsonfeed.json",
    "malformed.xml",
    "cp1252_declared_utf8.xml",
    "utf16.xml",
    "dup_guids.xml",
    "no_dates.xml",
)

FEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "crawler" / "feeds"

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from crawler.runner import install_asyncio_reactor
    install_asyncio_reactor()
    from twisted.internet import reactor
    from scrapy.utils.defer import deferred_from_coro
    from crawler.archive import open_archive
    from crawler.config import CrawlSettings, Source
    from crawler.runner import crawl_sources
    from crawler.workers import ParseWorkers

    base, tmp, names = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    settings = CrawlSettings(allow_private_addresses=True, autothrottle=False, obey_robots=False)
    sources = [Source(name=f"f{i}", kind="feed", url=base + "/feeds/" + n)
               for i, n in enumerate(names)]
    sources += [
        Source(name="full", kind="feed", url=base + "/feeds/local.xml", full_text=True),
        Source(name="list", kind="html", url=base + "/news/", links="a.story",
               next_page="a.next", max_pages=2),
        Source(name="map", kind="sitemap", url=base + "/sitemap_index.xml"),
    ]
    out = {}

    async def main():
        for label, workers in [("pool", ParseWorkers(1, min_bytes=0)),
                               ("inline", ParseWorkers(1, min_bytes=1 << 40))]:
            archive = f"{tmp}/{label}.db"
            results = await crawl_sources(settings, sources, archive, workers=workers)
            await workers.close()
            db = open_archive(archive)
            rows = db.execute(
                "SELECT source, url, guid, title, text, summary, author, language, categories,"
                " published_at, updated_at FROM articles ORDER BY source, url").fetchall()
            out[label] = {
                "offloaded": workers.offloaded,
                "rows": rows,
                "results": [[r.name, r.status, r.error_class, r.items_seen, r.items_new]
                            for r in results],
            }

    def done(result):
        reactor.stop()
        return result

    reactor.callWhenRunning(lambda: deferred_from_coro(main()).addBoth(done))
    reactor.run()
    print(json.dumps(out))
    """
)


@pytest.mark.slow
def test_a_crawl_parsed_in_worker_processes_stores_the_same_articles(news_site, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, news_site.url(""), str(tmp_path), ",".join(FEED_NAMES)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    pool, inline = out["pool"], out["inline"]
    # Every feed and every page went through the pool: the feeds, local.xml and its two
    # articles, three listed articles, three sitemap pages (s1, s2, /about).
    assert pool["offloaded"] == len(FEED_NAMES) + 1 + 2 + 3 + 3
    assert inline["offloaded"] == 0
    assert pool["results"] == inline["results"]
    assert len(pool["rows"]) == 20
    assert pool["rows"] == inline["rows"]
    by_source = {r[0] for r in pool["rows"]}
    assert {"full", "list", "map"} <= by_source


def test_parse_workers_run_gives_what_the_function_gives():
    body = (FEEDS / "atom10.xml").read_bytes()
    workers = ParseWorkers(1, min_bytes=0)

    async def both():
        try:
            return await workers.run(parse_feed, body, url="https://example.org/feed")
        finally:
            await workers.close()

    in_pool = asyncio.run(both())
    assert workers.offloaded == 1
    assert in_pool == parse_feed(body, url="https://example.org/feed")
    assert in_pool.items


@pytest.mark.slow  # a real process
def test_a_script_without_a_main_guard_crawls_once(news_site, tmp_path):
    # spawn would re-run this script in the worker (a second crawl) if it were not hidden.
    items = "".join(
        f"<item><title>Item {i}</title><link>https://big.example/{i}</link><guid>g{i}</guid>"
        f"<description>{'words ' * 40}</description></item>"
        for i in range(60)
    )
    body = f'<rss version="2.0"><channel><title>Big</title>{items}</channel></rss>'.encode()
    assert len(body) > 8192  # large enough for the pool
    news_site.add("/feeds/big.xml", body=body, content_type="application/rss+xml")
    script = tmp_path / "crawl_once.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from crawler.config import CrawlSettings, Source
            from crawler.runner import run_crawl

            print("crawling", flush=True)
            results = run_crawl(
                CrawlSettings(allow_private_addresses=True, obey_robots=False),
                [Source(name="big", kind="feed", url={news_site.url("/feeds/big.xml")!r})],
                {str(tmp_path / "a.db")!r},
            )
            print("new", results[0].items_new, flush=True)
            """
        ),
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split("\n").count("crawling") == 1
    assert "new 60" in proc.stdout


def _exit_unless_in(data: bytes) -> str:
    """Kills the worker process it runs in; returns in the process whose pid is ``data``."""
    if os.getpid() != int(data):
        os._exit(1)
    return "parsed in place"


def test_a_dead_worker_means_parsing_in_place():
    workers = ParseWorkers(1, min_bytes=0)
    me = str(os.getpid()).encode()

    async def twice():
        try:
            return [await workers.run(_exit_unless_in, me) for _ in range(2)]
        finally:
            await workers.close()

    assert asyncio.run(twice()) == ["parsed in place", "parsed in place"]
    assert workers.offloaded == 0 and workers.pids == []


def _pid(data: bytes) -> int:
    return os.getpid()


def test_pids_name_the_worker_processes_that_parse():
    workers = ParseWorkers(1, min_bytes=0)

    async def run() -> tuple[list[int], int, list[int]]:
        before = workers.pids
        try:
            pid = await workers.run(_pid, b"x")
            return before, pid, workers.pids
        finally:
            await workers.close()

    before, pid, during = asyncio.run(run())
    assert before == [] and pid != os.getpid()
    assert during == [pid]
    assert workers.pids == []


ORPHAN = textwrap.dedent(
    """
    import asyncio, json, os, sys, time
    from crawler.workers import ParseWorkers

    def children():
        out = []
        for entry in os.listdir("/proc"):
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == os.getpid():
                        out.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
        return out

    async def start():
        workers = ParseWorkers(1, min_bytes=0)
        await workers.run(len, b"x")
        return workers

    workers = asyncio.run(start())
    print(json.dumps({"workers": workers.pids, "children": children()}), flush=True)
    time.sleep(3600)
    """
)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_workers_and_the_resource_tracker_end_when_their_parent_is_killed():
    import signal
    import time

    proc = subprocess.Popen(
        [sys.executable, "-c", ORPHAN], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        started = json.loads(proc.stdout.readline())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    children = started["children"]
    assert set(started["workers"]) <= set(children) and len(children) >= 2  # + the tracker
    # The orphans notice within their poll interval; wait well past it, then look.
    waited = 0.0
    while any(_alive(pid) for pid in children) and waited < 30:
        time.sleep(0.2)
        waited += 0.2
    assert not [pid for pid in children if _alive(pid)], "orphans outlived their parent"


def test_while_the_pool_starts_documents_are_parsed_in_place():
    """parse_while_starting (as crawl_sources uses): the first documents do not wait for a
    new worker process to start; once it has, they go to it."""
    workers = ParseWorkers(1, min_bytes=0, parse_while_starting=True)

    async def run() -> tuple[int, int, int]:
        try:
            first = await workers.run(_pid, b"x")
            for _ in range(600):  # until the worker is up (its start is not timed here)
                pid = await workers.run(_pid, b"x")
                if pid != os.getpid():
                    break
                await asyncio.sleep(0.05)
            return first, pid, workers.offloaded
        finally:
            await workers.close()

    first, later, offloaded = asyncio.run(run())
    assert first == os.getpid()
    assert later != os.getpid() and offloaded == 1
