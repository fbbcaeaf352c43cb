"""The daemon as a real process: new items mailed, clean SIGTERM, kill -9 loses nothing,
one daemon per archive, SIGHUP with a broken config keeps the running one."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.httpserver import LocalServer, Reply
from support.smtp import SMTPServer

from crawler import times

pytestmark = pytest.mark.slow  # real daemon processes, seconds each

REPO = Path(__file__).resolve().parents[2]
INTERVAL = 2  # seconds between fetches of the test feed


def rss(items: list[tuple[str, str]]) -> bytes:
    """An RSS feed with (guid, title) items; each item's text says what its title says."""
    now = times.rfc822()
    entries = "".join(
        f"<item><title>{title}</title><link>http://example.invalid/{guid}</link>"
        f"<guid isPermaLink='false'>{guid}</guid><pubDate>{now}</pubDate>"
        f"<description>{title}. A longer account of {guid} follows here.</description></item>"
        for guid, title in items
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>"
        f"<link>http://example.invalid/</link><description>d</description>{entries}"
        "</channel></rss>"
    ).encode()


CONFIG = """
[archive]
path = "{archive}"

[crawl]
allow_private_addresses = true
obey_robots = false
interval = "{interval}s"
jitter = 0
download_timeout = "{download_timeout}s"
retries = 0

[daemon]
tick = "1s"
process_interval = "2s"
startup_stagger = "1s"

[[sources]]
name = "feed"
kind = "feed"
url = "{feed_url}"
{extra_source}

[[targets]]
name = "mail"
url = "{mail_url}"

[[watches]]
name = "trafficking"
query = "trafficking"
targets = ["mail"]
"""


class Daemon:
    """`newswatch run` as a subprocess, with its log in a file."""

    def __init__(self, config: Path, log: Path):
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, str(REPO / "scheduler.py"), "--config", str(config), "run"],
            stdout=subprocess.DEVNULL,
            stderr=open(log, "ab"),  # noqa: SIM115 - closed with the process
            cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def query(db_path: Path, sql: str, params=()):
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []  # not created yet
    finally:
        conn.close()


@pytest.fixture
def world(tmp_path, write_config):
    server = LocalServer().start()
    smtp = SMTPServer().start()
    server.add(
        "/feed.xml", body=rss([("calm-1", "Weather is calm")]), content_type="application/rss+xml"
    )
    daemons: list[Daemon] = []

    class World:
        archive = tmp_path / "archive.db"

        def config(self, *, download_timeout: int = 10, extra_source: str = "") -> Path:
            text = (
                CONFIG.replace("{interval}", str(INTERVAL))
                .replace("{download_timeout}", str(download_timeout))
                .replace("{feed_url}", server.url("/feed.xml"))
                .replace("{mail_url}", smtp.url())
                .replace("{extra_source}", extra_source)
            )
            return write_config(text)

        def start(self, config: Path) -> Daemon:
            d = Daemon(config, tmp_path / f"daemon{len(daemons)}.log")
            daemons.append(d)
            return d

    w = World()
    w.server, w.smtp = server, smtp
    yield w
    for d in daemons:
        d.stop()
    smtp.stop()
    server.stop()


def cycles_done(daemon: Daemon) -> int:
    """Collections the daemon finished (crawl, match and deliver): its log line per cycle."""
    return daemon.output().count("collection of ")


def test_a_new_matching_item_is_mailed_once(world):
    daemon = world.start(world.config())
    wait_for(
        lambda: query(world.archive, "SELECT 1 FROM sources WHERE last_success_at IS NOT NULL"),
        60,
        "the first collection",
    )
    world.server.add(
        "/feed.xml",
        body=rss(
            [
                ("calm-1", "Weather is calm"),
                ("tip-1", "Trafficking report keeps Azerbaijan on Tier 2"),
            ]
        ),
        content_type="application/rss+xml",
    )
    assert world.smtp.mailbox.wait_for(1, 60), "no alert mail"
    assert "Trafficking report keeps Azerbaijan" in world.smtp.mailbox.subjects()[0]
    # Two later full cycles (crawl, match, deliver) send nothing more for the same story.
    seen = cycles_done(daemon)
    wait_for(lambda: cycles_done(daemon) >= seen + 2, 60, "two more cycles")
    assert len(world.smtp.mailbox.messages) == 1
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(30) == 0, daemon.output()
    assert "source feed: ok" in daemon.output()


def test_sigterm_during_a_crawl_exits_0_within_30s_with_an_intact_archive(world):
    world.server.add("/feed.xml", Reply(never_finish=True))
    daemon = world.start(world.config(download_timeout=120))
    wait_for(lambda: world.server.hits("/feed.xml"), 60, "the crawl to start")
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(30) == 0, daemon.output()
    assert query(world.archive, "PRAGMA integrity_check") == [("ok",)]
    state = query(world.archive, "SELECT pid FROM daemon")
    assert state == [(None,)], "a clean stop is recorded"


def test_kill_9_mid_cycle_loses_nothing_and_repeats_at_most_one_message(world):
    items = [(f"tip-{i}", f"Trafficking case number {i} reaches court") for i in range(5)]
    world.server.add("/feed.xml", body=rss(items), content_type="application/rss+xml")
    config = world.config()
    daemon = world.start(config)
    # The SMTP server kills the daemon as the first alert arrives: after the send, before
    # the outbox row is marked sent.
    world.smtp.mailbox.kill_pid_on_message = daemon.proc.pid
    assert daemon.wait(60) == -signal.SIGKILL
    received_before = len(world.smtp.mailbox.messages)
    assert received_before >= 1
    world.smtp.mailbox.kill_pid_on_message = None
    stored = {r[0] for r in query(world.archive, "SELECT guid FROM articles")}
    restarted = world.start(config)  # the lock died with the process
    wait_for(
        lambda: (
            query(world.archive, "SELECT count(*) FROM alerts WHERE status = 'sent'")[0][0] == 5
        ),
        60,
        "every alert to be sent after the restart",
    )
    restarted.signal(signal.SIGTERM)
    assert restarted.wait(30) == 0, restarted.output()
    guids = {r[0] for r in query(world.archive, "SELECT guid FROM articles")}
    assert guids == {g for g, _ in items} and stored <= guids
    subjects = world.smtp.mailbox.subjects()
    assert {s for s in subjects} and len(set(subjects)) == 5
    assert len(subjects) - len(set(subjects)) <= 1, subjects


def test_kill_9_during_a_crawl_then_restart_stores_every_article(world):
    items = [(f"case-{i}", f"Forced labour case {i}") for i in range(4)]
    world.server.add("/feed.xml", body=rss(items), content_type="application/rss+xml")
    for guid, _ in items:
        page = f"<html><body><article><h1>{guid}</h1><p>{'Long text about trafficking. ' * 30}</p></article></body></html>"
        # Slow while the first daemon crawls: it is killed as it waits for a page.
        world.server.add(f"/{guid}", Reply(body=page, content_type="text/html", delay=30))
    feed = rss(items).replace(b"http://example.invalid/", world.server.url("/").encode())
    world.server.add("/feed.xml", body=feed, content_type="application/rss+xml")
    config = world.config(extra_source="full_text = true")
    daemon = world.start(config)
    wait_for(lambda: any(world.server.hits(f"/{g}") for g, _ in items), 60, "an article fetch")
    daemon.proc.kill()
    daemon.wait(10)
    for guid, _ in items:  # the site answers at once after the restart
        page = f"<html><body><article><h1>{guid}</h1><p>{'Long text about trafficking. ' * 30}</p></article></body></html>"
        world.server.add(f"/{guid}", Reply(body=page, content_type="text/html"))
    restarted = world.start(config)
    wait_for(
        lambda: query(world.archive, "SELECT count(*) FROM articles")[0][0] == 4,
        60,
        "all four articles after the restart",
    )
    restarted.signal(signal.SIGTERM)
    assert restarted.wait(30) == 0


def test_a_second_daemon_on_the_same_archive_is_refused(world):
    config = world.config()
    first = world.start(config)
    wait_for(lambda: query(world.archive, "SELECT pid FROM daemon"), 60, "the first daemon")
    second = world.start(config)
    assert second.wait(60) != 0
    assert "already running" in second.output()
    assert str(first.proc.pid) in second.output()
    assert first.proc.poll() is None
    first.signal(signal.SIGTERM)
    assert first.wait(30) == 0


def test_sighup_with_a_broken_config_keeps_the_running_one(world):
    config = world.config()
    daemon = world.start(config)
    wait_for(
        lambda: query(world.archive, "SELECT 1 FROM sources WHERE last_success_at IS NOT NULL"),
        60,
        "the first collection",
    )
    good = config.read_text()
    config.write_text(good.replace('interval = "2s"', 'interval = "whenever"'))
    daemon.signal(signal.SIGHUP)
    wait_for(lambda: "config reload refused" in daemon.output(), 60, "the refusal")
    assert "crawl.interval" in daemon.output()
    # Still working on the old config: a new matching item is still mailed.
    world.server.add(
        "/feed.xml",
        body=rss([("tip-9", "Trafficking ring broken up")]),
        content_type="application/rss+xml",
    )
    assert world.smtp.mailbox.wait_for(1, 60), "no alert mail"
    assert daemon.proc.poll() is None
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(30) == 0


def test_status_shows_a_live_daemon_and_next_runs(world, run_newswatch):
    config = world.config()
    daemon = world.start(config)
    wait_for(
        lambda: query(world.archive, "SELECT 1 FROM sources WHERE last_success_at IS NOT NULL"),
        60,
        "a collection",
    )
    proc = run_newswatch("--config", str(config), "status", "--json")
    import json

    report = [json.loads(line) for line in proc.stdout.splitlines()]
    (state,) = [r for r in report if r["section"] == "daemon"]
    assert state["alive"] is True
    assert state["pid"] == daemon.proc.pid
    assert [r for r in report if r["section"] == "source"][0]["next_run_at"]
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(30) == 0
    report = run_newswatch("--config", str(config), "status", "--json").stdout.splitlines()
    assert [json.loads(r)["alive"] for r in report if '"section": "daemon"' in r] == [False]


def test_the_near_article_and_a_malformed_item_neither_stall_nor_lose_the_others(world):
    """Issue 13: a 54 KB 'trafficking women' article under a NEAR watch, and an item whose
    link is not a URL, in one feed: every other item is stored and alerted, the daemon keeps
    collecting and stops cleanly."""
    now = times.rfc822()

    def entry(guid: str, title: str, text: str, link: str | None = None) -> str:
        link = link or f"http://example.invalid/{guid}"
        return (
            f"<item><title>{title}</title><link>{link}</link>"
            f"<guid isPermaLink='false'>{guid}</guid><pubDate>{now}</pubDate>"
            f"<description>{text}</description></item>"
        )

    entries = [
        entry("near", "R", "trafficking women " * 3000),
        entry("bad", "Broken link", "trafficking case", link="http://[::1"),
        *(
            entry(f"ok-{i}", f"Trafficking ring {i} broken up in port {i}", f"Police in port {i}.")
            for i in range(3)
        ),
    ]
    body = (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>"
        "<link>http://example.invalid/</link><description>d</description>"
        + "".join(entries)
        + "</channel></rss>"
    ).encode()
    world.server.add("/feed.xml", body=body, content_type="application/rss+xml")
    config = world.config()
    config.write_text(
        config.read_text()
        + '\n[[watches]]\nname = "near"\nquery = "traffick* NEAR/6 (women OR children)"\n'
        'targets = ["mail"]\n'
    )
    daemon = world.start(config)
    wait_for(
        lambda: (
            (query(world.archive, "SELECT count(*) FROM alerts WHERE status = 'sent'")) == [(5,)]
        ),
        120,
        "the alerts of every readable item",
    )
    guids = {r[0] for r in query(world.archive, "SELECT guid FROM articles")}
    assert guids == {"near", "ok-0", "ok-1", "ok-2"}
    unmatched = query(world.archive, "SELECT count(*) FROM articles WHERE matched_at IS NULL")
    assert unmatched == [(0,)]
    # The source is not silently 'ok with nothing': the left-out item is on record (once the
    # crawl's outcomes are: alerts may leave while it is still running).
    problem = wait_for(
        lambda: query(world.archive, "SELECT last_error_class FROM sources WHERE name = 'feed'"),
        60,
        "the crawl's outcome on record",
    )
    assert problem == [("parse_error",)], problem
    seen = cycles_done(daemon)
    wait_for(lambda: cycles_done(daemon) >= seen + 1, 60, "one more collection")
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(30) == 0, daemon.output()
