"""The daemon while another process (a `newswatch dedupe --rebuild`, a backup, a CLI crawl)
holds the archive's write lock past the busy timeout: what it read but could not store is
not lost, the log says why, and the daemon stores it once the lock is gone.

A real `newswatch run` process, a real second connection holding ``BEGIN IMMEDIATE``, a
real local feed server answering conditional requests with 304. The daemon's busy timeout
is shortened (``archive.BUSY_TIMEOUT_MS``, the setting its connections are opened with) so
the lock outlasts it in a second, not 30."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from support.httpserver import LocalServer, Reply

from alerts import schema

pytestmark = pytest.mark.slow  # a real daemon process

REPO = Path(__file__).resolve().parents[2]
ITEMS = 3

RUN = (
    "import sys; from crawler import archive; archive.BUSY_TIMEOUT_MS = 300;"
    " sys.argv[0] = 'newswatch'; import scheduler; scheduler.main()"
)


def rss(prefix: str) -> str:
    items = "".join(
        f"<item><title>{prefix} story {i}</title><link>https://{prefix}.example/{i}</link>"
        f"<guid>{prefix}-{i}</guid><description>Words of {prefix} story {i}.</description></item>"
        for i in range(ITEMS)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    )


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def count(path: Path, source: str) -> int:
    conn = sqlite3.connect(path, timeout=30)
    try:
        return conn.execute("SELECT count(*) FROM articles WHERE source = ?", [source]).fetchone()[
            0
        ]
    finally:
        conn.close()


def test_items_read_while_the_archive_was_locked_are_stored_after_it(tmp_path):
    server = LocalServer().start()
    # "quick" answers after a second (time to take the lock once its request arrived);
    # "late" answers after the lock was let go, so the crawl's outcome record goes through
    # while quick's items were refused. Both answer an unchanged feed with a 304 later.
    server.add(
        "/quick.xml",
        Reply(body=rss("quick"), content_type="application/rss+xml", delay=1.0),
        Reply(body=rss("quick"), content_type="application/rss+xml"),
        etag='"q1"',
    )
    server.add(
        "/late.xml",
        Reply(body=rss("late"), content_type="application/rss+xml", delay=6.0),
        Reply(body=rss("late"), content_type="application/rss+xml"),
        etag='"l1"',
    )
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
            interval = "2s"
            failure_retry = "1s"
            jitter = 0
            retries = 0
            [daemon]
            tick = "1s"
            process_interval = "2s"
            startup_stagger = "1s"
            [[sources]]
            name = "quick"
            kind = "feed"
            url = "{server.url("/quick.xml")}"
            [[sources]]
            name = "late"
            kind = "feed"
            url = "{server.url("/late.xml")}"
            """
        ),
        encoding="utf-8",
    )
    log = tmp_path / "daemon.log"
    holder = sqlite3.connect(path, timeout=30, isolation_level=None)
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN, "--config", str(config), "run"],
        stdout=subprocess.DEVNULL,
        stderr=open(log, "ab"),  # noqa: SIM115 - closed with the process
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "NEWSWATCH_LOG_FORMAT": "text"},
    )
    try:
        wait_for(lambda: server.hits("/quick.xml"), 60, "the daemon's first fetch")
        holder.execute("BEGIN IMMEDIATE")  # before quick's reply reaches the store
        wait_for(
            lambda: "storing a batch" in log.read_text(errors="replace"),
            30,
            "the daemon's store to meet the lock",
        )
        holder.execute("ROLLBACK")
        wait_for(lambda: count(path, "late") == ITEMS, 60, "late's items")
        # quick's items, refused by the locked archive, are fetched again and stored
        wait_for(lambda: count(path, "quick") == ITEMS, 30, "quick's items after the lock")
        text = log.read_text(errors="replace")
        assert "archive busy" in text and "write lock" in text, text[-3000:]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, log.read_text(errors="replace")[-3000:]
    finally:
        holder.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        server.stop()
