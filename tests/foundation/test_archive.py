"""The archive: created from nothing, re-opened, upgraded in place, FTS in sync, two writers."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import pytest
from sqlite_utils import Database

from alerts import schema as alerts_schema
from crawler import archive, times


def defined(migration_set) -> list[str]:
    """Every migration a set defines, in order: what sqlite-utils' public ``pending()`` lists
    for an empty database."""
    return [m.name for m in migration_set.pending(Database(memory=True))]


def _article(i: int, **extra) -> dict:
    return {
        "url": f"https://example.org/a/{i}",
        "source": "s",
        "title": f"title {i}",
        "text": f"text {i}",
        "fetched_at": times.utcnow(),
        **extra,
    }


def test_created_from_nothing_with_wal_and_all_tables(tmp_path):
    path = tmp_path / "sub" / "a.db"
    db = alerts_schema.open_archive(path)
    assert path.exists()
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == archive.BUSY_TIMEOUT_MS
    tables = set(db.table_names())
    expected = {"sources", "articles", "stories", "matches", "tier_statements", "alerts", "fetches"}
    assert expected <= tables
    assert "articles_fts" in tables
    assert {
        "url",
        "title",
        "text",
        "published_at",
        "fetched_at",
        "source",
        "language",
        "story_id",
        "matched_at",
    } <= set(db["articles"].columns_dict)
    assert {"watch", "story_id", "target", "status", "attempts", "last_error", "sent_at"} <= set(
        db["alerts"].columns_dict
    )
    assert {"article_id", "country", "tier", "year", "sentence"} <= set(
        db["tier_statements"].columns_dict
    )


def test_each_package_creates_only_its_own_tables(tmp_path):
    db = archive.open_archive(tmp_path / "a.db")
    crawler_tables = set(db.table_names())
    assert {"sources", "fetches", "articles", "stories", "daemon"} <= crawler_tables
    assert not crawler_tables & set(alerts_schema.TABLES)
    assert set(archive.counts(db)) == {"articles", "stories"}
    alerts_schema.ensure(db)
    assert set(db.table_names()) - crawler_tables == set(alerts_schema.TABLES)
    assert archive.schema_version(db, alerts_schema.migrations) == defined(alerts_schema.migrations)
    sets = {r["migration_set"] for r in db.query("SELECT migration_set FROM _sqlite_migrations")}
    assert sets == {"crawler", "alerts"}


def test_reopening_is_a_no_op(tmp_path):
    path = tmp_path / "a.db"
    db = alerts_schema.open_archive(path)
    with archive.write(db):
        db["articles"].insert(_article(1))
    applied = db.execute("SELECT name, applied_at FROM _sqlite_migrations").fetchall()
    schema = db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    db.close()
    db = alerts_schema.open_archive(path)
    assert db.execute("SELECT name, applied_at FROM _sqlite_migrations").fetchall() == applied
    assert db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema
    assert db["articles"].count == 1


def test_older_archive_upgrades_in_place(tmp_path):
    path = tmp_path / "old.db"
    names = defined(archive.migrations)
    assert len(names) >= 2
    # An archive written by the previous schema version: every migration but the last.
    old = archive.open_archive(path, migrate=False)
    archive.migrations.apply(old, stop_before=names[-1])
    old["articles"].insert(_article(1, title="kept across upgrades"))
    old.close()
    db = archive.open_archive(path)
    assert archive.schema_version(db) == names
    assert db["articles"].get(1)["title"] == "kept across upgrades"
    assert [r["title"] for r in archive.search(db, "upgrades")] == ["kept across upgrades"]


def test_fts_follows_insert_update_delete(tmp_path):
    db = archive.open_archive(tmp_path / "a.db")
    with archive.write(db):
        db["articles"].insert(
            _article(1, title="Azerbaijan remains on Tier 2", text="trafficking report")
        )
        db["articles"].insert(_article(2, title="Climate talks", text="finance goal"))
    assert [r["id"] for r in archive.search(db, "azerbaijan")] == [1]
    assert [r["id"] for r in archive.search(db, '"tier 2"')] == [1]
    with archive.write(db):
        db["articles"].update(2, {"text": "forced labour in Azerbaijan"})
    assert sorted(r["id"] for r in archive.search(db, "azerbaijan")) == [1, 2]
    assert archive.search(db, "finance") == []
    with archive.write(db):
        db["articles"].delete(1)
    assert [r["id"] for r in archive.search(db, "azerbaijan")] == [2]
    assert archive.search(db, "trafficking") == []


def test_search_survives_what_people_type(tmp_path):
    db = archive.open_archive(tmp_path / "a.db")
    with archive.write(db):
        db["articles"].insert(
            _article(1, title="U.S. report: Tier 2 (again)", text="traffickers jailed")
        )
    for q in ["U.S. report:", "(again", 'tier "2', "OR", "traffick*", "AND NOT"]:
        archive.search(db, q)  # never an FTS syntax error
    assert [r["id"] for r in archive.search(db, "traffick*")] == [1]
    assert archive.search(db, "OR") == []


def test_write_rolls_back_on_error(tmp_path):
    db = archive.open_archive(tmp_path / "a.db")
    try:
        with archive.write(db):
            db["articles"].insert(_article(1))
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert db["articles"].count == 0


WRITER = textwrap.dedent(
    """
    import sys
    from crawler import archive
    db = archive.open_archive(sys.argv[1])
    tag = sys.argv[2]
    for i in range(150):
        with archive.write(db):
            n = db.execute("SELECT count(*) FROM articles").fetchone()[0]
            db["articles"].insert({"url": f"https://example.org/{tag}/{i}", "source": tag,
                                   "title": f"{tag} {i} after {n}", "fetched_at": archive.utcnow()})
    print("ok")
    """
)


@pytest.mark.slow  # a real process
def test_two_processes_writing_do_not_fail_with_database_locked(tmp_path):
    path = tmp_path / "a.db"
    archive.open_archive(path).close()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), tag],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("one", "two")
    ]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.strip() == "ok"
    db = archive.open_archive(path)
    assert db["articles"].count == 300
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_failed_commit_leaves_no_transaction_open(tmp_path):
    # A COMMIT can fail (here a deferred foreign key; a full disk does it too): the
    # transaction must be rolled back, or every later write() would be a savepoint inside
    # it and nothing written after would ever be committed.
    db = archive.open_archive(tmp_path / "a.db")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, source TEXT"
        " REFERENCES sources(name) DEFERRABLE INITIALLY DEFERRED)"
    )
    with pytest.raises(sqlite3.IntegrityError), archive.write(db):
        db.execute("INSERT INTO notes (source) VALUES ('no such source')")
    assert not db.conn.in_transaction
    with archive.write(db):
        db.execute("INSERT INTO notes (source) VALUES (NULL)")
    other = sqlite3.connect(tmp_path / "a.db")
    assert other.execute("SELECT count(*) FROM notes").fetchone() == (1,)
