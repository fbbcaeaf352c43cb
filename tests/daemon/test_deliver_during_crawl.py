"""A collection's alerts do not wait for its slowest source: the articles of a source that
finished are matched and mailed while another source is still being fetched."""

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
HOLD_S = 30


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


def test_a_finished_source_is_mailed_while_a_slow_one_is_still_fetched(tmp_path):
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
            "[crawl]\nallow_private_addresses = true\nobey_robots = false\n"
            f'download_timeout = "{HOLD_S * 2}s"\nretries = 0\n\n'
            f'[[sources]]\nname = "fast"\nkind = "feed"\nurl = "{fast.url("/feed.xml")}"\n\n'
            f'[[sources]]\nname = "slow"\nkind = "feed"\nurl = "{slow.url()}"\n\n'
            f'[[targets]]\nname = "mail"\nurl = "{smtp.url()}"\n\n'
            '[[watches]]\nname = "trafficking"\nquery = "trafficking"\ntargets = ["mail"]\n'
        )
        done = subprocess.run(
            [sys.executable, str(REPO / "scheduler.py"), "--config", str(config), "run", "--once"],
            capture_output=True,
            text=True,
            cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            timeout=HOLD_S * 4,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        # the fast source's alert was in the mailbox before the slow source answered
        assert slow.was_ready is True
        subjects = smtp.mailbox.subjects()
        assert len(subjects) == 2, subjects
        assert any("port" in s for s in subjects) and any("trial" in s for s in subjects)
    finally:
        slow.stop()
        smtp.stop()
        fast.stop()
