"""What a long-running daemon keeps for stories stays bounded however long it runs: the
near-duplicate index it shares between crawls holds the articles of the window (and the
dead rows it purges), and the event terms' word table starts again when full. The soak
(bench/bench_soak.py) grows them at 50 articles a cycle; these show where they stop."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from crawler import archive, event_terms, times
from crawler.config import DedupeSettings
from crawler.stories import StoryAssigner, load_story_index

HOUR = timedelta(hours=1)


def _text(rng: random.Random) -> tuple[str, str]:
    """A headline and a text of made-up words: every article a story of its own."""

    def word() -> str:
        return "".join(rng.choice("bdfgklmprstvz") + rng.choice("aeiou") for _ in range(3))

    return " ".join(word() for _ in range(6)), " ".join(word() for _ in range(30)) + "."


def test_the_shared_index_holds_only_the_window_across_crawls(tmp_path):
    settings = DedupeSettings(window=timedelta(days=2), event_window=timedelta(hours=12))
    db = archive.open_archive(tmp_path / "archive.db")
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        with archive.write(db):
            index = load_story_index(db, settings)
        sizes = []
        for crawl in range(24 * 6):  # six days, a crawl an hour, as the daemon does
            seen = times.iso(start + crawl * HOUR)
            with archive.write(db):
                assigner = StoryAssigner(db, settings, index=index)
                for n in range(3):
                    title, text = _text(rng)
                    aid = db.execute(
                        "INSERT INTO articles (url, source, title, text, fetched_at)"
                        " VALUES (?, ?, ?, ?, ?)",
                        [f"https://x.example/{crawl}/{n}", f"s{n}", title, text, seen],
                    ).lastrowid
                    assigner.assign(aid)
            assigner.ended(committed=True)
            sizes.append(len(index))
    finally:
        db.close()
    in_window = 3 * (48 + 1)  # two days of crawls, three articles each
    assert max(sizes) <= in_window
    assert sizes[-1] >= 3 * 48  # and it does hold the window


def test_the_event_terms_word_table_starts_again_when_full(monkeypatch):
    monkeypatch.setattr(event_terms, "KNOWN_WORDS", 500)
    monkeypatch.setattr(event_terms, "_KNOWN", {})
    rng = random.Random(3)
    largest = 0
    for _ in range(200):  # 200 articles of 36 new words each: 7,200 words
        title, text = _text(rng)
        event_terms.headline_lead_body(title, text, "en")
        largest = max(largest, max(len(t) for t in event_terms._KNOWN.values()))
    assert largest <= 500 + 40  # the table is checked before each text's words
