"""Story assignment against a real archive file: copies, reprints, updates, restarts, window."""

from __future__ import annotations

import json

from dedupe.labelled import documents

from crawler import archive
from crawler.config import DedupeSettings
from crawler.stories import StoryAssigner, plus_sources

BODY = "\n\n".join(
    [
        "Baku (Turan): The US State Department has kept Azerbaijan on Tier 2 in its annual "
        "Trafficking in Persons report, released in Washington on Monday.",
        "The report says the government does not fully meet the minimum standards for the "
        "elimination of trafficking but is making significant efforts to do so, and credits "
        "the authorities with identifying more victims than the year before.",
        "Investigations of forced labour cases remained rare, the department notes, and "
        "shelters run by non-governmental organisations received less state funding.",
        "The report recommends that Baku allow unannounced labour inspections, suspended "
        "since a moratorium was introduced in 2015 and later extended.",
    ]
)
OTHER = (
    "Kazakhstan has remained on Tier 2 of the Trafficking in Persons report for the seventh "
    "year in a row; the report notes more investigations and a new shelter in Almaty region "
    "but says victims among migrant workers from Uzbekistan are rarely identified."
)


def story_of(db, article_id):
    return db.execute("SELECT story_id FROM articles WHERE id = ?", [article_id]).fetchone()[0]


def story(db, story_id):
    row = db.execute(
        "SELECT article_id, title, article_count, sources, first_seen_at, updated_at"
        " FROM stories WHERE id = ?",
        [story_id],
    ).fetchone()
    keys = ("article_id", "title", "article_count", "sources", "first_seen_at", "updated_at")
    return dict(zip(keys, row, strict=True))


def test_exact_copy_at_another_url_is_its_own_article_in_the_same_story(db, insert):
    with archive.write(db):
        assigner = StoryAssigner(db)
        a = insert(db, "https://turan.az/1", "turan", "Azerbaijan on Tier 2", BODY)
        b = insert(db, "https://mirror.example/x", "mirror", "AZERBAIJAN ON TIER 2", BODY + " ")
        sa, sb = assigner.assign(a), assigner.assign(b)
    assert sa == sb
    fps = db.execute("SELECT fingerprint FROM articles ORDER BY id").fetchall()
    assert fps[0] == fps[1] and fps[0][0] is not None
    s = story(db, sa)
    assert s["article_id"] == a and s["title"] == "Azerbaijan on Tier 2"
    assert s["article_count"] == 2 and json.loads(s["sources"]) == ["turan", "mirror"]
    assert plus_sources(s["sources"]) == "+1 source"


def test_reprint_with_furniture_joins_and_a_different_report_does_not(db, insert):
    reprint = "Home | Politics\n\n" + BODY.split("\n\n", 1)[1] + "\n\nFollow us on Telegram."
    with archive.write(db):
        assigner = StoryAssigner(db)
        a = assigner.assign(insert(db, "https://turan.az/1", "turan", "Tier 2 kept", BODY))
        b = assigner.assign(insert(db, "https://trend.example/2", "trend", "New head", reprint))
        c = assigner.assign(insert(db, "https://kz.example/3", "kz", "Kazakhstan", OTHER))
    assert a == b != c
    assert db.execute("SELECT count(*) FROM stories").fetchone()[0] == 2
    assert story(db, a)["updated_at"] is not None and story(db, c)["article_count"] == 1


def test_labelled_set_clusters_into_its_stories(db, insert):
    """Every document of the labelled set, stored in order: the stories are exactly the
    labelled ones (reprints join their original, same-topic reports stay apart)."""
    docs = documents()
    got = {}
    with archive.write(db):
        assigner = StoryAssigner(db)
        for d in docs:
            aid = insert(
                db, f"https://{d['source']}.example/{d['id']}", d["source"], d["title"], d["text"]
            )
            got[d["id"]] = assigner.assign(aid)
    by_label: dict[str, set[int]] = {}
    for d in docs:
        by_label.setdefault(d["story"], set()).add(got[d["id"]])
    assert all(len(ids) == 1 for ids in by_label.values())
    assert len({next(iter(ids)) for ids in by_label.values()}) == len(by_label)
    az = story(db, got["az-turan"])
    assert az["article_count"] == 3 and plus_sources(az["sources"]) == "+2 sources"


def test_after_a_restart_a_reprint_still_joins_its_story(tmp_path, insert):
    path = tmp_path / "archive.db"
    db = archive.open_archive(path)
    with archive.write(db):
        first = StoryAssigner(db).assign(insert(db, "https://turan.az/1", "turan", "T", BODY))
    db.close()

    db = archive.open_archive(path)  # a new process: new connection, new assigner
    reprint = BODY.rsplit("\n\n", 1)[0] + "\n\nAll rights reserved."
    with archive.write(db):
        assigner = StoryAssigner(db)
        assert len(assigner.index) == 1  # loaded from the minhashes table
        again = assigner.assign(insert(db, "https://apa.example/9", "apa", "Other head", reprint))
    assert again == first


def test_missing_signatures_are_rebuilt_from_the_archive(db, insert):
    with archive.write(db):
        first = StoryAssigner(db).assign(insert(db, "https://turan.az/1", "turan", "T", BODY))
        db.execute("DELETE FROM minhashes")  # e.g. stored before the table existed
    with archive.write(db):
        assigner = StoryAssigner(db)
        assert len(assigner.index) == 1
        reprint = "Advertisement\n\n" + BODY
        assert assigner.assign(insert(db, "https://x.example/1", "x", "T2", reprint)) == first
    assert db.execute("SELECT count(*) FROM minhashes").fetchone()[0] == 2


def test_a_reprint_outside_the_window_starts_a_new_story(db, insert):
    settings = DedupeSettings(window="7d")
    with archive.write(db):
        old = insert(
            db, "https://turan.az/1", "turan", "T", BODY, fetched_at="2024-01-01T00:00:00Z"
        )
        StoryAssigner(db, settings).assign(old)
    reprint = BODY + "\n\nShare this article."
    with archive.write(db):
        assigner = StoryAssigner(db, settings)
        assert len(assigner.index) == 0
        new = assigner.assign(insert(db, "https://x.example/1", "x", "T", reprint))
    assert new != story_of(db, old)


def test_an_update_in_place_keeps_the_story_and_the_old_version(db, insert):
    with archive.write(db):
        assigner = StoryAssigner(db)
        aid = insert(db, "https://turan.az/1", "turan", "Tier 2 kept", BODY)
        sid = assigner.assign(aid)
        db.execute("UPDATE articles SET content_hash = 'h1', matched_at = 'x' WHERE id = ?", [aid])
        edited = BODY + "\n\nUpdated: the ministry has responded to the report."
        assert assigner.record_update(
            aid, title="Tier 2 kept (updated)", text=edited, content_hash="h2"
        )
        assert not assigner.record_update(
            aid, title="Tier 2 kept (updated)", text=edited, content_hash="h2"
        )
    row = db.execute(
        "SELECT text, content_hash, updated_at, matched_at, story_id, fingerprint FROM articles"
    ).fetchone()
    assert row[0] == edited and row[1] == "h2" and row[2] is not None and row[3] is None
    assert row[4] == sid and row[5] is not None
    versions = db.execute("SELECT article_id, content_hash, text FROM article_versions").fetchall()
    assert versions == [(aid, "h1", BODY)]
    assert db.execute("SELECT count(*) FROM stories").fetchone()[0] == 1
    assert story(db, sid)["title"] == "Tier 2 kept (updated)"
    # an exact copy of the new text, seen by a later process, joins the same story
    with archive.write(db):
        copy = insert(db, "https://copy.example/1", "copy", "Tier 2 kept (updated)", edited)
        assert StoryAssigner(db).assign(copy) == sid
