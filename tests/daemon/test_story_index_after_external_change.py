"""The daemon's crawl path (crawler.runner.crawl_sources with the story index it keeps across
crawls, in one long-running process on the asyncio reactor) after another process changed
the archive's stories: a real `newswatch dedupe --rebuild` and a real `newswatch crawl`."""

from __future__ import annotations

import json
import select
import subprocess
import sys
import textwrap
from datetime import datetime
from email.utils import format_datetime
from html import escape

import pytest
from conftest import REPO
from dedupe.test_event_drift import SEQUENCE, STRIKE
from support.httpserver import LocalServer

from crawler import archive

# the reports of tests/dedupe/test_event_drift.py, each in its outlet's feed, and a wire
# service's reprint of the port's report (its own headline, a line of furniture)
FEEDS = {source: (name, doc, at) for name, source, doc, at in SEQUENCE}
REPRINT = ("Dock strike halts the port", STRIKE[1] + "\n\nFollow the wire on social media.")
FEEDS["port-wire"] = ("strike-reprint", REPRINT, SEQUENCE[1][3])

DAEMON = textwrap.dedent(
    """
    import json, sys
    from crawler.runner import install_asyncio_reactor
    install_asyncio_reactor()
    from twisted.internet import reactor
    from scrapy.utils.defer import deferred_from_coro
    import asyncio
    from crawler import archive
    from crawler.config import CrawlSettings, DedupeSettings, Source
    from crawler.event_state import shared
    from crawler.runner import crawl_sources
    from crawler.stories import load_story_index

    base, path = sys.argv[1], sys.argv[2]
    crawl = CrawlSettings(allow_private_addresses=True, autothrottle=False, download_timeout="5s")
    dedupe = DedupeSettings()
    db = archive.open_archive(path)
    index = load_story_index(db, dedupe)  # as the daemon's start-up
    db.close()

    async def main():
        while line := (await asyncio.to_thread(sys.stdin.readline)).strip():
            sources = [Source(name=n, kind="feed", url=f"{base}/{n}.xml") for n in line.split()]
            results = await crawl_sources(crawl, sources, path, dedupe=dedupe, index=index)
            state = shared(index)
            print(json.dumps({"new": sum(r.items_new for r in results),
                              "reloads": state.reloads, "events": id(state.index)}), flush=True)

    def done(result):
        reactor.stop()
        return result

    reactor.callWhenRunning(lambda: deferred_from_coro(main()).addBoth(done))
    reactor.run()
    """
)


def rss(source: str) -> str:
    name, (title, text), at = FEEDS[source]
    when = format_datetime(datetime.fromisoformat(at.replace("Z", "+00:00")))
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>'
        f"{source}</title><link>https://{source}.example/</link><item>"
        f"<title>{escape(title)}</title><link>https://{source}.example/{name}</link>"
        f"<guid>{source}-{name}</guid><pubDate>{when}</pubDate>"
        f"<description>{escape(text)}</description></item></channel></rss>"
    )


class Daemon:
    """The daemon-like process: ``crawl(*feeds)`` runs one crawl, returns what it printed."""

    def __init__(self, base: str, path):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", DAEMON, base, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )

    def crawl(self, *feeds: str) -> dict:
        self.proc.stdin.write(" ".join(feeds) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], 120)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.proc.kill()
            pytest.fail("the crawling process gave no answer: " + self.proc.stderr.read()[-3000:])
        return json.loads(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()  # an empty line ends it
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def story(db, name: str) -> int:
    return db.execute("SELECT story_id FROM articles WHERE url LIKE ?", ["%/" + name]).fetchone()[0]


@pytest.mark.slow  # real processes and crawls
def test_the_daemon_crawl_follows_a_cli_rebuild_and_a_cli_crawl(
    tmp_path, write_config, run_newswatch
):
    site = LocalServer().start()
    for source in FEEDS:
        site.add(f"/{source}.xml", body=rss(source), content_type="application/rss+xml")
    # another user's config on the same archive: the event level off, one source
    config = write_config(
        f"""
        [archive]
        path = "{{archive}}"

        [crawl]
        allow_private_addresses = true
        autothrottle = false

        [dedupe]
        event_threshold = 0

        [[sources]]
        name = "port-news"
        kind = "feed"
        url = "{site.url("/port-news.xml")}"
        """
    )
    path = tmp_path / "archive.db"
    daemon = Daemon(site.url("").rstrip("/"), path)
    try:
        # one outlet a crawl: the agency's report is the story's original
        first = daemon.crawl("agency")
        assert first["new"] == 1 and first["reloads"] == 0
        second = daemon.crawl("daily")
        # one more crawl: the event state's own check (the articles of the last crawl still
        # under their stories) does not see the rebuild to come change the daily's report
        crawls = [second, daemon.crawl("bank-news")]
        # nothing external: the kept state served the crawls, the same event index
        assert [c["new"] for c in crawls] == [1, 1] and [c["reloads"] for c in crawls] == [0, 0]
        assert first["events"] == second["events"] == crawls[1]["events"]
        db = archive.open_archive(path)
        try:
            assert story(db, "quake") == story(db, "toll")  # one event story
            done = run_newswatch("dedupe", "--rebuild", "--config", str(config))
            assert done.returncode == 0, done.stderr
            assert story(db, "toll") != story(db, "quake")  # rebuilt without the event level
            third = daemon.crawl("regional")
            # the regional report joins the daily's rebuilt story, not the one the daemon
            # remembered (the agency's), after one reload
            assert third["new"] == 1 and story(db, "night") == story(db, "toll")
            assert third["reloads"] == 1
            # `newswatch crawl` stores the port's own report while the daemon runs; the
            # wire's reprint of it, in the daemon's next crawl, joins its story
            done = run_newswatch("crawl", "--config", str(config))
            assert done.returncode == 0, done.stderr
            fourth = daemon.crawl("port-wire")
            assert fourth["new"] == 1 and story(db, "strike-reprint") == story(db, "strike")
            assert fourth["reloads"] == 2
        finally:
            db.close()
    finally:
        daemon.close()
        site.stop()
