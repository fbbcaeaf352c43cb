"""`newswatch serve`'s Datasette app, in process: metadata, canned queries, search, the story
page and its links, read-only serving of an archive that keeps changing."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest
from support.serve_archive import ARTICLES, SEARCH_WORD, SOURCES, build, url

from alerts import schema, serve
from crawler import archive
from crawler.config import CrawlSettings, Source


def get(ds, path: str):
    async def go():
        return await ds.client.get(path)

    return asyncio.run(go())


def rows(ds, path: str) -> list[dict]:
    """A table or query page as JSON objects."""
    page, _, query = path.partition("?")
    r = get(ds, f"{page}.json?{query}&_shape=objects")
    assert r.status_code == 200, r.text
    return r.json()["rows"]


@pytest.fixture(scope="module")
def ds(fixture_archive):
    path, _ = fixture_archive
    sources = [
        Source(name=n, kind="feed", url=f"https://{n}.example.org/feed.xml", interval="1h")
        for n in SOURCES[:2]
    ]
    return serve.build(path, sources=sources, crawl=CrawlSettings(schedule_jitter=0))


def test_every_table_and_column_of_the_archive_is_described(tmp_path):
    db = schema.open_archive(tmp_path / "fresh.db")
    meta = serve.load_metadata()["databases"]["archive"]["tables"]
    internal = ("_sqlite_migrations", "articles_fts")
    missing = []
    for table in db.table_names():
        if table.startswith(internal):
            continue
        described = meta.get(table, {})
        if not described.get("description") and not described.get("hidden"):
            missing.append(table)
        for column in db[table].columns_dict:
            if column not in described.get("columns", {}):
                missing.append(f"{table}.{column}")
    assert not missing, f"not described in alerts/data/serve/metadata.toml: {missing}"


def test_the_home_page_has_title_licence_and_source(ds):
    page = get(ds, "/").text
    assert "newswatch archive" in page
    assert "Article text belongs to its publishers" in page
    assert "/-/dashboards/archive" in page


def test_full_text_search_finds_the_article(ds):
    found = rows(ds, f"/archive/articles?_search={SEARCH_WORD}")
    assert [r["title"] for r in found] == [ARTICLES[5][2]]
    several = rows(ds, "/archive/articles?_search=Tier+2")
    assert len(several) >= 4


def test_story_query_lists_every_outlet(ds, fixture_archive):
    _, stories = fixture_archive
    outlets = rows(ds, f"/archive/story?story_id={stories[0]}")
    assert [o["outlet"] for o in outlets] == ["alpha-news", "beta-wire", "gamma-feed"]
    assert [o["url"] for o in outlets] == [url(0), url(1), url(2)]
    assert [o["role"] for o in outlets] == ["original", "", ""]


def test_story_page_links_to_its_outlets(ds, fixture_archive):
    _, stories = fixture_archive
    page = get(ds, f"/archive/stories/{stories[0]}").text
    assert "Outlets (3)" in page
    for i in (0, 1, 2):
        assert f'href="{url(i)}"' in page
        assert f'href="/archive/articles/{i + 1}"' in page
    assert f"/archive/story?story_id={stories[0]}" in page
    assert "AZ: <b>Tier 2</b> (2024), reported by beta-wire" in page
    # a story of one article has its one outlet
    single = get(ds, f"/archive/stories/{stories[3]}").text
    assert "Outlets (1)" in single


def test_tier_history_says_where_each_placement_was_reported(ds):
    history = rows(ds, "/archive/tier_history?country=az")
    assert [(r["year"], r["tier"], r["source"]) for r in history] == [
        (2024, "Tier 2", "alpha-news"),
        (2024, "Tier 2", "beta-wire"),
        (2024, "Tier 2", "gamma-feed"),
        (2023, "Tier 2", "beta-wire"),
        (2022, "Tier 2 Watch List", "gamma-feed"),
    ]


def test_latest_matches_per_watch_and_country(ds):
    ru = rows(ds, "/archive/latest_matches?watch=&country=ru")
    assert [r["title"] for r in ru] == [ARTICLES[3][2], ARTICLES[7][2]]
    az_watch = rows(ds, "/archive/latest_matches?watch=azerbaijan&country=")
    assert len(az_watch) == 5 and az_watch[0]["title"] == ARTICLES[4][2]
    summary = rows(ds, "/archive/matches_by_watch_and_country")
    by = {(r["watch"], r["country"]): r for r in summary}
    assert by[("trafficking", "AZ")]["matches"] == 5
    assert by[("trafficking", "AZ")]["latest"] == ARTICLES[5][4]
    assert by[("trafficking", "AZ")]["latest_title"] == ARTICLES[5][2]


def test_failed_and_pending_alerts(ds):
    undelivered = rows(ds, "/archive/undelivered_alerts")
    assert [(r["status"], r["title"]) for r in undelivered] == [
        ("failed", ARTICLES[3][2]),
        ("pending", ARTICLES[4][2]),
    ]
    assert undelivered[0]["last_error"] == "SMTP 550 mailbox unavailable"


def test_source_health_has_last_result_error_class_and_next_try(ds):
    health = {r["name"]: r for r in rows(ds, "/archive/source_health")}
    assert health["gamma-feed"]["last_error_class"] == "dns"
    assert health["gamma-feed"]["consecutive_failures"] == 3
    # next try: the daemon's rule (finish + interval + jitter, jitter 0 here)
    assert health["alpha-news"]["next_try"] == "2024-07-03T11:00:05Z"
    assert health["beta-wire"]["next_try"] == "2024-07-03T11:00:05Z"
    assert health["gamma-feed"]["next_try"] is None  # not in this config


def test_story_and_article_ids_link_to_their_pages(ds, fixture_archive):
    _, stories = fixture_archive
    page = get(ds, "/archive/undelivered_alerts").text
    assert f'<a href="/archive/stories/{stories[3]}">{stories[3]}</a>' in page
    page = get(ds, "/archive/matches").text
    assert f'<a href="/archive/stories/{stories[0]}">{stories[0]}</a>' in page


def test_serves_what_the_daemon_writes_meanwhile(tmp_path):
    path = tmp_path / "live.db"
    build(path)
    app = serve.build(path)
    assert rows(app, f"/archive/articles?_search={SEARCH_WORD}") != []
    db = archive.open_archive(path)
    with archive.write(db):
        db["articles"].insert(
            {
                "url": "https://late.example.org/a",
                "source": "alpha-news",
                "title": "A late quokkaberry report",
                "text": "quokkaberry",
                "fetched_at": "2024-07-10T00:00:00Z",
            }
        )
    assert [r["title"] for r in rows(app, "/archive/articles?_search=quokkaberry")] == [
        "A late quokkaberry report"
    ]
    db.close()


def test_serving_writes_nothing(tmp_path):
    path = tmp_path / "ro.db"
    build(path)
    before = path.read_bytes()
    app = serve.build(path)
    r = get(app, "/archive.json?sql=" + "delete+from+articles")
    assert r.status_code == 400
    for page in ("/", "/archive", "/archive/stories/1", "/-/dashboards/archive"):
        assert get(app, page).status_code == 200
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    assert path.read_bytes() == before


def test_a_directory_with_one_archive_is_served(tmp_path):
    build(tmp_path / "demo.db")
    assert serve.check_archive(tmp_path) == (tmp_path / "demo.db").resolve()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: None, "no archive at"),
        (lambda p: p.write_text("not sqlite"), "not an SQLite archive"),
        (
            lambda p: sqlite3.connect(p).execute("create table x (a)").connection.commit(),
            "not a newswatch archive",
        ),
    ],
)
def test_what_cannot_be_served_is_one_clear_error(tmp_path, make, message):
    path = tmp_path / "bad.db"
    make(path)
    with pytest.raises(serve.ServeError, match=message):
        serve.check_archive(path)
    assert not (tmp_path / "bad.db-wal").exists()


def test_dashboard_charts_are_all_served_locally(ds):
    page = get(ds, "/-/dashboards/archive").text
    for script in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "dashboards.js"):
        assert f"/-/static-plugins/datasette_dashboards/{script}" in page
    config = json.loads(json.dumps(serve.load_metadata()["plugins"]["datasette-dashboards"]))
    charts = config["archive"]["charts"]
    assert {"coverage", "watches", "tiers", "health"} <= set(charts)
    for chart in charts.values():
        if chart["library"] == "vega-lite":
            assert chart["display"]["usermeta"]["embedOptions"]["actions"] is False


def test_base_url_prefix(fixture_archive):
    assert serve.base_path(None) == "/"
    assert serve.base_path("https://example.org/news") == "/news/"
    assert serve.base_path("http://localhost:8001/") == "/"


def test_two_apps_in_one_process_keep_their_own_config(ds, fixture_archive):
    path, _ = fixture_archive
    other = serve.build(path)  # no sources configured: no next try for any
    assert {r["name"]: r["next_try"] for r in rows(other, "/archive/source_health")} == {
        name: None for name in SOURCES
    }
    mine = {r["name"]: r["next_try"] for r in rows(ds, "/archive/source_health")}
    assert mine["alpha-news"] == "2024-07-03T11:00:05Z"


def test_untrusted_titles_and_urls_stay_inert_on_the_story_page(tmp_path):
    path = tmp_path / "evil.db"
    build(path)
    db = archive.open_archive(path)
    with archive.write(db):
        db["articles"].update(
            1, {"title": "<script>alert(1)</script>", "url": "javascript:alert(2)"}
        )
    db.close()
    page = get(serve.build(path), "/archive/stories/1").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="javascript:' not in page
