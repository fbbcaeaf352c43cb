"""Ctrl-C and SIGTERM during `newswatch crawl` and `newswatch run --once` (issue 13 item 3):
what was fetched and parsed is stored, no traceback, exit 130 on SIGINT (143 on SIGTERM),
and a second Ctrl-C exits at once. Real processes against a real local server that holds
one source's response open; the signal goes to the process group (as a terminal's Ctrl-C
does) once the other source's items are stored, seen in the process's own progress
output, never after a fixed wait."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import sqlite_utils
from conftest import REPO
from support.httpserver import LocalServer, Reply

pytestmark = pytest.mark.slow

CONFIG = """
[archive]
path = "{archive}"
[crawl]
allow_private_addresses = true
obey_robots = false
autothrottle = false
retries = 0
download_timeout = "120s"
crawl_timeout = "300s"
[[sources]]
name = "fast"
kind = "feed"
url = "{fast}"
[[sources]]
name = "held"
kind = "feed"
url = "{held}"
"""


def feed(n: int) -> str:
    # Over 8 KB: parsed in a worker process, which Ctrl-C reaches too (the process group).
    items = "".join(
        f"<item><title>Stored story {i}</title><link>https://fast.example/{i}</link>"
        f"<description>{f'Words of story {i}. ' * 100}</description></item>"
        for i in range(n)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>'
    )


@pytest.fixture
def site():
    server = LocalServer().start()
    server.add("/fast.xml", body=feed(5), content_type="application/rss+xml")
    server.add("/held.xml", Reply(never_finish=True, content_type="application/rss+xml"))
    yield server
    server.stop()


def start(site, tmp_path, *command: str) -> tuple[subprocess.Popen, object]:
    archive = tmp_path / "archive.db"
    cfg = tmp_path / "newswatch.toml"
    cfg.write_text(
        CONFIG.replace("{archive}", str(archive))
        .replace("{fast}", site.url("/fast.xml"))
        .replace("{held}", site.url("/held.xml")),
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "scheduler.py"), *command, "--config", str(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "NEWSWATCH_LOG_FORMAT": "text"},
        cwd=REPO,
        start_new_session=True,  # its own process group, as a terminal job has
    )
    return proc, archive


def wait_for_line(proc: subprocess.Popen, needle: str) -> list[str]:
    """Read stderr until a line holds ``needle`` (the event), and return what was read."""
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"the process ended before {needle!r}: {''.join(lines)[-3000:]}")


def interrupt(proc: subprocess.Popen, *signums: int) -> tuple[str, str]:
    for signum in signums:
        os.killpg(proc.pid, signum)
    try:
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return out, err


def stored(archive) -> dict[str, int]:
    db = sqlite_utils.Database(archive)
    return {
        r["source"]: r["n"]
        for r in db.query("SELECT source, count(*) n FROM articles GROUP BY source")
    }


def health(archive) -> dict[str, dict]:
    return {r["name"]: r for r in sqlite_utils.Database(archive).query("SELECT * FROM sources")}


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_crawl_stopped_by_a_signal_keeps_what_it_read(site, tmp_path, signum, code):
    proc, archive = start(site, tmp_path, "crawl")
    before = wait_for_line(proc, "fast: ok")
    _out, err = interrupt(proc, signum)
    err = "".join(before) + err
    assert proc.returncode == code, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    assert stored(archive) == {"fast": 5}
    rows = health(archive)
    assert rows["fast"]["last_error_class"] is None and rows["fast"]["items_new"] == 5
    assert rows["held"]["last_error_class"] == "interrupted"
    assert rows["held"]["consecutive_failures"] == 0  # not the source's failure
    assert "interrupted" in err


def test_a_second_ctrl_c_exits_at_once(site, tmp_path):
    proc, archive = start(site, tmp_path, "crawl")
    wait_for_line(proc, "fast: ok")
    os.killpg(proc.pid, signal.SIGINT)
    wait_for_line(proc, "SIGINT: stopping")  # the first one was taken
    _out, err = interrupt(proc, signal.SIGINT)
    assert proc.returncode == 130
    assert "again: exiting now" in err and "Traceback" not in err
    assert stored(archive) == {"fast": 5}  # stored before the first Ctrl-C already


def wait_until_stored(proc: subprocess.Popen, archive, source: str, n: int) -> None:
    """Wait for the event: ``n`` articles of ``source`` in the archive (the daemon prints
    no progress per source, so the archive itself is watched)."""
    import sqlite3
    import time

    while proc.poll() is None:
        try:
            with sqlite3.connect(f"file:{archive}?mode=ro", uri=True) as db:
                sql = "SELECT count(*) FROM articles WHERE source = ?"
                if db.execute(sql, [source]).fetchone()[0] >= n:
                    return
        except sqlite3.Error:
            pass  # not created yet
        time.sleep(0.05)
    raise AssertionError(f"the process ended first: {proc.stderr.read()[-3000:]}")


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_run_once_stopped_by_a_signal_keeps_what_it_read(site, tmp_path, signum, code):
    proc, archive = start(site, tmp_path, "run", "--once")
    wait_until_stored(proc, archive, "fast", 5)
    out, err = interrupt(proc, signum)
    assert proc.returncode == code, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    assert stored(archive) == {"fast": 5}
    rows = health(archive)
    assert rows["fast"]["last_error_class"] is None and rows["fast"]["items_new"] == 5
    assert rows["held"]["last_error_class"] == "interrupted"
    assert "held" in out and "interrupted" in out  # the summary says what happened


def test_a_second_ctrl_c_stops_run_once_at_once(site, tmp_path):
    proc, archive = start(site, tmp_path, "run", "--once")
    wait_until_stored(proc, archive, "fast", 5)
    os.killpg(proc.pid, signal.SIGINT)
    wait_for_line(proc, "stopping (SIGINT)")
    _out, err = interrupt(proc, signal.SIGINT)
    assert proc.returncode == 130
    assert "again: exiting now" in err and "Traceback" not in err
    assert stored(archive) == {"fast": 5}
