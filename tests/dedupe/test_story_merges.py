"""Story merges (issue 15, crawler/story_merge.py): two stories that formed apart for one
event become one when a later report agrees with both and the two stories' first reports
agree on the figures; the merged story's row stays, pointing at the story it joined. Real
archive files and the real assigner; fixtures written for newswatch."""

from __future__ import annotations

import json

import pytest
from dedupe.test_event_drift import NIGHT, TOLL
from dedupe.test_event_views import QUAKE_SURVIVORS, RATES, STRIKE, put

from alerts import schema as alerts_schema
from alerts.story_links import rebuild_stories as rebuild_with_alerts
from crawler import archive
from crawler.event_state import shared
from crawler.stories import StoryAssigner, load_story_index
from crawler.story_ids import family, live_story
from crawler.story_merge import merge_rows
from crawler.story_rows import insert_story

# The newspaper's survivors piece (published first) and the paper's toll report share the
# event's figures (38 dead, 210 injured, 14 houses) but too few words to join; the regional
# report of the night in tents agrees with both.
SURVIVORS_TEXT = QUAKE_SURVIVORS[1]
# The survivors piece with the toll alone: its figures no longer agree with the toll report's
ONLY_THE_TOLL = (
    QUAKE_SURVIVORS[0],
    SURVIVORS_TEXT.replace("magnitude 6.4 ", "")
    .replace("at 3:12 ", "")
    .replace(" and injuring 210", "")
    .replace("of 14 houses", "of houses"),
)
FERRY = (
    "Ferry service to Kessin island resumes after storm repairs",
    "The ferry link between Brava harbour and Kessin island reopened on Friday after four "
    "weeks of repairs to the storm-damaged pier, the island council said. Two crossings a "
    "day will run until the summer timetable starts in June.",
)
DOCS = {
    "rates": ("bank-news", RATES, "2024-05-06T08:00:00Z"),
    "strike": ("port-news", STRIKE, "2024-05-06T09:00:00Z"),
    "survivors": ("daily", QUAKE_SURVIVORS, "2024-05-07T04:00:00Z"),
    "only-the-toll": ("daily", ONLY_THE_TOLL, "2024-05-07T04:00:00Z"),
    "toll": ("paper", TOLL, "2024-05-07T05:00:00Z"),
    "night": ("regional", NIGHT, "2024-05-07T06:00:00Z"),
    "ferry": ("island-news", FERRY, "2024-05-07T07:00:00Z"),
}


def crawl(db, names, index=None):
    """One crawl (one assigner, with a kept index if given); {name: story id at storing}."""
    with archive.write(db):
        assigner = StoryAssigner(db, None, index=index)
        got = {name: put(db, assigner, DOCS[name][0], name, *DOCS[name][1:])[1] for name in names}
    assigner.ended(committed=True)
    return got


def story(db, name):
    return db.execute("SELECT story_id FROM articles WHERE url LIKE ?", ["%/" + name]).fetchone()[0]


def row(db, story_id):
    r = db.execute(
        "SELECT article_id, title, article_count, sources, merged_into FROM stories WHERE id = ?",
        [story_id],
    ).fetchone()
    return {
        "article": r[0],
        "title": r[1],
        "count": r[2],
        "sources": json.loads(r[3]),
        "into": r[4],
    }


def article(db, name):
    return db.execute("SELECT id FROM articles WHERE url LIKE ?", ["%/" + name]).fetchone()[0]


@pytest.fixture
def archive_db(tmp_path):
    db = archive.open_archive(tmp_path / "archive.db")
    yield db
    db.close()


def test_a_report_agreeing_with_two_stories_of_one_event_merges_them(archive_db):
    db = archive_db
    got = crawl(db, ["rates", "strike", "survivors", "toll", "night"])
    merged, live = got["survivors"], got["toll"]
    assert merged != live  # two stories at first
    assert got["night"] == live
    # one story now: every article of the event in it, the merged story's row kept
    assert story(db, "survivors") == story(db, "toll") == story(db, "night") == live
    assert row(db, merged)["into"] == live and row(db, merged)["count"] == 0
    kept = row(db, live)
    assert kept["into"] is None and kept["count"] == 3
    # its original is the earliest published report: the survivors piece (04:00), not the
    # toll report whose story it joined
    assert kept["article"] == article(db, "survivors") and kept["title"] == QUAKE_SURVIVORS[0]
    assert kept["sources"] == ["daily", "paper", "regional"]
    assert live_story(db, merged) == live and family(db, merged) == [live, merged]
    # the other news stays apart
    assert len({story(db, n) for n in ("rates", "strike", "night")}) == 3


def test_no_merge_when_the_first_reports_do_not_agree_on_figures(archive_db):
    db = archive_db
    got = crawl(db, ["rates", "strike", "only-the-toll", "toll", "night"])
    # the night report agrees with both stories, but their first reports share one figure
    assert got["night"] == story(db, "toll") != story(db, "only-the-toll")
    assert row(db, story(db, "only-the-toll")) | {"sources": None} == {
        "article": article(db, "only-the-toll"),
        "title": ONLY_THE_TOLL[0],
        "count": 1,
        "sources": None,
        "into": None,
    }


def test_chains_of_merges_resolve_to_the_live_story(archive_db):
    db = archive_db
    with archive.write(db):
        ids = []
        for name in ("rates", "strike", "toll"):
            source, (title, text), at = DOCS[name]
            db.execute(
                "INSERT INTO articles (url, source, title, text, published_at, fetched_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [f"https://{source}.example/{name}", source, title, text, at, at],
            )
            aid = db.execute("SELECT max(id) FROM articles").fetchone()[0]
            sid = insert_story(db, None, aid, title, at, source)
            db.execute("UPDATE articles SET story_id = ? WHERE id = ?", [sid, aid])
            ids.append(sid)
        t, s, r = ids
        merge_rows(db, s, t)  # T into S...
        merge_rows(db, r, s)  # ...then S into R
    assert live_story(db, t) == live_story(db, s) == r
    assert row(db, t)["into"] == row(db, s)["into"] == r  # rows name the live story
    assert {story(db, n) for n in ("rates", "strike", "toll")} == {r}
    assert row(db, r)["count"] == 3 and row(db, r)["article"] == article(db, "rates")
    assert family(db, t) == [r, t, s]


def test_a_rebuild_after_live_merges_changes_nothing(archive_db):
    db = archive_db
    alerts_schema.ensure(db)
    got = crawl(db, ["rates", "strike", "survivors", "toll", "night"])
    merged, live = got["survivors"], got["toll"]
    with archive.write(db):  # an alert was sent for the story that merged away
        db.execute(
            "INSERT INTO alerts (watch, story_id, target, article_id, status, created_at,"
            " sent_at) VALUES ('w', ?, 't', ?, 'sent', '2024-05-07T07:00:00Z',"
            " '2024-05-07T07:00:05Z')",
            [merged, article(db, "survivors")],
        )
    before = db.execute("SELECT * FROM stories ORDER BY id").fetchall()
    stories = {n: story(db, n) for n in ("rates", "strike", "survivors", "toll", "night")}
    result = rebuild_with_alerts(db)
    assert {n: story(db, n) for n in stories} == stories  # stable ids
    assert row(db, merged)["into"] == live and row(db, live)["count"] == 3
    assert (result.stories_after, result.bridged, result.merged) == (3, 1, 1)
    after = db.execute("SELECT * FROM stories ORDER BY id").fetchall()
    # the same rows but for the times the replay wrote
    assert [r[:4] + r[5:] for r in after] == [r[:4] + r[5:] for r in before]
    assert db.execute("SELECT story_id FROM alerts").fetchall() == [(merged,)]  # untouched


def test_a_kept_index_keeps_serving_after_a_merge(archive_db):
    db = archive_db
    index = load_story_index(db)
    state = shared(index)
    crawl(db, ["rates", "strike"], index)
    events = state.index
    # one crawl stores both stories' first reports and the report that merges them: what it
    # put in the index moved story with the merge, as in the archive
    crawl(db, ["survivors", "toll", "night"], index)
    assert story(db, "survivors") == story(db, "night")
    crawl(db, ["ferry"], index)  # the next crawl: the kept state serves it, no reload
    assert state.index is events and state.reloads == 0


def test_a_rolled_back_merge_leaves_the_kept_index_as_the_archive(archive_db):
    db = archive_db
    index = load_story_index(db)
    state = shared(index)
    crawl(db, ["rates", "strike", "survivors", "toll"], index)
    merged, live = story(db, "survivors"), story(db, "toll")
    assigner = StoryAssigner(db, None, index=index)
    try:  # the crawl that merged rolls back (a failed COMMIT, a full disk...)
        with archive.write(db):
            put(db, assigner, *DOCS["night"][:1], "night", *DOCS["night"][1:])
            assert story(db, "survivors") == live  # merged in the transaction
            raise OSError("disk I/O error")
    except OSError:
        assigner.ended(committed=False)
    # the archive as before the crawl
    assert story(db, "survivors") == merged and row(db, merged)["into"] is None
    assert row(db, live)["count"] == 1
    # the next crawl loads the kept levels again: the report finds both stories as the
    # archive has them and merges them again (with the in-memory merge kept, the survivors
    # story would be gone from the index and stay apart in the archive)
    got = crawl(db, ["night"], index)
    assert state.reloads == 1
    assert story(db, "survivors") == story(db, "toll") == got["night"] == live
    assert row(db, merged)["into"] == live and row(db, live)["count"] == 3
