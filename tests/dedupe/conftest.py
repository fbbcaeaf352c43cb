"""Fixtures for the dedupe tests: a fresh archive file and a helper that stores one article."""

from __future__ import annotations

import pytest

from crawler import archive


@pytest.fixture
def db(tmp_path):
    """A fresh archive file under tmp_path, migrated."""
    handle = archive.open_archive(tmp_path / "archive.db")
    yield handle
    handle.close()


@pytest.fixture
def insert():
    """insert(db, url, source, title, text, fetched_at=None) -> article id (no story yet)."""

    def add(db, url, source, title, text, *, fetched_at=None, summary=None):
        cur = db.execute(
            "INSERT INTO articles (url, source, title, text, summary, fetched_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [url, source, title, text, summary, fetched_at or archive.utcnow()],
        )
        return cur.lastrowid

    return add
