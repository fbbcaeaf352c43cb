"""The ``stories`` rows of story assignment: a new story, an article joining one, the
look-ups the assigner makes (the story of a copy, of an article, the outlets of a story),
and the counts ``newswatch dedupe`` reports.

Plain SQL: these run once or more per stored article, and sqlite-utils' ``get``, ``insert``
and ``update`` inspect the table first (0.2 ms and more a call). The reads go to the
connection itself: ``Database.execute`` adds its auto-commit checks, which only a write needs.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from crawler import times
from crawler.event_stories import article_time


def copy_story(db: Database, fp: str | None) -> int | None:
    """The story of the first stored article with this fingerprint (a copy of it)."""
    if fp is None:
        return None
    # the new article's own fingerprint is not stored yet: no need to exclude it
    row = db.conn.execute(
        "SELECT story_id FROM articles WHERE fingerprint = ?"
        " AND story_id IS NOT NULL ORDER BY id LIMIT 1",
        [fp],
    ).fetchone()
    return row[0] if row else None


def story_of(db: Database, article_id: int) -> int | None:
    """The story an article is in, as the archive says (None if it is not there)."""
    row = db.conn.execute("SELECT story_id FROM articles WHERE id = ?", [article_id]).fetchone()
    return row[0] if row else None


def other_outlet(db: Database, story_id: int, source: str) -> bool:
    """Whether another outlet than ``source`` wrote part of this story."""
    row = db.conn.execute("SELECT sources FROM stories WHERE id = ?", [story_id]).fetchone()
    sources = json.loads(row[0] or "[]") if row else []
    return any(s != source for s in sources)


def insert_story(
    db: Database,
    story_id: int | None,
    article_id: int,
    title: str | None,
    seen_at: str,
    source: str,
) -> int:
    """Insert the story ``article_id`` starts (under ``story_id``, or a new id); its id."""
    cursor = db.execute(
        "INSERT INTO stories (id, article_id, title, first_seen_at, article_count, sources)"
        " VALUES (?, ?, ?, ?, 1, ?)",
        [story_id, article_id, title, seen_at, json.dumps([source])],
    )
    return story_id if story_id is not None else cursor.lastrowid


def join_story(
    db: Database, story_id: int, source: str, article_id: int, title: str | None, at: float
) -> None:
    """Count an article (of ``source``, at time ``at``) into a story; an article published
    before the story's original becomes the original."""
    row = db.conn.execute(
        "SELECT s.article_count, s.sources, a.published_at, a.fetched_at FROM stories s"
        " LEFT JOIN articles a ON a.id = s.article_id WHERE s.id = ?",
        [story_id],
    ).fetchone()
    if row is None:
        raise KeyError(f"no story {story_id}")
    count, sources, published_at, fetched_at = row
    sources = json.loads(sources or "[]")
    now = times.utcnow()
    # The original is the earliest *published* article, not the first crawled: a wire
    # copy crawled first must not take the credit from the outlet that broke the news.
    # (fetched_at is NOT NULL: None means the original's row is gone.)
    earlier = fetched_at is not None and at < article_time(published_at, fetched_at)
    if earlier:
        sources.insert(0, source)
    if source not in sources:
        sources.append(source)
    sources = json.dumps(list(dict.fromkeys(sources)))
    if earlier:
        db.execute(
            "UPDATE stories SET article_count = ?, updated_at = ?, sources = ?, article_id = ?,"
            " title = ? WHERE id = ?",
            [count + 1, now, sources, article_id, title, story_id],
        )
    else:
        db.execute(
            "UPDATE stories SET article_count = ?, updated_at = ?, sources = ? WHERE id = ?",
            [count + 1, now, sources, story_id],
        )


def dedupe_report(db: Database) -> dict:
    """Articles, stories, and how many stories have more than one article or source."""
    q = db.execute(
        "SELECT count(*), sum(article_count > 1), sum(json_array_length(sources) > 1),"
        " max(article_count) FROM stories WHERE merged_into IS NULL"
    ).fetchone()
    return {
        "articles": db.execute("SELECT count(*) FROM articles").fetchone()[0],
        "stories": q[0],
        "stories_with_copies": q[1] or 0,
        "stories_with_several_sources": q[2] or 0,
        "largest_story": q[3] or 0,
    }
