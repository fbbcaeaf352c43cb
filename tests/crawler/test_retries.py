"""Retries for failed sources (issue 16): a passing failure (5xx, 429, DNS, connection,
timeout) is tried again within minutes, backing off, honouring Retry-After and never later
than the interval; a permanent one (a 404) waits its interval. Real crawls (`newswatch
crawl`) against a local server, the plan read from the real archive they wrote."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from support.httpserver import LocalServer, Reply

from crawler import archive, schedule
from crawler.config import CrawlSettings, Source

RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    "<item><title>Back again</title><link>http://example.org/a</link><guid>a</guid>"
    "<description>The source recovered.</description></item></channel></rss>"
)


@pytest.fixture
def site():
    server = LocalServer().start()
    # two 503s, then the feed: a server that was down for a few minutes
    server.add("/flaky.xml", Reply(status=503), Reply(status=503), Reply(body=RSS))
    server.add("/busy.xml", Reply(status=503, headers={"Retry-After": "900"}))
    server.add("/gone.xml", status=404, body=b"no such feed")
    yield server
    server.stop()


def _config(write_config, site, names: list[str]) -> tuple:
    crawl = {"allow_private_addresses": True, "retries": 0, "interval": "6h"}
    sources = [Source(name=n, kind="feed", url=site.url(f"/{n}.xml")) for n in names]
    text = "[archive]\npath = '{archive}'\n[crawl]\n"
    text += "".join(f"{k} = {json.dumps(v)}\n" for k, v in crawl.items())
    for s in sources:
        text += f"[[sources]]\nname = '{s.name}'\nkind = 'feed'\nurl = '{s.url}'\n"
    path = write_config(text)
    return path, CrawlSettings(**crawl), sources


def _plan(path, crawl, sources) -> dict[str, timedelta]:
    """How long after its last attempt finished each source is planned (start-up plan and
    running daemon's plan agree)."""
    db = archive.open_archive(path)
    try:
        last = schedule.last_attempts(db)
        after_run = schedule.due_after_run(db, sources, crawl)
        plan = schedule.next_runs(db, sources, crawl, now=min(a.finished for a in last.values()))
        out = {}
        for s in sources:
            assert plan[s.name] == after_run[s.name], s.name  # one rule
            out[s.name] = plan[s.name] - last[s.name].finished
        return out
    finally:
        db.close()


def test_a_source_failing_twice_with_503_is_collected_again_within_minutes(
    site, write_config, run_newswatch, tmp_path
):
    config, crawl, sources = _config(write_config, site, ["flaky"])
    db_path = tmp_path / "archive.db"

    run_newswatch("crawl", "--config", str(config))
    first = _plan(db_path, crawl, sources)["flaky"]
    assert timedelta(minutes=1) <= first <= timedelta(minutes=2)  # not 6 hours

    run_newswatch("crawl", "--config", str(config))
    second = _plan(db_path, crawl, sources)["flaky"]
    assert first < second <= timedelta(minutes=4)  # backing off, still minutes

    status = run_newswatch("status", "--json", "--config", str(config))
    row = next(
        r
        for r in map(json.loads, status.stdout.splitlines())
        if r.get("section") == "source" and r["name"] == "flaky"
    )
    assert row["next_run_is_retry"] is True and row["next_run_at"]

    proc = run_newswatch("crawl", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    db = archive.open_archive(db_path)
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
    db.close()
    # recovered: back to its interval
    assert _plan(db_path, crawl, sources)["flaky"] >= timedelta(hours=6)
    assert site.hits("/flaky.xml") == 3


def test_retry_after_is_honoured_and_a_404_waits_its_interval(
    site, write_config, run_newswatch, tmp_path
):
    config, crawl, sources = _config(write_config, site, ["busy", "gone"])
    run_newswatch("crawl", "--config", str(config))
    plan = _plan(tmp_path / "archive.db", crawl, sources)
    # Retry-After: 900 (past max_retry_after, so not waited for inside the crawl)
    assert timedelta(minutes=15) <= plan["busy"] < timedelta(minutes=16)
    assert plan["gone"] >= timedelta(hours=6)  # a 404 is not retried early


def test_backoff_doubles_and_stops_at_the_interval():
    crawl = CrawlSettings(interval="1h", schedule_jitter=0)
    src = Source(name="s", kind="feed", url="http://example.org/f.xml")
    from datetime import UTC, datetime

    t = datetime(2026, 1, 1, tzinfo=UTC)
    waits = [
        schedule.due_at(src, crawl, t, schedule.LastAttempt(t, n, "http_5xx", 503)) - t
        for n in range(1, 10)
    ]
    assert waits[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert waits[-1] == timedelta(hours=1)
    dns = schedule.LastAttempt(t, 1, "dns")
    assert schedule.due_at(src, crawl, t, dns) - t == timedelta(minutes=1)
    too_many = schedule.LastAttempt(t, 1, "http_4xx", 429)
    assert schedule.due_at(src, crawl, t, too_many) - t == timedelta(minutes=1)
    not_found = schedule.LastAttempt(t, 3, "http_4xx", 404)
    assert schedule.due_at(src, crawl, t, not_found) - t == timedelta(hours=1)


@pytest.mark.slow
def test_the_running_daemon_retries_a_503_source_soon(site, tmp_path):
    """`newswatch run` (a real daemon, failure_retry shortened to 1 s, the interval an hour):
    the source answering 503 twice is collected on the third try, not an hour later."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    config = tmp_path / "daemon.toml"
    config.write_text(
        f"[archive]\npath = '{tmp_path / 'd.db'}'\n"
        "[crawl]\nallow_private_addresses = true\nretries = 0\ninterval = '1h'\n"
        "failure_retry = '1s'\n"
        "[daemon]\ntick = '1s'\nprocess_interval = '2s'\nstartup_stagger = '1s'\n"
        f"[[sources]]\nname = 'flaky'\nkind = 'feed'\nurl = '{site.url('/flaky.xml')}'\n",
        encoding="utf-8",
    )
    log = tmp_path / "daemon.log"
    with open(log, "ab") as err:
        proc = subprocess.Popen(
            [sys.executable, str(repo / "scheduler.py"), "--config", str(config), "run"],
            stdout=subprocess.DEVNULL,
            stderr=err,
            cwd=repo,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        stored = 0
        deadline = time.monotonic() + 90  # a failure guard: the wake-up is the article
        while time.monotonic() < deadline and not stored:
            time.sleep(0.5)
            if (tmp_path / "d.db").exists():
                db = archive.open_archive(tmp_path / "d.db")
                try:
                    if db["articles"].exists():
                        stored = db.execute("SELECT count(*) FROM articles").fetchone()[0]
                finally:
                    db.close()
        assert stored == 1, log.read_text(errors="replace")[-3000:]
        assert site.hits("/flaky.xml") == 3
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
