"""The full-text index follows the articles when it is written once per write transaction
(crawler/fulltext.py): new, updated and deleted articles, in the transaction that stored
them or later, an archive made with the old per-row triggers, rows written by other means."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from crawler import archive, fulltext, times
from crawler.store import store_items

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "archive" / "archive-9e8723c.db"


def _insert(db, i: int, title: str, text: str) -> None:
    db.execute(
        "INSERT INTO articles (id, url, source, title, text, fetched_at) VALUES (?, ?, ?, ?, ?, ?)",
        [i, f"https://example.org/a/{i}", "s", title, text, times.utcnow()],
    )


def _ids(db, query: str) -> list[int]:
    return sorted(r["id"] for r in archive.search(db, query))


def _consistent(db) -> None:
    # FTS5 compares the index with the articles table (rank 1: the external content too,
    # not only the index itself): raises if they disagree
    db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")


def test_new_updated_and_deleted_in_the_storing_transaction(tmp_path):
    db = archive.open_archive(tmp_path / "a.db")
    with archive.write(db):
        for i, title in enumerate(["Azerbaijan Tier 2", "Climate talks", "Flood warning"], 1):
            with archive.write(db):  # a savepoint per item, as the pipeline stores them
                _insert(db, i, title, "report text")
        db.execute("UPDATE articles SET text = 'forced labour findings' WHERE id = 2")
        db.execute("DELETE FROM articles WHERE id = 3")
    assert _ids(db, "azerbaijan") == [1]
    assert _ids(db, "forced labour") == [2]
    assert _ids(db, "report") == [1]  # article 2's old text is not indexed, 3 is gone
    assert _ids(db, "flood") == []
    _consistent(db)


def test_updated_and_deleted_after_commit(tmp_path):
    db = archive.open_archive(tmp_path / "a.db")
    with archive.write(db):
        _insert(db, 1, "Azerbaijan Tier 2", "trafficking report")
        _insert(db, 2, "Climate talks", "finance goal")
    with archive.write(db):
        db.execute("UPDATE articles SET text = 'forced labour in Azerbaijan' WHERE id = 2")
    assert _ids(db, "azerbaijan") == [1, 2]
    assert _ids(db, "finance") == []
    with archive.write(db):
        db.execute("DELETE FROM articles WHERE id = 1")
    assert _ids(db, "azerbaijan") == [2]
    assert _ids(db, "trafficking") == []
    _consistent(db)


def test_a_rolled_back_article_leaves_nothing_pending(tmp_path):
    db = archive.open_archive(tmp_path / "a.db")
    try:
        with archive.write(db):
            _insert(db, 1, "Azerbaijan Tier 2", "report")
            raise RuntimeError("refused")
    except RuntimeError:
        pass
    assert not fulltext.has_pending(db.conn)
    assert _ids(db, "azerbaijan") == []
    _consistent(db)


def test_one_index_segment_per_transaction(tmp_path):
    """Forty articles stored each in its own savepoint: one new FTS5 segment, not one per
    savepoint (with a trigger per row FTS5 flushed at each, and merged them again)."""
    db = archive.open_archive(tmp_path / "a.db")
    with archive.write(db):
        for i in range(1, 41):
            with archive.write(db):
                _insert(db, i, f"title {i}", f"word{i} shared")
    assert db.execute("SELECT count(*) FROM articles_fts_idx").fetchone()[0] == 1
    assert _ids(db, "word7") == [7]
    assert len(_ids(db, "shared")) == 20  # search's default limit
    _consistent(db)


def test_stored_items_and_an_updated_version_are_found(tmp_path, monkeypatch):
    from crawler.stories import StoryAssigner

    db = archive.open_archive(tmp_path / "a.db")
    item = {"url": "https://example.org/x", "title": "Tier 2 again", "text": "old findings"}
    with archive.write(db):
        store_items(db, "s", [dict(item)], StoryAssigner(db))
    assert [r["title"] for r in archive.search(db, "findings")] == ["Tier 2 again"]
    with archive.write(db):
        result = store_items(
            db, "s", [dict(item, text="new evidence of forced labour")], StoryAssigner(db)
        )
    assert result.updated == 1
    assert [r["title"] for r in archive.search(db, "evidence")] == ["Tier 2 again"]
    assert archive.search(db, "old findings") == []
    _consistent(db)


def test_old_archive_is_migrated_and_stays_searchable(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(FIXTURE, path)
    before = sqlite3.connect(path)
    old_triggers = dict(before.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger'"))
    before.close()
    assert "articles_fts_pending" not in old_triggers["articles_ai"]  # the per-row trigger
    db = archive.open_archive(path)
    assert "m007_fts_deferred" in archive.schema_version(db)
    hits = _ids(db, "azerbaijan")
    assert hits  # what the old triggers indexed is still there
    with archive.write(db):
        _insert(db, 1000, "Azerbaijan upgraded", "a new article after the upgrade")
        db.execute(
            "UPDATE articles SET text = 'rewritten after the upgrade' WHERE id = ?", [hits[0]]
        )
    assert _ids(db, "upgrade") == sorted([hits[0], 1000])
    _consistent(db)


def test_rows_written_by_other_means_are_indexed_on_open(tmp_path):
    path = tmp_path / "a.db"
    archive.open_archive(path).close()
    conn = sqlite3.connect(path)  # e.g. a person's own script, no archive.write
    with conn:
        conn.execute(
            "INSERT INTO articles (url, source, title, text, fetched_at)"
            " VALUES ('https://example.org/s', 's', 'Scripted', 'typed in by hand', 'x')"
        )
    conn.close()
    db = archive.open_archive(path)
    assert [r["title"] for r in archive.search(db, "hand")] == ["Scripted"]
    assert not fulltext.has_pending(db.conn)


def test_nested_writes_roll_back_only_their_own_part(tmp_path):
    """write() inside write() is a savepoint (one name at every depth): a failing inner part
    is undone, with its articles' pending index entries, and the rest commits."""
    db = archive.open_archive(tmp_path / "a.db")
    with archive.write(db):
        _insert(db, 1, "kept outer", "first")
        try:
            with archive.write(db):
                _insert(db, 2, "dropped inner", "second")
                with archive.write(db):
                    _insert(db, 3, "dropped innermost", "third")
                raise RuntimeError("refused")
        except RuntimeError:
            pass
        with archive.write(db):
            _insert(db, 4, "kept inner", "fourth")
            try:
                with archive.write(db):
                    _insert(db, 5, "dropped innermost", "fifth")
                    raise RuntimeError("refused")
            except RuntimeError:
                pass
    assert [r[0] for r in db.execute("SELECT id FROM articles ORDER BY id")] == [1, 4]
    assert _ids(db, "kept") == [1, 4]
    assert _ids(db, "dropped") == []
    assert not db.conn.in_transaction
    _consistent(db)
