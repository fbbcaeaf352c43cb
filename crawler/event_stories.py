"""The event level of stories: which existing story an article that copies nothing reports.

:class:`crawler.stories.StoryAssigner` asks :class:`EventLinker` once the reprint level
found no story: the linker scores the article against the recent articles of its language
(:class:`crawler.events.EventIndex`) and names the story to join, or None. A story's
articles stay together however they joined, so one alert goes out per event story.

Chaining is the risk of any "join the story of the most similar article" rule: A near B,
B near C, and C, on a second event of the same kind, ends up with A. So an article joins
only when it is close enough to the best-matching article (``event_threshold``) *and* to
the story's first article (``event_anchor``): a story cannot drift away from what it
started as.
"""

from __future__ import annotations

from collections import Counter

from sqlite_utils import Database

from crawler import times
from crawler.config import DedupeSettings
from crawler.events import EventIndex, terms


def article_time(published_at: str | None, fetched_at: str | None) -> float:
    """An article's time for the event window: when it was published, else first seen."""
    t = times.parse_time(published_at) or times.parse_time(fetched_at) or times.now()
    return t.timestamp()


class EventLinker:
    """Finds the event story of a new article; one per :class:`StoryAssigner`."""

    def __init__(self, db: Database, settings: DedupeSettings, *, index: EventIndex | None = None):
        self.db = db
        self.settings = settings
        self._index = index
        self._anchor: dict[int, int] = {}  # story id -> the first article the index saw in it

    @property
    def enabled(self) -> bool:
        """False when ``event_threshold`` is 0 (no event level: stories are reprints only)."""
        return self.settings.event_threshold > 0

    @property
    def index(self) -> EventIndex:
        """The index of recent articles, loaded from the archive on first use."""
        if self._index is None:
            self._index = EventIndex(window_seconds=self.settings.event_window.total_seconds())
            self._load()
        return self._index

    def _load(self) -> None:
        since = times.iso(times.now() - 2 * self.settings.event_window)
        rows = self.db.execute(
            "SELECT id, story_id, title, text, summary, language, published_at, fetched_at"
            " FROM articles WHERE story_id IS NOT NULL AND fetched_at >= ? ORDER BY id",
            [since],
        )
        for aid, story, title, text, summary, language, published, fetched in rows:
            counts = terms(title, text or summary, language)
            self.add(aid, story, counts, language, article_time(published, fetched))

    def find(self, counts: Counter, language: str | None, at: float) -> int | None:
        """The story this article's event belongs to, or None for a new event."""
        if not self.enabled or not counts:
            return None
        index = self.index
        index.expire(at - 2 * index.window)
        threshold, anchor_min = self.settings.event_threshold, self.settings.event_anchor
        tried: set[int] = set()
        cands = index.candidates(counts, language, at)
        for score, key, story in cands:
            if score < threshold:
                break
            if story in tried:
                continue
            tried.add(story)
            anchor = self._anchor.get(story, key)
            if anchor == key:
                anchor_score = score
            else:
                anchor_score = next((s for s, k, _ in cands if k == anchor), None)
                if anchor_score is None:
                    found = index.candidates(counts, language, at, also=(anchor,), probe=False)
                    anchor_score = next((s for s, k, _ in found if k == anchor), 0.0)
            if anchor_score >= anchor_min:
                return story
            if len(tried) >= 3:
                break
        return None

    def add(
        self, article_id: int, story_id: int, counts: Counter, language: str | None, at: float
    ) -> None:
        """Put a stored article in the index under its story."""
        if not self.enabled:
            return
        self._anchor.setdefault(story_id, article_id)
        self.index.add(article_id, story_id, counts, language, at)
