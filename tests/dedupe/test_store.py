"""Dedupe through the collection path: crawler.store.store_items with real item dicts."""

from __future__ import annotations

from crawler import archive
from crawler.config import DedupeSettings
from crawler.store import store_items
from crawler.stories import StoryAssigner

BODY = "\n\n".join(
    [
        "WASHINGTON: The State Department on Monday kept Azerbaijan on Tier 2 of its annual "
        "Trafficking in Persons report, saying Baku made significant efforts but does not "
        "yet meet the minimum standards for eliminating trafficking.",
        "The report credits the government with identifying more victims and adopting a new "
        "national action plan, but says forced labour investigations remained rare.",
        "It urges the authorities to lift a moratorium on unannounced labour inspections that "
        "has been in place since 2015 and to fund shelters run by civil society.",
        "The Ministry of Internal Affairs said it would study the recommendations.",
    ]
)
SAME_EVENT = (
    "Azerbaijan has again been listed on Tier 2 in the 2024 Trafficking in Persons report, "
    "APA reports. According to the document, the government showed increasing efforts "
    "compared with the previous period, convicting more traffickers and funding the state "
    "shelter in Baku, while the State Department lists few forced labour cases and the "
    "penalisation of victims among the shortcomings, and recommends training judges."
)


def item(url, *, guid=None, title="Azerbaijan stays on Tier 2", text=BODY):
    return {
        "url": url,
        "guid": guid,
        "title": title,
        "text": text,
        "summary": None,
        "author": None,
        "language": "en",
        "categories": ["politics"],
        "published_at": "2024-06-24T12:00:00Z",
        "updated_at": None,
    }


def store(db, source, items, assigner=None):
    with archive.write(db):
        return store_items(db, source, items, assigner or StoryAssigner(db))


def count(db, table):
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_an_identical_feed_fetched_twice_adds_no_rows(db):
    feed = [
        item("https://turan.az/en/1", guid="t-1"),
        item("https://turan.az/en/2", guid="t-2", title="Other", text=SAME_EVENT),
    ]
    first = store(db, "turan", feed)
    second = store(db, "turan", feed)
    assert (first.new, second.new, second.seen, second.updated) == (2, 0, 2, 0)
    assert (count(db, "articles"), count(db, "stories"), count(db, "article_versions")) == (2, 2, 0)


def test_utm_parameters_and_a_trailing_slash_are_one_row(db):
    store(db, "turan", [item("https://turan.az/en/1")])
    r = store(db, "turan", [item("https://turan.az/en/1/?utm_source=rss&utm_medium=feed")])
    assert (r.new, r.seen) == (0, 1)
    assert db.execute("SELECT url FROM articles").fetchall() == [("https://turan.az/en/1",)]


def test_the_same_guid_with_a_changed_link_is_one_row(db):
    store(db, "turan", [item("https://turan.az/en/1", guid="urn:turan:1")])
    r = store(db, "turan", [item("https://turan.az/en/politics/1?ref=home", guid="urn:turan:1")])
    assert (r.new, r.seen) == (0, 1)
    assert count(db, "articles") == 1 and count(db, "stories") == 1


def test_a_reprint_on_another_site_is_one_story_with_two_articles(db):
    store(db, "turan", [item("https://turan.az/en/1")])
    reprint = "Home | World | Politics\n\n" + BODY.rsplit("\n\n", 1)[0]
    reprint += "\n\nFollow us on Telegram. All rights reserved."
    store(
        db,
        "trend",
        [item("https://trend.example/a/9", title="US keeps Baku at Tier 2", text=reprint)],
    )
    rows = db.execute("SELECT source, story_id FROM articles ORDER BY id").fetchall()
    assert [s for s, _ in rows] == ["turan", "trend"] and rows[0][1] == rows[1][1]
    n, sources = db.execute("SELECT article_count, sources FROM stories").fetchone()
    assert (count(db, "stories"), n, sources) == (1, 2, '["turan", "trend"]')


def test_two_different_articles_about_the_same_event_are_one_story_of_two_outlets(db):
    store(db, "turan", [item("https://turan.az/en/1")])
    store(
        db, "apa", [item("https://apa.example/1", title="TIP report: Azerbaijan", text=SAME_EVENT)]
    )
    assert count(db, "articles") == 2 and count(db, "stories") == 1


def test_without_the_event_level_they_are_two_stories(db):
    reprints_only = StoryAssigner(db, DedupeSettings(event_threshold=0))
    store(db, "turan", [item("https://turan.az/en/1")], reprints_only)
    other = item("https://apa.example/1", title="TIP report: Azerbaijan", text=SAME_EVENT)
    store(db, "apa", [other], reprints_only)
    assert count(db, "articles") == 2 and count(db, "stories") == 2


def test_an_article_updated_in_place_is_one_article_with_two_versions(db):
    store(db, "turan", [item("https://turan.az/en/1", guid="t-1")])
    corrected = BODY + "\n\nCorrection: an earlier version misstated the year of the moratorium."
    r = store(db, "turan", [item("https://turan.az/en/1", guid="t-1", text=corrected)])
    assert (r.new, r.updated) == (0, 1)
    assert (count(db, "articles"), count(db, "stories")) == (1, 1)
    versions = db.execute("SELECT text FROM article_versions").fetchall()
    text, updated_at, matched_at = db.execute(
        "SELECT text, updated_at, matched_at FROM articles"
    ).fetchone()
    assert versions == [(BODY,)] and text == corrected
    assert updated_at is not None and matched_at is None  # re-matched on a material change


def test_after_a_restart_a_reprint_still_joins_its_story(tmp_path):
    path = tmp_path / "restart.db"
    db = archive.open_archive(path)
    store(db, "turan", [item("https://turan.az/en/1")])
    db.close()
    db = archive.open_archive(path)  # new connection, new assigner: what a new process has
    reprint = BODY.split("\n\n", 1)[1] + "\n\nShare this: Facebook Twitter"
    store(db, "aggregator", [item("https://agg.example/x", title="Tier 2 again", text=reprint)])
    story_ids = {r[0] for r in db.execute("SELECT story_id FROM articles")}
    assert len(story_ids) == 1 and count(db, "articles") == 2
    db.close()


def test_full_text_search_follows_an_update_and_ignores_story_bookkeeping(db):
    """Migration m006: the FTS trigger fires when title or text change, not when story or
    fingerprint columns are written (which used to re-index the article each time)."""
    store(db, "turan", [item("https://turan.az/en/1", guid="t-1")])
    store(db, "trend", [item("https://trend.example/1", title="Copy")])  # joins the story
    assert len(archive.search(db, "moratorium")) == 2
    corrected = BODY.replace("moratorium", "suspension")
    store(db, "turan", [item("https://turan.az/en/1", guid="t-1", text=corrected)])
    assert [r["source"] for r in archive.search(db, "suspension")] == ["turan"]
    assert [r["source"] for r in archive.search(db, "moratorium")] == ["trend"]
    db.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")
    triggers = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
    assert "AFTER UPDATE OF title, text ON articles" in triggers["articles_au"]
