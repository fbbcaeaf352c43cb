"""A collection matches what it stored only after its whole crawl: an alert names its
story's earliest published article, which a source crawled later may hold. The daemon's
match-and-deliver timer must not mail a story while the collection still crawls."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support.httpserver import LocalServer
from support.smtp import SMTPServer

from crawler import times

pytestmark = pytest.mark.slow  # a real `newswatch run --once` process

REPO = Path(__file__).resolve().parents[2]
#: How long the slow source holds its answer waiting for the fast source's mail.
HOLD_S = 10


def rss(guid: str, title: str) -> bytes:
    now = times.rfc822()
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>"
        "<link>http://example.invalid/</link><description>d</description>"
        f"<item><title>{title}</title><link>http://example.invalid/{guid}</link>"
        f"<guid isPermaLink='false'>{guid}</guid><pubDate>{now}</pubDate>"
        f"<description>{title}. A longer account of {guid} follows.</description></item>"
        "</channel></rss>"
    ).encode()


class HeldFeed:
    """A feed whose answer waits until ``ready()`` is true (at most HOLD_S seconds); records
    whether it was true when the answer went out."""

    def __init__(self, body: bytes, ready):
        self.was_ready: bool | None = None
        held = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                deadline = threading.Event()
                for _ in range(HOLD_S * 10):
                    if ready():
                        break
                    deadline.wait(0.1)
                held.was_ready = bool(ready())
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/slow.xml"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_the_daemon_timer_does_not_mail_a_story_while_its_collection_crawls(tmp_path):
    """The timer ([daemon] process_interval, here 1 s) fires many times while the slow
    source holds its answer; the fast source's story is mailed only after the crawl."""
    fast = LocalServer().start()
    smtp = SMTPServer().start()
    fast.add(
        "/feed.xml",
        body=rss("fast-1", "Trafficking ring broken up in the port"),
        content_type="application/rss+xml",
    )
    slow = HeldFeed(rss("slow-1", "Trafficking trial opens"), lambda: smtp.mailbox.subjects())
    try:
        config = tmp_path / "newswatch.toml"
        config.write_text(
            f'[archive]\npath = "{tmp_path / "archive.db"}"\n\n'
            '[daemon]\nstartup_stagger = "1ms"\nprocess_interval = "1s"\n\n'
            "[crawl]\nallow_private_addresses = true\nobey_robots = false\n"
            f'download_timeout = "{HOLD_S * 2}s"\nretries = 0\n\n'
            f'[[sources]]\nname = "fast"\nkind = "feed"\nurl = "{fast.url("/feed.xml")}"\n\n'
            f'[[sources]]\nname = "slow"\nkind = "feed"\nurl = "{slow.url()}"\n\n'
            f'[[targets]]\nname = "mail"\nurl = "{smtp.url()}"\n\n'
            '[[watches]]\nname = "trafficking"\nquery = "trafficking"\ntargets = ["mail"]\n'
        )
        daemon = subprocess.Popen(
            [sys.executable, str(REPO / "scheduler.py"), "--config", str(config), "run"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            gone = threading.Event()
            for _ in range(HOLD_S * 10 + 150):
                if slow.was_ready is not None:
                    break
                gone.wait(0.1)
            for _ in range(300):  # after the crawl, both stories are mailed
                if len(smtp.mailbox.subjects()) >= 2:
                    break
                gone.wait(0.1)
        finally:
            daemon.terminate()
            daemon.wait(60)
        err = daemon.stderr.read()
        subjects = smtp.mailbox.subjects()
        assert len(subjects) == 2, f"after the crawl: {subjects} {err[-1500:]}"
        assert slow.was_ready is False, f"mailed during the crawl: {subjects} {err[-1500:]}"
    finally:
        slow.stop()
        smtp.stop()
        fast.stop()
