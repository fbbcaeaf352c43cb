"""A kept story index never trusts what a rolled-back write put in it (crawler/event_state.py):
an article given its story in a transaction (or an item's savepoint) that rolled back leaves
an id SQLite hands out again. When another process then stores an article under that id,
the daemon's next crawl must not take it for its own: it loads the kept levels again, so
the other process's report is found and no phantom row merges unrelated stories.

Real archive files, real connections (a second one stands in for the other process), the
real ArchivePipeline for the refused item."""

from __future__ import annotations

from dedupe.test_event_views import item, put
from dedupe.test_kept_index_follows_archive import DOCS, crawl, story
from scrapy.utils.test import get_crawler

from crawler import archive
from crawler.crawl_context import CrawlContext
from crawler.event_state import shared
from crawler.fetch_outcomes import CrawlTracker
from crawler.pipelines import ArchivePipeline
from crawler.stories import StoryAssigner, load_story_index


def other_process_stores_the_toll_report(other):
    with archive.write(other):  # `newswatch crawl` elsewhere: its own index
        return put(other, StoryAssigner(other, None), *DOCS["toll"][:1], "toll", *DOCS["toll"][1:])


def the_next_crawls_stories(db, index, state, rolled_back_id):
    """After the other process reused ``rolled_back_id``: the daemon's next crawls."""
    got = crawl(db, index, ["toll-reprint"])
    assert state.reloads == 1  # the reused id was not taken for the daemon's own article
    assert got["toll-reprint"] == story(db, "toll")  # the other process's report is known
    # the port strike's report, reprinted, in the daemon's next crawl: the rolled-back
    # strike is no row of the index, so it does not land in the earthquake's story
    with archive.write(db):
        _, strike = put(
            db, StoryAssigner(db, None, index=index), "wire", "strike-reprint", *DOCS["strike"][1:]
        )
    assert strike != story(db, "toll")


def test_a_rolled_back_transaction_leaves_no_trusted_article_id(tmp_path):
    db = archive.open_archive(tmp_path / "archive.db")
    other = archive.open_archive(tmp_path / "archive.db")
    try:
        index = load_story_index(db)
        state = shared(index)
        crawl(db, index, ["rates"])
        try:  # the daemon's next batch is rolled back (a failed COMMIT, a full disk...)
            with archive.write(db):
                assigner = StoryAssigner(db, None, index=index)
                gone, _ = put(db, assigner, *DOCS["strike"][:1], "strike", *DOCS["strike"][1:])
                raise OSError("disk I/O error")
        except OSError:
            pass
        reused, _ = other_process_stores_the_toll_report(other)
        assert reused == gone  # SQLite hands the rolled-back id out again
        the_next_crawls_stories(db, index, state, gone)
    finally:
        other.close()
        db.close()


def test_an_item_the_pipeline_refused_after_its_story_leaves_no_trusted_id(tmp_path):
    db = archive.open_archive(tmp_path / "archive.db")
    other = archive.open_archive(tmp_path / "archive.db")
    try:
        index = load_story_index(db)
        state = shared(index)
        crawl(db, index, ["rates"])
        # the archive refuses the strike report once its story is set (a real trigger)
        db.execute(
            "CREATE TRIGGER refuse AFTER UPDATE OF story_id ON articles"
            " WHEN NEW.url LIKE '%/strike' BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
        tracker = CrawlTracker(["port"], {})
        context = CrawlContext(db, tracker, StoryAssigner(db, None, index=index), None)
        pipeline = ArchivePipeline(context, get_crawler().stats)
        source, doc, at = DOCS["strike"]
        pipeline.buffers["port"].append(item(f"https://{source}.example/strike", *doc, at))
        pipeline.flush()  # the batch commits, without the refused item
        assert tracker.result("port").items_bad == 1
        assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
        db.execute("DROP TRIGGER refuse")
        reused, _ = other_process_stores_the_toll_report(other)
        assert reused == 2  # the id the refused item had held
        the_next_crawls_stories(db, index, state, reused)
    finally:
        other.close()
        db.close()
