"""A kept story index (the daemon's, across crawls) follows what other processes do to the
archive's stories (crawler/event_state.py): a `newswatch dedupe --rebuild` and another
process's crawl make the next crawl load both levels again; nothing external, no reload."""

from __future__ import annotations

import sqlite3

import pytest
from dedupe.test_event_drift import SEQUENCE, TOLL
from dedupe.test_event_views import put

from alerts.story_links import rebuild_stories
from crawler import archive
from crawler.config import DedupeSettings
from crawler.event_state import shared
from crawler.stories import StoryAssigner, load_story_index

DOCS = {name: (source, doc, at) for name, source, doc, at in SEQUENCE}
# the daily's report as a wire service reprints it: its own headline, a line of furniture
DOCS["toll-reprint"] = (
    "wire",
    ("Quake toll in Valdera reaches 38", TOLL[1] + "\n\nFollow the wire on social media."),
    "2024-05-07T10:00:00Z",
)


def crawl(db, index, names):
    """One crawl as the daemon's (one assigner with the kept index); {name: story id}."""
    with archive.write(db):
        assigner = StoryAssigner(db, None, index=index)
        got = {name: put(db, assigner, DOCS[name][0], name, *DOCS[name][1:])[1] for name in names}
    assigner.ended(committed=True)  # as the daemon's pipeline says after each commit
    return got


def story(db, name):
    return db.execute("SELECT story_id FROM articles WHERE url LIKE ?", ["%/" + name]).fetchone()[0]


@pytest.fixture
def config(write_config):
    """A config on the test's archive whose [dedupe] turns the event level off: what a user
    who edited the config and did not tell the daemon would rebuild with."""
    return write_config('[archive]\npath = "{archive}"\n\n[dedupe]\nevent_threshold = 0\n')


@pytest.mark.slow  # a real `newswatch dedupe --rebuild` process
def test_nothing_external_keeps_the_state_and_a_cli_rebuild_reloads_it(
    config, run_newswatch, tmp_path
):
    db = archive.open_archive(tmp_path / "archive.db")
    try:
        index = load_story_index(db)  # the daemon's start (default [dedupe])
        state = shared(index)
        first = crawl(db, index, ["quake", "toll"])
        assert first["quake"] == first["toll"]  # two outlets' reports: one event story
        crawl(db, index, ["rates"])
        events = state.index
        # nothing external happened: the kept levels served both crawls, no reload
        assert state.reloads == 0 and events is not None
        crawl(db, index, ["strike"])
        assert state.reloads == 0 and state.index is events
        # another process rebuilds the stories without the event level: the daily's report
        # leaves the agency's story for a new id
        done = run_newswatch("dedupe", "--rebuild", "--config", str(config))
        assert done.returncode == 0, done.stderr
        assert story(db, "toll") != story(db, "quake")
        # a copy of the rebuilt archive, loaded by a fresh process: where the next report goes
        with sqlite3.connect(tmp_path / "fresh.db") as copy:
            db.conn.backup(copy)
        fresh = archive.open_archive(tmp_path / "fresh.db")
        try:
            expected = crawl(fresh, load_story_index(fresh), ["night"])["night"]
        finally:
            fresh.close()
        assert expected == story(db, "toll")
        # the daemon's next crawl: the regional report joins the daily's rebuilt story (with
        # the stale event state it joined the agency's, as before the rebuild)
        assert crawl(db, index, ["night"])["night"] == expected
        assert state.reloads == 1 and state.index is not events
        crawl(db, index, ["orvano"])
        assert state.reloads == 1  # reloaded once
    finally:
        db.close()


def test_another_process_crawl_is_in_the_next_crawls_index(tmp_path):
    db = archive.open_archive(tmp_path / "archive.db")
    other = archive.open_archive(tmp_path / "archive.db")
    try:
        index = load_story_index(db)
        state = shared(index)
        crawl(db, index, ["rates"])
        # `newswatch crawl` in another process while the daemon runs: its own index
        with archive.write(other):
            put(other, StoryAssigner(other, None), *DOCS["toll"][:1], "toll", *DOCS["toll"][1:])
        # the wire's reprint of the daily's report, in the daemon's next crawl, joins it
        got = crawl(db, index, ["toll-reprint"])
        assert got["toll-reprint"] == story(db, "toll")
        assert state.reloads == 1
        crawl(db, index, ["strike"])
        assert state.reloads == 1  # the daemon's own articles are not another process's
    finally:
        other.close()
        db.close()


def test_a_rebuild_within_a_crawl_is_seen_at_the_next_article(tmp_path):
    # the check before each article: a rebuild that commits between two of the crawl's write
    # transactions (the store writes in batches) is not assigned against for the rest of it
    db = archive.open_archive(tmp_path / "archive.db")
    other = archive.open_archive(tmp_path / "archive.db")  # another process's connection
    try:
        index = load_story_index(db)
        state = shared(index)
        crawl(db, index, ["quake", "toll"])
        crawl(db, index, ["rates"])
        assigner = StoryAssigner(db, None, index=index)  # one crawl's assigner...
        with archive.write(db):
            put(db, assigner, *DOCS["strike"][:1], "strike", *DOCS["strike"][1:])
        assigner.ended(committed=True)
        rebuild_stories(other, DedupeSettings(event_threshold=0))  # as `dedupe --rebuild`
        toll, quake = story(db, "toll"), story(db, "quake")
        assert toll != quake
        with archive.write(db):  # ...and its next batch
            night = put(db, assigner, *DOCS["night"][:1], "night", *DOCS["night"][1:])[1]
        # the daily's rebuilt story (with the stale state: the agency's, which held both);
        # the report, agreeing with both rebuilt stories, may merge the agency's into it
        # (crawler/story_merge.py)
        assert night == toll
        assert state.reloads == 1
    finally:
        other.close()
        db.close()
