"""An archive made by the code before each package owned its tables (commit 9e8723c, kept in
tests/fixtures/archive) upgrades in place: every row intact, the schema a fresh archive has."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlite_utils import Database

from alerts import outbox
from alerts import schema as alerts_schema
from crawler import archive, times


def defined(migration_set) -> list[str]:
    """Every migration a set defines, in order: what sqlite-utils' public ``pending()`` lists
    for an empty database."""
    return [m.name for m in migration_set.pending(Database(memory=True))]


FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "archive" / "archive-9e8723c.db"

TABLES = [
    "sources",
    "fetches",
    "articles",
    "article_versions",
    "stories",
    "minhashes",
    "daemon",
    "matches",
    "tier_statements",
    "alerts",
    "deliveries",
]


# What the old code's archive.counts reported for the fixture (matches: read from it).
OLD_COUNTS = {"articles": 5, "stories": 4, "matches": 0, "tier_statements": 3, "alerts": 4}


def _schema(db) -> dict[str, str]:
    """Every table, index and trigger with its SQL, whitespace folded (order of creation and
    the migrations table left out)."""
    rows = db.query("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")
    return {
        r["name"]: re.sub(r"\s+", " ", r["sql"]).strip()
        for r in rows
        if not r["name"].startswith("_sqlite_migrations")
    }


def _dump(db) -> dict[str, list[tuple]]:
    return {
        t: [tuple(r.values()) for r in db.query(f"SELECT * FROM {t} ORDER BY rowid")]
        for t in TABLES
    }


@pytest.fixture
def old(tmp_path) -> Path:
    path = tmp_path / "old.db"
    shutil.copy(FIXTURE, path)
    return path


def _raw(path: Path):
    return archive.open_archive(path, migrate=False)


def test_the_fixture_has_rows_in_every_table(old):
    db = _raw(old)
    assert {r["migration_set"] for r in db.query("SELECT * FROM _sqlite_migrations")} == {
        "newswatch"
    }
    for table in TABLES:
        assert db[table].count > 0, table
    statuses = {r["status"] for r in db.query("SELECT status FROM alerts")}
    assert statuses == {"sent", "failed", "sending", "pending"}


def test_an_old_archive_upgrades_in_place_with_every_row(old, tmp_path):
    before = _dump(_raw(old))
    db = alerts_schema.open_archive(old)
    # later migrations add columns at the end of a table: every old row keeps its values
    after = {t: [r[: len(before[t][0])] for r in rows] for t, rows in _dump(db).items()}
    assert after == before
    assert archive.schema_version(db) == defined(archive.migrations)
    assert archive.schema_version(db, alerts_schema.migrations) == defined(alerts_schema.migrations)
    # The schema is the one the new code makes from nothing.
    fresh = alerts_schema.open_archive(tmp_path / "fresh.db")
    assert _schema(db) == _schema(fresh)
    # Re-opening changes nothing more.
    applied = list(db.query("SELECT * FROM _sqlite_migrations"))
    db.close()
    db = alerts_schema.open_archive(old)
    assert list(db.query("SELECT * FROM _sqlite_migrations")) == applied


def test_the_upgraded_archive_still_works(old):
    db = alerts_schema.open_archive(old)
    # full-text search over the stored articles (the triggers and index survived)
    hits = archive.search(db, "azerbaijan")
    assert {h["source"] for h in hits} == {"gazette-politics", "wire-feed"}
    # the outbox rows kept their states; the tier statements their countries
    counts = outbox.status_counts(db)
    assert {k: counts[k] for k in outbox.STATUSES} == {
        "pending": 1,
        "sending": 1,
        "sent": 1,
        "failed": 1,
        "merged": 0,
    }
    tiers = db.query("SELECT tier FROM tier_statements WHERE country = 'AZ'")
    assert [r["tier"] for r in tiers] == ["Tier 2", "Tier 2"]
    # the counts are split by owner and together cover what the old code counted
    counts = {**archive.counts(db), **alerts_schema.counts(db)}
    assert {k: counts[k] for k in OLD_COUNTS} == {**OLD_COUNTS, "matches": before_matches(old)}
    # a new article still gets stored, indexed and a story
    with archive.write(db):
        db["articles"].insert(
            {
                "url": "https://x.example/1",
                "source": "s",
                "title": "Azerbaijan again",
                "fetched_at": times.utcnow(),
            }
        )
    assert len(archive.search(db, "azerbaijan")) == len(hits) + 1


def before_matches(path: Path) -> int:
    return _raw(path)["matches"].count


def test_an_archive_of_the_alerts_set_before_follow_ups_upgrades_with_every_row(tmp_path):
    """An archive the previous code made (the alerts set through m003, before story_changes
    and the tier basis): its outbox and tier rows survive m004 and m005 as they were, first
    alerts get change_id 0, older statements basis NULL, and the outbox key now lets a
    follow-up of a sent story in beside its first alert (the old key refused it)."""
    path = tmp_path / "previous.db"
    db = archive.open_archive(path)
    with archive.write(db):
        alerts_schema.migrations.apply(db, stop_before="m004_story_changes")
        db["articles"].insert(
            {"url": "https://x.example/1", "source": "s", "title": "Georgia on Tier 2",
             "fetched_at": times.utcnow()}
        )  # fmt: skip
        db.execute(
            "INSERT INTO tier_statements (article_id, country, tier, year, sentence)"
            " VALUES (1, 'GE', 'Tier 2', 2025, 'Georgia is on Tier 2.')"
        )
        db.execute(
            "INSERT INTO alerts (watch, story_id, target, article_id, status, attempts,"
            " created_at, sent_at) VALUES ('w', 1, 't', 1, 'sent', 1, ?, ?)",
            ["2026-11-01T08:00:00Z", "2026-11-01T08:00:05Z"],
        )
    before = {t: [tuple(r.values()) for r in db.query(f"SELECT * FROM {t}")] for t in
              ("alerts", "tier_statements")}  # fmt: skip
    db.close()

    db = alerts_schema.open_archive(path)
    assert archive.schema_version(db, alerts_schema.migrations) == defined(alerts_schema.migrations)
    alerts = list(db.query("SELECT * FROM alerts"))
    assert [tuple(r.values())[: len(before["alerts"][0])] for r in alerts] == before["alerts"]
    assert [r["change_id"] for r in alerts] == [0]
    tiers = list(db.query("SELECT * FROM tier_statements"))
    assert [tuple(r.values())[:-1] for r in tiers] == before["tier_statements"]
    assert [r["basis"] for r in tiers] == [None]
    with archive.write(db):
        db.execute(
            "INSERT INTO story_changes (watch, story_id, article_id, kind, detected_at)"
            " VALUES ('w', 1, 1, 'update', ?)",
            ["2026-11-02T08:00:00Z"],
        )
        db.execute(
            "INSERT INTO alerts (watch, story_id, target, article_id, status, created_at,"
            " change_id) VALUES ('w', 1, 't', 1, 'pending', ?, 1)",
            ["2026-11-02T08:00:00Z"],
        )
    assert db["alerts"].count == 2
