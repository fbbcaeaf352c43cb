"""A crawl whose store meets an archive locked by another process (a `newswatch dedupe
--rebuild`, a backup, another crawl) past the busy timeout: nothing it read is lost and the
user is told so. Real processes, a real archive file, a real second connection holding
``BEGIN IMMEDIATE``, a real local feed server that answers conditional requests with 304.

The busy timeout is shortened in the crawling process (``archive.BUSY_TIMEOUT_MS``, the
setting every connection is opened with) so the lock outlasts it in a second, not 30."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest
from conftest import REPO
from support.httpserver import LocalServer

from alerts import schema

pytestmark = pytest.mark.slow  # real crawling processes

ITEMS = 3


def feed() -> str:
    items = "".join(
        f"<item><title>Locked story {i}</title><link>https://locked.example/{i}</link>"
        f"<guid>locked-{i}</guid><description>Words of locked story {i}.</description></item>"
        for i in range(ITEMS)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>L</title>{items}</channel></rss>'
    )


@pytest.fixture
def site():
    server = LocalServer().start()
    # ETag: a second fetch of an unchanged feed is a 304, its items are not read again
    server.add("/feed.xml", body=feed(), content_type="application/rss+xml", etag='"v1"')
    yield server
    server.stop()


# Two crawls in one process on one reactor (as the daemon runs them). During the first, a
# second connection holds the write lock from before the crawl until the source's items
# were offered to the archive (the progress callback runs right after that store), then
# lets go: the crawl's own outcome record then goes through.
CRAWLS = textwrap.dedent(
    """
    import json, sqlite3, sys
    from crawler import archive
    archive.BUSY_TIMEOUT_MS = 300
    from crawler.runner import install_asyncio_reactor
    install_asyncio_reactor()
    from twisted.internet import reactor
    from scrapy.utils.defer import deferred_from_coro
    from crawler.config import CrawlSettings, Source
    from crawler.runner import crawl_sources

    url, path = sys.argv[1], sys.argv[2]
    settings = CrawlSettings(allow_private_addresses=True, autothrottle=False,
                             obey_robots=False, retries=0)
    source = Source(name="feed", kind="feed", url=url)
    holder = sqlite3.connect(path, timeout=0, isolation_level=None)
    out = {}

    def let_go(result, done, total):
        if holder.in_transaction:
            holder.execute("ROLLBACK")

    async def main():
        holder.execute("BEGIN IMMEDIATE")
        first = await crawl_sources(settings, [source], path, progress=let_go)
        out["first"] = [vars(r) for r in first]
        second = await crawl_sources(settings, [source], path)
        out["second"] = [vars(r) for r in second]

    def done(result):
        reactor.stop()
        return result

    reactor.callWhenRunning(lambda: deferred_from_coro(main()).addBoth(done))
    reactor.run()
    print(json.dumps(out))
    """
)


def test_items_a_locked_archive_refused_are_fetched_again_and_stored(site, tmp_path):
    path = tmp_path / "archive.db"
    schema.open_archive(path).close()
    proc = subprocess.run(
        [sys.executable, "-c", CRAWLS, site.url("/feed.xml"), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    (first,), (second,) = out["first"], out["second"]
    # The first crawl read the items but could not store them: not reported as a success,
    # and the reason names the busy archive.
    assert first["status"] == "error" and first["items_new"] == 0, first
    assert "busy" in first["error"] and "write lock" in first["error"], first
    # The second crawl fetched the feed again in full (no 304 on validators saved for
    # items that were never stored) and stored every item.
    assert second["not_modified"] is False and second["items_new"] == ITEMS, second
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == ITEMS
    # The failed attempt is on record as a busy archive (not the source's failure), the
    # second as a success.
    fetches = db.execute("SELECT error_class, items_new FROM fetches ORDER BY id").fetchall()
    assert fetches == [("archive_busy", 0), (None, ITEMS)]


def test_crawl_command_names_the_busy_archive_without_a_traceback(site, tmp_path):
    # Another process holds the write lock for the whole `newswatch crawl`: one message
    # naming the archive and the lock, what happens to what was read, exit code 4.
    path = tmp_path / "archive.db"
    schema.open_archive(path).close()
    config = tmp_path / "newswatch.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            [archive]
            path = "{path}"
            [crawl]
            allow_private_addresses = true
            obey_robots = false
            autothrottle = false
            retries = 0
            [[sources]]
            name = "feed"
            kind = "feed"
            url = "{site.url("/feed.xml")}"
            """
        ),
        encoding="utf-8",
    )
    holder = sqlite3.connect(path, timeout=0, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    code = (
        "import sys; from crawler import archive; archive.BUSY_TIMEOUT_MS = 300;"
        " sys.argv[0] = 'newswatch'; import scheduler; scheduler.main()"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code, "crawl", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
            env={**os.environ, "NEWSWATCH_LOG_FORMAT": "text"},
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == 4, proc.stderr[-3000:]
    assert str(path) in proc.stderr and "write lock" in proc.stderr, proc.stderr
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 0
    # Nothing of the refused crawl was kept that would skip the feed next time
    assert db.execute("SELECT count(*) FROM sources WHERE etag IS NOT NULL").fetchone()[0] == 0
