"""Stories: grouping articles that carry the same piece of news, and article versions.

This first version gives every new article its own story. The dedupe work replaces the
internals (fingerprints, near-duplicate index) behind the same class and methods.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from crawler.archive import utcnow


class StoryAssigner:
    """Assigns stories to newly stored articles; create one per crawl (or per process).

    Its methods must be called inside the write transaction that stored the article.
    """

    def __init__(self, db: Database):
        self.db = db

    def assign(self, article_id: int) -> int:
        """Give a newly stored article its story (a new one, or the story it copies)."""
        db = self.db
        row = db.execute(
            "SELECT id, title, source, fetched_at, story_id FROM articles WHERE id = ?",
            [article_id],
        ).fetchone()
        if row is None:
            raise KeyError(f"no article {article_id}")
        if row[4] is not None:
            return row[4]
        cur = db.execute(
            "INSERT INTO stories (article_id, title, first_seen_at, article_count, sources)"
            " VALUES (?, ?, ?, 1, ?)",
            [article_id, row[1], row[3] or utcnow(), json.dumps([row[2]])],
        )
        story_id = cur.lastrowid
        db.execute("UPDATE articles SET story_id = ? WHERE id = ?", [story_id, article_id])
        return story_id

    def record_update(
        self, article_id: int, *, title: str | None, text: str | None, content_hash: str
    ) -> bool:
        """An archived article came back with changed content: keep the old version as a
        row of ``article_versions``, store the new one. Returns True if anything changed.
        The article keeps its id and its story."""
        db = self.db
        old = db.execute(
            "SELECT title, text, content_hash, fetched_at FROM articles WHERE id = ?",
            [article_id],
        ).fetchone()
        if old is None:
            raise KeyError(f"no article {article_id}")
        if old[2] == content_hash:
            return False
        db.execute(
            "INSERT INTO article_versions (article_id, content_hash, fetched_at, title, text)"
            " VALUES (?, ?, ?, ?, ?)",
            [article_id, old[2], old[3], old[0], old[1]],
        )
        db.execute(
            "UPDATE articles SET title = ?, text = ?, content_hash = ?, updated_at = ?"
            " WHERE id = ?",
            [title, text, content_hash, utcnow(), article_id],
        )
        return True
