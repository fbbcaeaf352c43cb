"""Matched stories written the way the match stage writes them, and the tests' frozen clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from crawler import times
from crawler.archive import write

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday, 07:00 in Berlin


class News:
    """Writes articles, stories, matches and tier statements the way the match stage does."""

    def __init__(self, db):
        self.db = db
        self.n = 0

    def add(
        self,
        title: str = "Azerbaijan stays on Tier 2",
        *,
        watch: str = "trafficking",
        countries: tuple[str, ...] = ("AZ",),
        terms: tuple[str, ...] = ("trafficking",),
        text: str | None = None,
        source: str = "turan",
        sources: tuple[str, ...] = (),
        tiers: tuple[tuple[str, str], ...] = (),
        at: datetime = T0,
    ) -> int:
        """One matched story; returns its story id."""
        self.n += 1
        stamp = times.iso(at)
        text = text or (
            "Baku. " + "Officials met. " * 30 + f"The report on {terms[0]} was published. "
            "More text follows. " * 30
        )
        with write(self.db):
            story = self.db.execute(
                "INSERT INTO stories (title, first_seen_at, article_count, sources)"
                " VALUES (?, ?, ?, ?)",
                [title, stamp, 1 + len(sources), json.dumps([source, *sources])],
            ).lastrowid
            article = self.db.execute(
                "INSERT INTO articles (url, source, title, text, published_at, fetched_at,"
                " story_id, matched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    f"https://news.example.org/a/{self.n}",
                    source,
                    title,
                    text,
                    stamp,
                    stamp,
                    story,
                    stamp,
                ],
            ).lastrowid
            self.db.execute("UPDATE stories SET article_id = ? WHERE id = ?", [article, story])
            start = text.find(terms[0])
            self.db.execute(
                "INSERT INTO matches (article_id, story_id, watch, countries, terms, matched_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    article,
                    story,
                    watch,
                    json.dumps(list(countries)),
                    json.dumps([[t, start, start + len(t)] for t in terms]),
                    stamp,
                ],
            )
            for country, tier in tiers:
                self.db.execute(
                    "INSERT INTO tier_statements (article_id, country, tier, year, sentence)"
                    " VALUES (?, ?, ?, 2025, ?)",
                    [article, country, tier, f"{country} is on {tier}."],
                )
        return story
