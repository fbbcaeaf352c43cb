"""A daemon whose archive turns read-only (issue 13 item 4): one log line when it starts,
one when it ends, no traceback per tick; `status` says the daemon runs and that the archive
cannot be written; once the permission is back (SQLite's read-only -shm included) it
resumes by itself and stores what the feed published meanwhile. A real daemon process
without root's way past file permissions, a real local feed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.httpserver import LocalServer

from crawler import times

pytestmark = pytest.mark.slow  # a real daemon for about 20 s

REPO = Path(__file__).resolve().parents[2]
UNPRIVILEGED = (
    ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    if os.geteuid() == 0
    else []
)


def rss(*titles: str) -> bytes:
    now = times.rfc822()
    items = "".join(
        f"<item><title>{t}</title><link>http://example.invalid/{i}</link>"
        f"<guid isPermaLink='false'>g{i}</guid><pubDate>{now}</pubDate>"
        f"<description>{t}, told at length.</description></item>"
        for i, t in enumerate(titles)
    )
    return (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
        f"<link>http://example.invalid/</link><description>d</description>{items}"
        "</channel></rss>"
    ).encode()


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def newswatch(*args: str, **kw):
    return [*UNPRIVILEGED, sys.executable, str(REPO / "scheduler.py"), *args]


def test_a_read_only_spell_is_two_log_lines_and_the_daemon_recovers(write_config, tmp_path):
    server = LocalServer().start()
    server.add("/feed.xml", body=rss("First item"), content_type="application/rss+xml")
    archive = tmp_path / "archive.db"
    config = write_config(
        f"""
        [archive]
        path = "{archive}"
        [crawl]
        allow_private_addresses = true
        obey_robots = false
        interval = "1s"
        jitter = 0
        retries = 0
        [daemon]
        tick = "1s"
        process_interval = "1s"
        startup_stagger = "1s"
        [[sources]]
        name = "feed"
        kind = "feed"
        url = "{server.url("/feed.xml")}"
        """
    )
    log = tmp_path / "daemon.log"
    with open(log, "wb") as err:
        daemon = subprocess.Popen(
            newswatch("--config", str(config), "run", "--log-level", "debug"),
            stderr=err,
            stdout=subprocess.DEVNULL,
        )
    try:
        text = lambda: log.read_text(errors="replace")  # noqa: E731
        wait_for(lambda: "collection of 1 source:" in text(), 60, "a first collection")
        archive.chmod(0o444)
        wait_for(lambda: "cannot use the archive" in text(), 30, "the read-only archive noticed")
        server.add("/feed.xml", body=rss("First item", "Second item"))
        # ticks pass while the archive is read-only: their jobs wait (debug lines only)
        wait_for(lambda: text().count("still unusable") >= 2, 30, "two jobs waiting")
        status = subprocess.run(
            newswatch("--config", str(config), "status"), capture_output=True, text=True
        )
        assert "ARCHIVE PROBLEM" in status.stdout and "is read-only for" in status.stdout
        assert f"daemon: running (pid {daemon.pid})" in status.stdout, status.stdout
        assert "it cannot record its work" in status.stdout
        archive.chmod(0o644)
        wait_for(lambda: "usable again" in text(), 30, "the daemon to notice the permission")
        wait_for(
            lambda: (
                "Second item"
                in subprocess.run(
                    newswatch("--config", str(config), "search", "second", "--json"),
                    capture_output=True,
                    text=True,
                ).stdout
            ),
            30,
            "the item published meanwhile",
        )
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(30) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
        server.stop()
    out = text()
    assert out.count("cannot use the archive") == 1, out
    assert out.count("usable again") == 1, out
    assert "Traceback" not in out, out
