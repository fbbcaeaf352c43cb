"""Exit codes scripts can trust (issue 13 item 10): one table (crawler/cli/exits.py, the
README's), partial failure apart from total failure, for crawl, run --once, alerts test and
alerts retry. Real processes against a real local feed."""

from __future__ import annotations

import sqlite3

import pytest
from support import fixture_archive
from support.httpserver import LocalServer

from crawler.cli import exits

FEED = (
    b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
    b"<link>http://example.invalid/</link><description>d</description>"
    b"<item><title>Trafficking ring broken up</title><link>http://example.invalid/1</link>"
    b"<guid isPermaLink='false'>g1</guid><description>Police ended a trafficking ring."
    b"</description></item></channel></rss>"
)


def test_the_table_in_one_place():
    assert exits.outcome(3, 0) == exits.OK == 0
    assert exits.outcome(2, 1) == exits.PARTIAL == 1
    assert exits.outcome(0, 2) == exits.FAILED == 3
    ok, bad = {"status": "ok"}, {"status": "error"}
    assert exits.crawl_code([ok, {"status": "not_modified"}]) == 0
    assert exits.crawl_code([ok, {"status": "timeout"}]) == 1
    assert exits.crawl_code([bad, bad]) == 3
    assert exits.cycle_code({"sources": [ok], "delivery": {"sent": 1}}) == 0
    assert exits.cycle_code({"sources": [ok], "delivery": {"sent": 1, "retrying": 1}}) == 1
    assert exits.cycle_code({"sources": [bad], "delivery": {"failed": 1}}) == 3
    assert exits.cycle_code({"sources": [], "delivery": {"retrying": 2}}) == 3
    assert (exits.USAGE, exits.ARCHIVE, exits.INTERRUPTED) == (2, 4, 130)


@pytest.fixture
def site():
    server = LocalServer().start()
    server.add("/feed.xml", body=FEED, content_type="application/rss+xml")
    yield server
    server.stop()


def config(write_config, site, *, good: bool = True, bad: bool = True, target: str = "") -> str:
    sources = ""
    if good:
        sources += f'[[sources]]\nname = "good"\nkind = "feed"\nurl = "{site.url("/feed.xml")}"\n'
    if bad:
        sources += f'[[sources]]\nname = "gone"\nkind = "feed"\nurl = "{site.url("/gone.xml")}"\n'
    watch = ""
    if target:
        watch = (
            f'[[targets]]\nname = "hook"\nurl = "{target}"\n'
            '[[watches]]\nname = "t"\nquery = "trafficking"\ntargets = ["hook"]\n'
        )
    return str(
        write_config(
            '[archive]\npath = "{archive}"\n[crawl]\nallow_private_addresses = true\n'
            f"obey_robots = false\nretries = 0\n{sources}{watch}"
        )
    )


@pytest.mark.parametrize(
    ("good", "bad", "code"), [(True, False, 0), (True, True, 1), (False, True, 3)]
)
def test_crawl_and_run_once_tell_partial_from_total_failure(
    write_config, site, run_newswatch, good, bad, code
):
    path = config(write_config, site, good=good, bad=bad)
    for command in (["crawl"], ["run", "--once"]):
        proc = run_newswatch("--config", path, *command)
        assert proc.returncode == code, (command, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_run_once_with_an_undelivered_alert_is_a_partial_failure(write_config, site, run_newswatch):
    path = config(write_config, site, bad=False, target="json://127.0.0.1:1/hook")
    proc = run_newswatch("--config", path, "run", "--once")
    assert proc.returncode == 1, proc.stderr
    assert "1 pending" in proc.stdout or "1 failed" in proc.stdout, proc.stdout


def test_alerts_retry_and_test(cli, write_config, tmp_path, site):
    fixture_archive.build(tmp_path / "archive.db")
    path = config(write_config, site, bad=False, target="json://127.0.0.1:1/hook")
    (known,) = sqlite3.connect(tmp_path / "archive.db").execute("SELECT min(id) FROM alerts")
    none = cli("--config", path, "alerts", "retry", "99")
    assert none.exit_code == 3 and "no alert with id 99" in none.output
    some = cli("--config", path, "alerts", "retry", str(known[0]), "99")
    assert some.exit_code == 1
    assert cli("--config", path, "alerts", "retry", str(known[0])).exit_code == 0
    assert cli("--config", path, "alerts", "test").exit_code == 3  # its only target fails
    assert cli("--config", path, "alerts", "test", "nope").exit_code == 2
