"""The store writes an article's fingerprint with its row (crawler/store.py); the story
assigner then sets only the story, and sets the fingerprint itself when the row has none or
another (an article stored by other means, a rebuild after the fingerprint changed)."""

from __future__ import annotations

from crawler import archive
from crawler.store import store_items
from crawler.stories import StoryAssigner, rebuild_stories

TEXT = (
    "The ministry published its annual report on labour inspections on Monday.\n"
    "Inspectors visited 1,200 workplaces in the northern provinces during the year."
)


class StoriesOnly:
    """An assigner without assign_stored that writes nothing to the article's row."""

    def __init__(self, db):
        self.db = db

    def assign(self, article_id: int) -> None:
        return None


def _row(db, url):
    return db.execute(
        "SELECT fingerprint, content_hash, story_id FROM articles WHERE url = ?", [url]
    ).fetchone()


def test_the_row_carries_its_fingerprint_whatever_the_assigner(db):
    with archive.write(db):
        store_items(
            db,
            "s",
            [{"url": "https://a.example/1", "title": "Report", "text": TEXT}],
            StoriesOnly(db),
        )
    fingerprint, content_hash, _ = _row(db, "https://a.example/1")
    assert fingerprint is not None and fingerprint == content_hash


def test_a_copy_finds_the_story_of_the_stored_row(db):
    items = [
        {"url": "https://a.example/1", "title": "Report", "text": TEXT},
        {"url": "https://b.example/9", "title": "Report", "text": TEXT},
    ]
    with archive.write(db):
        store_items(db, "a", items[:1], StoryAssigner(db))
        store_items(db, "b", items[1:], StoryAssigner(db))
    first, second = _row(db, "https://a.example/1"), _row(db, "https://b.example/9")
    assert first[2] == second[2]
    assert first[0] == second[0] == first[1]


def test_a_rebuild_restores_a_missing_fingerprint(db):
    with archive.write(db):
        store_items(
            db,
            "a",
            [{"url": "https://a.example/1", "title": "Report", "text": TEXT}],
            StoryAssigner(db),
        )
    stored = _row(db, "https://a.example/1")[0]
    with archive.write(db):
        db.execute("UPDATE articles SET fingerprint = NULL")
    rebuild_stories(db)
    assert _row(db, "https://a.example/1")[0] == stored
