"""Real Scrapy crawls (``newswatch crawl`` in a subprocess) against the local test site:
every source kind, every fault recorded with its error class while the other sources
land, and a second crawl of unchanged sources that parses nothing."""

from __future__ import annotations

import json

import pytest
import sqlite_utils

from crawler.cli import exits

# Slow, and one xdist worker runs the module: its two crawls are a module fixture.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("crawl")]

CRAWL = """
[archive]
path = "{archive}"

[crawl]
user_agent = "newswatch-test/1.0"
allow_private_addresses = true
autothrottle = false
download_timeout = "2s"
crawl_timeout = "90s"
retries = 1
retry_backoff = "0.2s"
max_retry_after = "5s"
max_page_bytes = 1_000_000
max_redirects = 3
concurrency_per_domain = 8
"""

# name -> (kind, path, extra TOML lines)
SOURCES = {
    "local-feed": ("feed", "/feeds/local.xml", "full_text = true"),
    "listing": ("html", "/news/", 'links = "a.story"\nnext_page = "a.next"\nmax_pages = 2'),
    "sitemap": ("sitemap", "/sitemap_index.xml", 'url_pattern = "/articles/s"'),
    "rss20": ("feed", "/feeds/rss20.xml", ""),
    "atom": ("feed", "/feeds/atom10.xml", ""),
    "jsonfeed": ("feed", "/feeds/jsonfeed.json", ""),
    "flaky": ("feed", "/faults/flaky.xml", ""),
    "limited": ("feed", "/faults/limited.xml", ""),
    "down": ("feed", "/faults/down.xml", ""),
    "missing": ("feed", "/faults/missing.xml", ""),
    "hang": ("feed", "/faults/hang.xml", ""),
    "huge": ("feed", "/faults/huge.xml", ""),
    "bomb": ("feed", "/faults/bomb.xml", ""),
    "loop": ("feed", "/faults/loop", ""),
    "malformed": ("feed", "/feeds/malformed.xml", ""),
    "laughs": ("feed", "/feeds/billion_laughs.xml", ""),
    "xxe": ("feed", "/feeds/xxe.xml", ""),
    "cp1252": ("feed", "/feeds/cp1252_declared_utf8.xml", ""),
    "utf16": ("feed", "/feeds/utf16.xml", ""),
    "html-not-feed": ("feed", "/feeds/not_a_feed", ""),
    "dups": ("feed", "/feeds/dup_guids.xml", ""),
    "undated": ("feed", "/feeds/no_dates.xml", ""),
    "robots": ("html", "/private/list", 'links = "a.story"'),
}


def config_text(server) -> str:
    text = CRAWL
    for name, (kind, path, extra) in SOURCES.items():
        text += f'\n[[sources]]\nname = "{name}"\nkind = "{kind}"\nurl = "{server.url(path)}"\n{extra}\n'
    # A public-looking site (reached through the test server acting as a proxy) that
    # redirects to 127.0.0.1, and a name that does not resolve.
    text += '\n[[sources]]\nname = "to-private"\nkind = "feed"\n'
    text += 'url = "http://news.example/faults/to-private"\nallow_private_addresses = false\n'
    text += (
        '\n[[sources]]\nname = "no-dns"\nkind = "feed"\nurl = "http://no-such-host.invalid/feed"\n'
    )
    return text


@pytest.fixture(scope="module")
def crawled(news_site, tmp_path_factory, request):
    """Two crawls of the same config; the archive and both processes' output."""
    import os
    import subprocess
    import sys

    from conftest import REPO  # tests/conftest.py

    tmp = tmp_path_factory.mktemp("crawl")
    archive = tmp / "archive.db"
    cfg = tmp / "newswatch.toml"
    cfg.write_text(config_text(news_site).replace("{archive}", str(archive)), encoding="utf-8")
    env = {
        **os.environ,
        # Where Scrapy's remote-control extension would write its job files (with a token
        # for running code in the crawl); the crawl must write none.
        "XDG_STATE_HOME": str(tmp / "state"),
        "http_proxy": news_site.url(""),
        "no_proxy": "127.0.0.1,localhost,.invalid",
        "PYTHONUNBUFFERED": "1",
    }
    runs = []
    job_files: set[str] = set()
    for _ in range(2):
        before = len(news_site.requests)
        proc = subprocess.Popen(
            [sys.executable, str(REPO / "scheduler.py"), "crawl", "--config", str(cfg)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO,
        )
        out, err = proc.communicate(timeout=240)
        # A job file lives only while its crawl runs, but the folder Scrapy makes for it
        # (state/scrapy/job_files) stays: anything at all under the state folder is a sign.
        job_files.update(str(p.relative_to(tmp)) for p in (tmp / "state").rglob("*"))
        done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        runs.append((done, news_site.requests[before:]))
    return sqlite_utils.Database(archive), runs, cfg, job_files


def health(db) -> dict[str, dict]:
    return {r["name"]: r for r in db.query("SELECT * FROM sources")}


def articles(db, source) -> list[dict]:
    return list(db.query("SELECT * FROM articles WHERE source = ? ORDER BY id", [source]))


def test_crawl_exits_cleanly_and_prints_a_summary(crawled):
    _db, runs, _cfg, _state = crawled
    proc = runs[0][0]
    # the fixture's faulty sources fail and the rest work: a partial failure (crawler/cli/exits.py)
    assert proc.returncode == exits.PARTIAL, proc.stderr[-3000:]
    assert f"[{len(SOURCES) + 2}/{len(SOURCES) + 2}]" in proc.stderr
    # Not a terminal: after the per-source lines, a plain table with one row per source.
    lines = proc.stderr.splitlines()
    header = next(i for i, ln in enumerate(lines) if ln.split()[:3] == ["source", "result", "http"])
    rows = {
        ln.split()[0]: ln.split()[1] for ln in lines[header + 1 : header + 1 + len(SOURCES) + 2]
    }
    assert rows["down"] == "http_5xx"
    assert rows["rss20"] == "ok"
    assert "new articles" in lines[header + len(SOURCES) + 3]


def test_crawl_starts_no_scrapy_remote_control(crawled):
    """Scrapy 2.19 runs, per crawl, a code-execution HTTP endpoint on 127.0.0.1 and writes
    its token to a job file unless it is switched off."""
    _db, runs, _cfg, job_files = crawled
    assert runs[0][0].returncode == exits.PARTIAL  # it ran (the faulty sources failed)
    assert not job_files


@pytest.mark.parametrize(
    ("source", "error_class"),
    [
        ("down", "http_5xx"),
        ("missing", "http_4xx"),
        ("hang", "timeout"),
        ("huge", "too_large"),
        ("bomb", "too_large"),
        ("loop", "too_many_redirects"),
        ("to-private", "private_address_refused"),
        ("no-dns", "dns"),
        ("html-not-feed", "not_a_feed"),
        ("robots", "robots_denied"),
    ],
)
def test_each_fault_is_recorded_with_its_class(crawled, source, error_class):
    db, _runs, _cfg, _state = crawled
    row = health(db)[source]
    assert row["last_error_class"] == error_class, row
    assert row["consecutive_failures"] == 2  # both crawls failed it
    assert row["last_success_at"] is None
    assert articles(db, source) == []
    fetches = list(db.query("SELECT * FROM fetches WHERE source = ?", [source]))
    assert [f["error_class"] for f in fetches] == [error_class, error_class]


def test_good_sources_land_beside_the_faults(crawled):
    db, _runs, _cfg, _state = crawled
    h = health(db)
    expected = {
        "local-feed": 2,
        "listing": 3,
        "sitemap": 2,
        "rss20": 2,
        "atom": 1,
        "jsonfeed": 1,
        "flaky": 1,
        "limited": 1,
        "laughs": 1,
        "xxe": 1,
        "cp1252": 1,
        "utf16": 1,
        "dups": 2,
        "undated": 2,
    }
    for source, count in expected.items():
        assert h[source]["last_success_at"], (source, h[source])
        assert h[source]["consecutive_failures"] == 0, source
        assert len(articles(db, source)) == count, source
    assert all(a["story_id"] is not None for a in db.query("SELECT story_id FROM articles"))


def test_retries_after_500_and_429(crawled, news_site):
    db, runs, _cfg, _state = crawled
    first = [p for _m, p, _h in runs[0][1]]
    assert first.count("/faults/flaky.xml") == 2
    assert first.count("/faults/limited.xml") == 2
    assert health(db)["flaky"]["last_error_class"] is None
    assert articles(db, "limited")[0]["title"] == "After the wait"


def test_full_text_feed_extracts_the_seed_article(crawled):
    db, _runs, _cfg, _state = crawled
    seed = next(a for a in articles(db, "local-feed") if a["guid"] == "seed")
    assert seed["title"] == "Seed story"  # the feed's title wins
    assert seed["url"].endswith("/articles/seed")  # canonical: tracking parameter gone
    assert seed["text"].startswith('Azerbaijan remains on "Tier 2"')
    assert "Leave a review" not in seed["text"] and "News Line" not in seed["text"]
    assert seed["published_at"] == "2024-06-24T14:05:00Z"  # from the page, not the feed
    assert seed["language"] == "en"


def test_listing_and_sitemap_items(crawled):
    db, _runs, _cfg, _state = crawled
    listed = articles(db, "listing")
    assert sorted(a["url"].rsplit("/", 1)[1] for a in listed) == ["l1", "l2", "l3"]
    assert all(a["title"].startswith("Story l") and "Words of story" in a["text"] for a in listed)
    mapped = {a["url"].rsplit("/", 1)[1]: a for a in articles(db, "sitemap")}
    assert set(mapped) == {"s1", "s2"}
    assert mapped["s1"]["published_at"] == "2024-06-24T07:00:00Z"
    assert mapped["s1"]["updated_at"] == "2024-06-24T10:00:00Z"


def test_hostile_and_odd_feeds(crawled):
    db, _runs, _cfg, _state = crawled
    everything = json.dumps(list(db.query("SELECT * FROM articles")), ensure_ascii=False)
    assert "lollollol" not in everything
    assert "root:" not in everything
    assert articles(db, "cp1252")[0]["title"] == "\u201cCaf\u00e9 news\u201d \u2013 Baku"
    assert articles(db, "utf16")[0]["title"] == "Привет, Баку — ünïcödé"
    assert [a["guid"] for a in articles(db, "dups")] == ["same", "other"]
    assert all(a["published_at"] is None for a in articles(db, "undated"))
    first = db.execute(
        "SELECT error_class, error FROM fetches WHERE source = 'malformed' ORDER BY id"
    ).fetchone()
    assert first[0] == "parse_error" and "items kept" in first[1]
    malformed = health(db)["malformed"]
    assert malformed["last_success_at"] and malformed["consecutive_failures"] == 0
    # The second crawl found the same body: its problem still stands in `sources`.
    last = db.execute(
        "SELECT not_modified FROM fetches WHERE source = 'malformed' ORDER BY id DESC"
    ).fetchone()
    assert last[0] == 1
    assert (
        malformed["last_error_class"] == "parse_error" and "items kept" in malformed["last_error"]
    )
    assert [a["title"] for a in articles(db, "malformed")][:2] == ["Good item one", "Good item two"]


def test_second_crawl_of_unchanged_sources_parses_nothing(crawled):
    db, runs, _cfg, _state = crawled
    proc, requests = runs[1]
    assert proc.returncode == exits.PARTIAL, proc.stderr[-3000:]  # the faults fail again
    conditional = [h for _m, p, h in requests if p == "/feeds/local.xml"]
    assert conditional and conditional[0].get("If-None-Match") == '"local-v1"'
    assert conditional[0].get("If-Modified-Since") == "Mon, 24 Jun 2024 10:00:00 GMT"
    second = {
        f["source"]: f
        for f in db.query(
            "SELECT * FROM fetches WHERE id > (SELECT max(id) - ? FROM fetches)", [len(SOURCES) + 2]
        )
    }
    for source in ("local-feed", "listing", "sitemap", "rss20", "atom", "utf16", "dups"):
        assert second[source]["not_modified"] == 1, second[source]
        assert second[source]["items_seen"] == 0 and second[source]["items_new"] == 0
        assert second[source]["status"] in (200, 304)
    assert second["local-feed"]["status"] == 304
    # No article page was fetched again.
    assert not [p for _m, p, _h in requests if p.startswith("/articles/")]


def test_status_shows_source_health(crawled, cli):
    _db, _runs, cfg, _state = crawled
    result = cli("status", "--json", "--config", str(cfg))
    assert result.exit_code == 0, result.output
    rows = {
        s["name"]: s
        for s in map(json.loads, result.output.splitlines())
        if s["section"] == "source"
    }
    assert rows["hang"]["last_error_class"] == "timeout"
    assert rows["listing"]["items_seen"] == 0  # the last crawl found it unchanged
