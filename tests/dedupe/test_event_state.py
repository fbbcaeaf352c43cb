"""The event level's state kept across a process's crawls (crawler/event_state.py): the
same stories as a reload per crawl, nothing the archive lost, a bounded vocabulary, and a
new state with a reloaded story index."""

from __future__ import annotations

import random
import string
from datetime import timedelta

import pytest
from dedupe.test_event_drift import SEQUENCE
from dedupe.test_event_views import put

from crawler import archive, event_state, times
from crawler.config import DedupeSettings
from crawler.event_state import shared
from crawler.event_terms import headline_lead_body
from crawler.stories import StoryAssigner, load_story_index

DOCS = {name: (source, doc, at) for name, source, doc, at in SEQUENCE}
# the agency's report, then the daily's on the same earthquake in a later crawl, ...
CRAWLS = [["rates", "strike", "quake"], ["toll"], ["night"], ["orvano"]]


def crawl(db, index, names, settings=None):
    """One crawl that stores these reports; ({name: story id}, the crawl's event index)."""
    with archive.write(db):
        assigner = StoryAssigner(db, settings, index=index)
        got = {name: put(db, assigner, DOCS[name][0], name, *DOCS[name][1:])[1] for name in names}
    assigner.ended(committed=True)  # as the daemon's pipeline says after each commit
    return got, assigner.events.index


@pytest.mark.parametrize("cross", [0.0, 0.5], ids=["default", "cross-language"])
def test_kept_state_gives_the_stories_of_a_reload_per_crawl(tmp_path, cross):
    settings = DedupeSettings(cross_language_threshold=cross)
    runs = []
    for reload in (True, False):
        db = archive.open_archive(tmp_path / f"{reload}.db")
        try:
            index = load_story_index(db, settings)
            stories, indexes = {}, []
            for names in CRAWLS:
                got, events = crawl(db, index, names, settings)
                stories.update(got)
                indexes.append(events)
                if reload:  # as before: every crawl loads the event level from the archive
                    shared(index).drop()
            runs.append((stories, indexes))
        finally:
            db.close()
    (before, reloaded), (after, kept) = runs
    assert after == before
    # two outlets' reports of one earthquake, stored in separate crawls, make one story
    assert after["quake"] == after["toll"] == after["night"] != after["orvano"]
    assert len(set(after.values())) == 4
    assert all(events is kept[0] for events in kept)  # loaded once, then kept
    assert len({id(events) for events in reloaded}) == len(CRAWLS)


def holds_its_own_text(events, db, url_end: str) -> bool:
    """Whether the event index holds the archived article's own numbers (not another's)."""
    aid, title, text = db.execute(
        "SELECT id, title, text FROM articles WHERE url LIKE ?", ["%" + url_end]
    ).fetchone()
    mine = events.numbers(events.vectors(*headline_lead_body(title, text, "en")).ids)
    held = events.article_numbers("en", aid)
    return held is not None and held.tolist() == mine.tolist()


def test_a_rolled_back_crawl_leaves_nothing_in_the_kept_state(db):
    index = load_story_index(db)
    crawl(db, index, ["rates", "strike"])
    with pytest.raises(RuntimeError), archive.write(db):
        crawl(db, index, ["quake"])  # a savepoint in the crawl's transaction...
        raise RuntimeError("the commit failed")  # ...which rolls back
    assert db.execute("SELECT count(*) FROM articles WHERE url LIKE '%/quake'").fetchone()[0] == 0
    got, events = crawl(db, index, ["toll"])
    # the daily's report is the archive's first on the earthquake: it starts a story, and
    # the index holds its text (SQLite gave it the rolled-back article's id)
    toll = db.execute("SELECT id FROM articles WHERE url LIKE '%/toll'").fetchone()[0]
    row = db.execute("SELECT article_id FROM stories WHERE id = ?", [got["toll"]]).fetchone()
    assert row is not None and row[0] == toll
    assert len(events) == 3 and holds_its_own_text(events, db, "/toll")


def test_an_item_rolled_back_within_a_crawl_is_not_kept(db):
    # the pipeline stores each item in its own savepoint: one that fails rolls back alone,
    # and the next item takes its article id
    index = load_story_index(db)
    crawl(db, index, ["rates", "strike"])
    with archive.write(db):
        assigner = StoryAssigner(db, None, index=index)
        with pytest.raises(RuntimeError), archive.write(db):
            put(db, assigner, DOCS["quake"][0], "quake", *DOCS["quake"][1:])
            raise RuntimeError("the item could not be stored")
        put(db, assigner, DOCS["toll"][0], "toll", *DOCS["toll"][1:])
    _, events = crawl(db, index, ["night"])
    assert holds_its_own_text(events, db, "/toll")


def test_a_reloaded_story_index_comes_with_a_new_event_state(db):
    # the daemon loads its story index again on SIGHUP with new [dedupe] settings
    index = load_story_index(db)
    _, first = crawl(db, index, ["rates", "strike", "quake"])
    index = load_story_index(db)
    got, second = crawl(db, index, ["toll"])
    assert second is not first and len(second) == 4
    assert (
        got["toll"]
        == db.execute("SELECT story_id FROM articles WHERE url LIKE '%/quake'").fetchone()[0]
    )


def _words(rng: random.Random, n: int) -> str:
    return " ".join("".join(rng.choices(string.ascii_lowercase, k=7)) for _ in range(n))


def test_the_kept_vocabulary_stays_bounded_over_many_windows(db, monkeypatch):
    # every article brings words never seen before (names of the day): the vocabulary would
    # grow with every crawl while the articles leave the window
    monkeypatch.setattr(event_state, "VOCAB_MIN", 2000)
    settings = DedupeSettings(event_window=timedelta(hours=6))
    rng = random.Random(5)
    start = times.now() - timedelta(hours=200)
    index = load_story_index(db, settings)
    sizes, live, terms, loaded = [], [], 0, set()
    for hour in range(200):
        at = times.iso(start + timedelta(hours=hour))
        with archive.write(db):
            assigner = StoryAssigner(db, settings, index=index)
            for n in range(2):
                aid = db.execute(
                    "INSERT INTO articles (url, source, title, text, language, published_at,"
                    " fetched_at) VALUES (?, ?, ?, ?, 'en', ?, ?)",
                    [
                        f"https://s{n}.example/{hour}",
                        f"s{n}",
                        _words(rng, 6),
                        _words(rng, 60),
                        at,
                        at,
                    ],
                ).lastrowid
                assigner.assign(aid)
                terms += 66
            events = assigner.events.index
        assigner.ended(committed=True)
        loaded.add(id(events))
        sizes.append(len(events._vocab))
        live.append(len(events))

    assert max(live) <= 2 * (2 * 6 + 1)  # the articles do leave the window
    assert max(sizes) <= 2 * max(2000, 2 * 66 * max(live)) < terms / 2
    assert len(loaded) < 200 / 4  # and the state is kept most crawls
