"""Story assignment against a real archive file: copies, reprints, updates, restarts, window,
site furniture."""

from __future__ import annotations

import json

from dedupe.labelled import documents

from crawler import archive
from crawler.config import DedupeSettings
from crawler.fingerprints import paragraphs
from crawler.minhash import Signer, similarity
from crawler.neardup import FURNITURE_SOURCE_ARTICLES
from crawler.signatures import to_blob
from crawler.stories import StoryAssigner, plus_outlets

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
    assert plus_outlets(s["sources"]) == "+1 outlet"


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
    labelled ones (reprints join their original, same-topic reports stay apart) when the
    event level is off (it joins other outlets' reports: tests/dedupe/test_events.py)."""
    docs = documents()
    got = {}
    with archive.write(db):
        assigner = StoryAssigner(db, DedupeSettings(event_threshold=0))
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
    assert az["article_count"] == 3 and plus_outlets(az["sources"]) == "+2 outlets"


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


def test_signatures_under_other_parameters_are_signed_again_with_their_paragraphs(db, insert):
    with archive.write(db):
        first = StoryAssigner(db).assign(insert(db, "https://turan.az/1", "turan", "T", BODY))
        # as an archive written before the furniture rules left it
        db.execute("UPDATE minhashes SET params = 'affine32-s1-p128-k3', paragraphs = NULL")
    with archive.write(db):
        assigner = StoryAssigner(db)
        assert len(assigner.index) == 1
        reprint = BODY.rsplit("\n\n", 1)[0] + "\n\nAdvertisement"
        assert assigner.assign(insert(db, "https://x.example/1", "x", "T2", reprint)) == first
    rows = db.execute("SELECT params, length(paragraphs) FROM minhashes ORDER BY article_id")
    assert [(p, n) for p, n in rows] == [(Signer().params, 8 * 4), (Signer().params, 8 * 4)]


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


# One site's furniture around short items: as many words as the items themselves.
FURNITURE = [
    "Home | News | Society | Politics | Economy | World",
    "Subscribe to our daily newsletter and get the most important news from the South "
    "Caucasus and Central Asia in your inbox every morning.",
    "All rights reserved. Any use of the materials is allowed only with a hyperlink to the "
    "source and the written permission of the editorial office.",
]
BRIEFS = [
    "Police in Ganja detained two men suspected of recruiting young women for hotel jobs "
    "abroad; investigators say the women were taken to Dubai and forced into prostitution.",
    "The State Migration Service found fourteen foreign nationals working without contracts "
    "on a construction site near Sumgait and passed the case to the labour inspectorate.",
    "A court in Lankaran sentenced a woman to nine years in prison for selling her newborn "
    "child to a couple from Baku for five thousand manats, the prosecutor's office said.",
    "Azerbaijan and the International Organization for Migration agreed to open a second "
    "shelter for victims of trafficking, offering legal aid, medical care and job training.",
    "Border guards at the Astara crossing stopped a minibus carrying eleven Pakistani "
    "nationals with forged work permits; the driver was charged with migrant smuggling.",
    "A parliamentary committee approved amendments that raise penalties for forced labour "
    "and allow labour inspectors to visit workplaces without giving notice in advance.",
]


def dressed(text):
    return "\n\n".join([FURNITURE[0], text, FURNITURE[1], FURNITURE[2]])


def test_site_furniture_is_learnt_and_then_keeps_different_stories_apart(db, insert):
    """Different short items in the same long furniture look like one story (the premise is
    checked); once the site has published the furniture in FURNITURE_SOURCE_ARTICLES
    articles it is left out, so the items after that are stories of their own, and a reprint
    elsewhere still joins its story."""
    signer = Signer()
    assert similarity(signer.sign(dressed(BRIEFS[0])), signer.sign(dressed(BRIEFS[1]))) >= 0.3
    learnt = FURNITURE_SOURCE_ARTICLES
    with archive.write(db):
        assigner = StoryAssigner(db)
        ids = [
            assigner.assign(insert(db, f"https://site.example/{n}", "site", f"B{n}", dressed(b)))
            for n, b in enumerate(BRIEFS)
        ]
        reprint = "Photo: open sources\n\n" + BRIEFS[5] + "\n\nShare: Facebook, Telegram"
        again = assigner.assign(insert(db, "https://other.example/1", "other", "R", reprint))
    assert len(set(ids[:learnt])) == 1  # what it learnt from
    assert len(set(ids[learnt:])) == len(BRIEFS) - learnt and ids[0] not in ids[learnt:]
    assert again == ids[5]


def test_furniture_learnt_from_three_stories_is_remembered_after_a_restart(tmp_path, insert):
    """A syndication footer on items of three different stories (on three sites) is
    furniture from then on, in this process and in the next one (loaded from minhashes): a
    later item is signed without it."""
    footer = "Distributed by the regional news exchange; republication needs written permission."
    path = tmp_path / "archive.db"
    db = archive.open_archive(path)
    with archive.write(db):
        assigner = StoryAssigner(db)
        firsts = [
            assigner.assign(insert(db, f"https://s{n}.example/", f"s{n}", "T", f"{b}\n{footer}"))
            for n, b in enumerate(BRIEFS[:3])
        ]
    assert len(set(firsts)) == 3
    db.close()
    db = archive.open_archive(path)
    with archive.write(db):
        assigner = StoryAssigner(db)
        assert assigner.index.boilerplate(paragraphs(footer).hashes).tolist() == [True]
        later = insert(db, "https://s9.example/", "s9", "T", f"{BRIEFS[3]}\n{footer}")
        assert assigner.assign(later) not in firsts
    sig = db.execute("SELECT sig FROM minhashes WHERE article_id = ?", [later]).fetchone()[0]
    assert sig == to_blob(Signer().sign(BRIEFS[3]))
    db.close()
