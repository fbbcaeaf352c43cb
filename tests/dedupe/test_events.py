"""The event level of stories (issue 15): other outlets' own articles on one event join its
story; another event of the same kind does not; the original is the earliest published
article; a rebuild keeps story ids and leaves alerts alone. Fixtures written for newswatch."""

from __future__ import annotations

import json
from datetime import timedelta

from alerts import schema as alerts_schema
from alerts.config import Target, Watch
from alerts.match_stage import match_pending
from alerts.matcher import Matcher
from alerts.outbox import enqueue
from alerts.story_links import rebuild_stories as rebuild_with_alerts
from crawler import archive, times
from crawler.config import DedupeSettings
from crawler.store import store_items
from crawler.stories import StoryAssigner, plus_outlets, rebuild_stories

# Two outlets' own reports of one flood, and a flood somewhere else a week later.
FLOOD_A = (
    "Vellmar river floods Ostrava district, 1,240 residents evacuated",
    "Emergency crews evacuated 1,240 residents of the Ostrava district on Tuesday after the "
    "Vellmar river burst its banks following three days of rain. Regional governor Petra "
    "Zemanova said the water reached 4.7 metres at the Lidice bridge, the highest level since "
    "1997, and that two schools were turned into shelters. Army engineers were sandbagging the "
    "old town overnight.",
)
FLOOD_B = (
    "Governor Zemanova: Vellmar at 4.7 metres, Ostrava evacuations continue",
    "The Vellmar reached 4.7 metres at the Lidice bridge, its highest since 1997, governor "
    "Petra Zemanova told reporters, as the evacuation of 1,240 people from the Ostrava "
    "district went on into the night. Schools serve as shelters while army engineers lay "
    "sandbags along the river in the old town.",
)
OTHER_FLOOD = (
    "Drava floods Kellin valley, 300 homes under water",
    "The Drava broke through a dyke near Kellin on Saturday, flooding some 300 homes in the "
    "valley, mayor Andrej Kovac said. Firefighters rescued 46 people by boat from the village "
    "of Sarnow, and the motorway to Tamsburg was closed. Forecasters expect the river to peak "
    "at 6.1 metres on Sunday evening.",
)
UNRELATED = (
    "Central bank holds rates at 3.5 percent",
    "The central bank kept its main rate at 3.5 percent on Thursday, citing slowing inflation "
    "and weak exports, and signalled that a cut could come in the spring.",
)


# A headline a site reuses every day, over different news; and two different stories that
# quote one long statement (a press release both cite).
MARKETS_1 = (
    "Markets today: what moved stocks, bonds and currencies in Oslo and Frankfurt",
    "Brent crude rose 4 percent to 91 dollars a barrel after the Halvorsen refinery in "
    "Stavanger shut two units for repairs, traders said, while the krone firmed against the "
    "euro on expectations of higher export revenue.",
)
MARKETS_2 = (
    "Markets today: what moved stocks, bonds and currencies in Oslo and Frankfurt",
    "Shares of the chip designer Quorvan Systems jumped 38 percent on their first day of "
    "trading, valuing the company at 2.3 billion euros, the largest listing of the year.",
)
# A long statement both cite at the top; what follows differs, so they are no reprints.
STATEMENT = (
    '"Trelleborg Maritime will cooperate fully with the Baltic Sea Commission inspectors, '
    "has suspended the Oskarshamn terminal contract pending the audit, and will publish the "
    "findings of the independent review of its ballast water records from the Karlskrona "
    "and Visby crossings, including the sampling logs that the Swedish coast guard seized "
    'from the vessel Nordhavn in August," the company said in a statement on Monday.'
)
QUOTE_1 = (
    "Dock workers strike at Gdynia container port",
    STATEMENT + "\n\nSeparately, some 600 dock workers walked out at the Gdynia container "
    "port over night-shift pay, halting three cranes and leaving eleven feeder vessels at "
    "anchor. The port branch of the union said talks with the terminal operator would resume "
    "on Thursday; the operator called the walkout illegal and said it would seek damages in "
    "the district court. Shippers diverted two calls to Gdansk, where berths were free, and "
    "warned that refrigerated cargo could not wait more than a few days. The city's mayor "
    "offered to mediate and asked both sides to keep the ferry terminal running for "
    "passengers. A similar dispute last spring ended after nine days with a pay rise of six "
    "percent and a new rota for weekend shifts.",
)
QUOTE_2 = (
    "Ferry operator posts record summer profit",
    STATEMENT + "\n\nNordline Ferries, meanwhile, reported a record third-quarter profit of "
    "48 million euros, as passenger numbers on its Kiel routes rose by a fifth and fuel costs "
    "fell. Chief executive Malin Ekdahl said two new hybrid vessels ordered from a Finnish "
    "yard would enter service next year, and that the dividend would rise by half. Analysts "
    "had expected a smaller gain after a wet July kept holiday traffic down. The company also "
    "plans to reopen its night route to Klaipeda and to add a freight-only departure on "
    "Sundays, pending approval by the Lithuanian port authority and its own board.",
)


def item(url, title, text, published_at):
    return {
        "url": url,
        "guid": None,
        "title": title,
        "text": text,
        "summary": None,
        "author": None,
        "language": "en",
        "categories": [],
        "published_at": published_at,
        "updated_at": None,
    }


def put(db, assigner, source, slug, doc, published_at):
    store_items(
        db, source, [item(f"https://{source}.example/{slug}", *doc, published_at)], assigner
    )
    return db.execute(
        "SELECT id, story_id FROM articles WHERE url = ?", [f"https://{source}.example/{slug}"]
    ).fetchone()


def fill(db, settings=None):
    """Store the fixtures in crawl order; returns {name: (article id, story id)}."""
    got = {}
    with archive.write(db):
        assigner = StoryAssigner(db, settings)
        got["unrelated"] = put(
            db, assigner, "bank-news", "rates", UNRELATED, "2024-05-02T08:00:00Z"
        )
        got["a"] = put(db, assigner, "daily", "flood", FLOOD_A, "2024-05-07T09:00:00Z")
        got["b"] = put(db, assigner, "wire", "vellmar", FLOOD_B, "2024-05-07T11:30:00Z")
        got["other"] = put(db, assigner, "valley", "drava", OTHER_FLOOD, "2024-05-08T07:00:00Z")
    return got


def test_two_independently_written_articles_on_one_event_join_one_story(db):
    got = fill(db)
    assert got["a"][1] == got["b"][1]
    sources = db.execute("SELECT sources FROM stories WHERE id = ?", [got["a"][1]]).fetchone()[0]
    assert sources == '["daily", "wire"]'


def test_one_outlets_own_articles_that_read_alike_are_not_joined_as_one_event(db):
    # The same two reports from one outlet (a court feed's "case 1", "case 2"): separate items.
    # Another outlet's report still joins the story of either.
    with archive.write(db):
        assigner = StoryAssigner(db)
        first = put(db, assigner, "daily", "flood", FLOOD_A, "2024-05-07T09:00:00Z")
        second = put(db, assigner, "daily", "vellmar", FLOOD_B, "2024-05-07T11:30:00Z")
        third = put(db, assigner, "wire", "vellmar", FLOOD_B, "2024-05-07T12:00:00Z")
    assert first[1] != second[1]
    assert third[1] in {first[1], second[1]}


def test_the_same_kind_of_event_elsewhere_stays_a_story_of_its_own(db):
    got = fill(db)
    assert len({got["a"][1], got["other"][1], got["unrelated"][1]}) == 3


def test_a_reused_headline_over_other_news_is_not_one_event(db):
    with archive.write(db):
        assigner = StoryAssigner(db)
        one = put(db, assigner, "daily", "m1", MARKETS_1, "2024-05-07T09:00:00Z")
        two = put(db, assigner, "daily", "m2", MARKETS_2, "2024-05-08T09:00:00Z")
    assert one[1] != two[1]


def test_one_shared_statement_under_other_headlines_is_not_one_event(db):
    with archive.write(db):
        assigner = StoryAssigner(db)
        one = put(db, assigner, "port-news", "strike", QUOTE_1, "2024-05-07T09:00:00Z")
        two = put(db, assigner, "ferry-news", "profit", QUOTE_2, "2024-05-07T10:00:00Z")
    assert one[1] != two[1]


def test_without_the_event_level_the_two_reports_stay_apart(db):
    got = fill(db, DedupeSettings(event_threshold=0))
    assert got["a"][1] != got["b"][1]


def test_the_original_is_the_earliest_published_article_not_the_first_crawled(db):
    with archive.write(db):
        assigner = StoryAssigner(db)
        # the wire's report is crawled first but was published later
        late = put(db, assigner, "wire", "vellmar", FLOOD_B, "2024-05-07T14:20:00Z")
        early = put(db, assigner, "daily", "flood", FLOOD_A, "2024-05-07T10:05:00Z")
    assert late[1] == early[1]
    article_id, title, sources = db.execute(
        "SELECT article_id, title, sources FROM stories WHERE id = ?", [late[1]]
    ).fetchone()
    assert (article_id, title) == (early[0], FLOOD_A[0])
    assert sources == '["daily", "wire"]'  # the original's source first


def test_after_a_restart_another_outlets_report_still_joins_the_story(tmp_path):
    path = tmp_path / "restart.db"
    db = archive.open_archive(path)
    with archive.write(db):
        first = put(db, StoryAssigner(db), "daily", "flood", FLOOD_A, "2024-05-07T09:00:00Z")
    db.close()
    db = archive.open_archive(path)  # a new process: the event index is loaded from the archive
    with archive.write(db):
        second = put(db, StoryAssigner(db), "wire", "vellmar", FLOOD_B, "2024-05-07T11:30:00Z")
    db.close()
    assert first[1] == second[1]


def test_a_publication_time_in_the_future_does_not_empty_the_window(db):
    """A site that dates an item 2099 must not push today's articles out of the window."""
    hours_ago = [times.iso(times.now() - timedelta(hours=h)) for h in (3, 2)]
    with archive.write(db):
        assigner = StoryAssigner(db)
        a = put(db, assigner, "daily", "flood", FLOOD_A, hours_ago[0])
        put(db, assigner, "bank-news", "rates", UNRELATED, "2099-01-01T00:00:00Z")
        b = put(db, assigner, "wire", "vellmar", FLOOD_B, hours_ago[1])
    assert a[1] == b[1]


def test_one_alert_per_event_story_per_watch(db):
    """Both outlets' reports match the watch; the outbox holds one row for the story, and the
    second report shows as "+1 outlet", not as a second alert."""
    fill(db)
    watch = Watch(name="floods", query="flood OR evacuated OR evacuation", targets=["mail"])
    target = Target(name="mail", url="json://127.0.0.1:9/")
    stats = match_pending(db, Matcher.compile([watch]))
    assert stats.matches >= 2  # the two reports of the Vellmar flood at least
    enqueue(db, [watch], [target])
    alerted = db.execute(
        "SELECT count(*) FROM alerts WHERE story_id IN (SELECT story_id FROM articles"
        " WHERE url LIKE '%/vellmar' OR url LIKE '%daily.example/flood')"
    ).fetchone()[0]
    story = db.execute("SELECT story_id FROM articles WHERE url LIKE '%/vellmar'").fetchone()[0]
    sources = db.execute("SELECT sources FROM stories WHERE id = ?", [story]).fetchone()[0]
    assert alerted == 1 and plus_outlets(sources) == "+1 outlet"


def test_rebuild_keeps_story_ids_and_never_touches_alerts(db):
    got = fill(db)
    alerts_schema.ensure(db)
    with archive.write(db):
        db.execute(
            "INSERT INTO alerts (watch, story_id, target, article_id, status, created_at, sent_at)"
            " VALUES ('floods', ?, 'mail', ?, 'sent', '2024-05-07T09:01:00Z',"
            " '2024-05-07T09:01:05Z')",
            [got["a"][1], got["a"][0]],
        )
    before = dict(db.execute("SELECT id, story_id FROM articles").fetchall())
    alerts_before = db.execute("SELECT * FROM alerts").fetchall()
    result = rebuild_with_alerts(db, DedupeSettings())
    assert dict(db.execute("SELECT id, story_id FROM articles").fetchall()) == before
    assert db.execute("SELECT * FROM alerts").fetchall() == alerts_before
    assert result.kept == result.stories_after == 3
    # the crawler's own rebuild (no alerts package) keeps them too
    rebuild_stories(db, DedupeSettings())
    assert dict(db.execute("SELECT id, story_id FROM articles").fetchall()) == before
    assert db.execute("SELECT * FROM alerts").fetchall() == alerts_before


def test_rebuild_with_the_event_level_off_splits_and_alerts_still_resolve(db):
    got = fill(db)
    alerts_schema.ensure(db)
    story = got["a"][1]
    with archive.write(db):
        db.execute(
            "INSERT INTO alerts (watch, story_id, target, article_id, status, created_at)"
            " VALUES ('floods', ?, 'mail', ?, 'pending', '2024-05-07T09:01:00Z')",
            [story, got["b"][0]],
        )
    alerts_before = db.execute("SELECT * FROM alerts").fetchall()
    rebuild_with_alerts(db, DedupeSettings(event_threshold=0))
    after = dict(db.execute("SELECT id, story_id FROM articles").fetchall())
    assert after[got["a"][0]] == story and after[got["b"][0]] != story
    assert db.execute("SELECT * FROM alerts").fetchall() == alerts_before


def test_search_shows_the_other_outlets_of_a_story(cli, write_config):
    path = write_config('[archive]\npath = "{archive}"\n')
    db = archive.open_archive(path.parent / "archive.db")
    fill(db)
    db.close()
    result = cli("search", "Vellmar", "--config", str(path))
    assert result.exit_code == 0, result.output
    assert "+1 outlet" in result.output
    result = cli("search", "Vellmar", "--json", "--config", str(path))
    assert {json.loads(line)["other_outlets"] for line in result.output.splitlines()} == {1}
