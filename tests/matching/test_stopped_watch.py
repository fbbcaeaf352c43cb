"""A watch whose evaluation hits the query bound: recorded in the archive, the stage goes on.

Issue 13 item 1: one article once froze the match stage, and a restart hung again on it.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from alerts.config import Watch
from alerts.match_stage import match_pending
from alerts.matcher import Matcher
from crawler import archive

HEAVY = Watch(name="heavy", query="a NEAR/1 " * 99 + "a")
PLAIN = Watch(name="plain", query="a OR trafficking")


def _archive(tmp_path, texts):
    db = archive.open_archive(tmp_path / "archive.db")
    with archive.write(db):
        for i, text in enumerate(texts, 1):
            db.conn.execute("INSERT INTO stories (id, first_seen_at) VALUES (?, ?)", (i, "x"))
            db.conn.execute(
                "INSERT INTO articles (url, source, title, text, story_id, fetched_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (f"https://e.org/{i}", "s", f"t{i}", text, i, "2026-01-01T00:00:00Z"),
            )
    return db


@pytest.mark.timeout(120)
def test_the_stage_records_a_stopped_watch_and_goes_on(
    tmp_path, caplog, write_config, run_newswatch
):
    db = _archive(tmp_path, ["a " * 20_000, "human trafficking", "a a"])
    m = Matcher.compile([HEAVY, PLAIN])
    stats = match_pending(db, m)
    assert (stats.articles, stats.stopped) == (3, 1)
    stopped = [tuple(r) for r in db.execute("SELECT article_id, watch FROM stopped_matches")]
    assert stopped == [(1, "heavy")]
    matches = sorted(tuple(r) for r in db.execute("SELECT article_id, watch FROM matches"))
    assert matches == [(1, "plain"), (2, "plain"), (3, "heavy"), (3, "plain")]
    # every article is done: a restart does not stop on the same article again
    assert db.execute("SELECT count(*) FROM articles WHERE matched_at IS NULL").fetchone()[0] == 0
    assert match_pending(db, m).articles == 0
    assert "stopped at its bound" in caplog.text
    db.close()
    path = write_config('[archive]\npath = "{archive}"\n')
    proc = run_newswatch("status", "--config", str(path))
    assert "1 watch evaluations stopped at the query bound" in proc.stdout, proc.stderr
    proc = run_newswatch("status", "--json", "--config", str(path))
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [x["stopped_matches"] for x in lines if x["section"] == "archive"] == [1]


@pytest.mark.timeout(120)
def test_newswatch_match_shows_the_stopped_watch(write_config, run_newswatch):
    path = write_config(
        f"""
        [archive]
        path = "{{archive}}"
        [[watches]]
        name = "heavy"
        query = '{HEAVY.query}'
        [[watches]]
        name = "plain"
        query = "a"
        """
    )
    lines = json.dumps({"id": 1, "title": "", "text": "a " * 20_000}) + "\n"
    lines += json.dumps({"id": 2, "title": "", "text": "a a"}) + "\n"
    proc = run_newswatch("match", "--config", str(path), input=lines)
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert out[0]["watches"] == ["plain"] and out[0]["stopped"] == ["heavy"]
    assert out[1]["watches"] == ["heavy", "plain"] and "stopped" not in out[1]


def test_matching_runs_outside_the_archive_write_lock(tmp_path):
    # A slow article must not keep crawl and delivery from writing: while the matcher
    # works, another connection can take the write lock at once.
    db = _archive(tmp_path, ["human trafficking", "a a"])
    writes = []

    class Observed(Matcher):
        def match(self, *args, **kwargs):
            other = sqlite3.connect(tmp_path / "archive.db", timeout=0)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                writes.append(True)
            except sqlite3.OperationalError:
                writes.append(False)
            finally:
                other.close()
            return super().match(*args, **kwargs)

    plain = Matcher.compile([PLAIN])
    observed = Observed(plain.gazetteer, plain.watches)
    assert match_pending(db, observed).articles == 2
    assert writes == [True, True]
