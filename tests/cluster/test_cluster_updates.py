"""Updates to full-text articles through a cluster worker (issue 16 over issue 19): when a
known article's feed entry changes (a newer updated date, another title or summary), the
worker fetches its page again and the daemon's archive keeps the old text as a version.
A real redis-server, a real `newswatch worker` process, a local server; the daemon's side
is the dispatch the daemon runs (crawler.cluster.dispatch), in this process."""

from __future__ import annotations

import asyncio

import pytest
from support.httpserver import LocalServer

from crawler import archive

pytestmark = pytest.mark.slow

WORDS = "Police in Baku said the trafficking ring moved workers across the border"
FIRST = [f"{WORDS}, and twelve people were freed on Monday. " * 4, "Officers made arrests. " * 10]
SECOND = [*FIRST, "On Tuesday prosecutors charged five men with human trafficking. " * 4]


def _feed(base: str, *, title: str, summary: str, updated: str) -> str:
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">'
        f"<channel><title>Local</title><item><title>{title}</title>"
        f"<link>{base}/news/raid</link><guid>raid-1</guid>"
        "<pubDate>Mon, 23 Nov 2026 08:00:00 GMT</pubDate>"
        f"<atom:updated>{updated}</atom:updated>"
        f"<description>{summary}</description></item>"
        f"<item><title>Weather</title><link>{base}/news/weather</link><guid>w-1</guid>"
        "<pubDate>Mon, 23 Nov 2026 07:00:00 GMT</pubDate>"
        "<description>Rain.</description></item></channel></rss>"
    )


def _page(title: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html lang='en'><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        f"{body}</article></body></html>"
    )


@pytest.fixture
def server():
    s = LocalServer().start()
    yield s
    s.stop()


@pytest.fixture
def cluster_config(tmp_path, redis_url, server):
    """One full-text feed source on a local server, collected through the cluster."""
    base = server.url("").rstrip("/")
    path = tmp_path / "newswatch.toml"
    path.write_text(
        f"[archive]\npath = '{tmp_path / 'archive.db'}'\n"
        "[crawl]\nallow_private_addresses = true\nobey_robots = false\n"
        f"[cluster]\nbroker = '{redis_url}'\nworker_concurrency = 1\n"
        'task_timeout = "60s"\nvisibility_timeout = "90s"\n'
        f"[[sources]]\nname = 'local'\nkind = 'feed'\nurl = '{base}/feed.xml'\nfull_text = true\n",
        encoding="utf-8",
    )
    return path


def test_an_updated_entry_is_fetched_again_by_the_worker_and_versioned_by_the_daemon(
    cluster_config, server, workers, tmp_path
):
    from crawler.cluster.dispatch import crawl_sources_cluster
    from scheduler import load_config

    cfg = load_config(cluster_config)
    base = server.url("").rstrip("/")

    def put_feed(title: str, summary: str, updated: str, tail: str = "") -> None:
        body = _feed(base, title=title, summary=summary, updated=updated) + tail
        server.add("/feed.xml", content_type="application/rss+xml", body=body)

    def collect() -> list:
        results = asyncio.run(
            crawl_sources_cluster(cfg.cluster, cfg.crawl, cfg.sources, cfg.archive.path)
        )
        assert [r.error for r in results] == [None]
        return results

    put_feed("Raid in Baku", "Twelve freed.", "2026-11-23T08:00:00Z")
    server.add("/news/raid", content_type="text/html", body=_page("Raid in Baku", FIRST))
    server.add("/news/weather", content_type="text/html", body=_page("Weather", ["Rain. " * 40]))
    workers.start()
    (first,) = collect()
    assert first.items_new == 2

    # the same entries in a changed feed body (whitespace): no page is fetched again
    put_feed("Raid in Baku", "Twelve freed.", "2026-11-23T08:00:00Z", tail=" ")
    (same,) = collect()
    assert (same.items_new, same.items_updated) == (0, 0)
    assert server.hits("/news/raid") == 1

    # another summary, the same page: fetched once, no version, and the daemon keeps the
    # new entry (the next collection does not take it for an update again)
    put_feed("Raid in Baku", "Twelve people freed.", "2026-11-23T08:00:00Z")
    (summary,) = collect()
    assert (summary.items_new, summary.items_updated) == (0, 0)
    assert server.hits("/news/raid") == 2
    put_feed("Raid in Baku", "Twelve people freed.", "2026-11-23T08:00:00Z", tail=" ")
    collect()  # a changed body (not a 304), the same entries
    assert server.hits("/news/raid") == 2

    db = archive.open_archive(tmp_path / "archive.db")
    with archive.write(db):  # as the match stage leaves them
        db.execute("UPDATE articles SET matched_at = '2026-11-23T09:00:00Z'")
    db.close()

    # the publisher updates the story: a newer updated date, another title and summary
    server.add("/news/raid", content_type="text/html", body=_page("Raid in Baku", SECOND))
    put_feed("Raid in Baku: five charged", "Twelve freed; five charged.", "2026-11-24T09:30:00Z")
    (updated,) = collect()
    assert server.hits("/news/raid") == 3
    assert server.hits("/news/weather") == 1  # an unchanged entry is not fetched again
    assert (updated.items_new, updated.items_updated) == (0, 1)

    db = archive.open_archive(tmp_path / "archive.db")
    try:
        rows = list(db.query("SELECT * FROM articles WHERE url LIKE '%/news/raid'"))
        assert len(rows) == 1
        (article,) = rows
        assert "prosecutors charged five men" in article["text"]
        assert article["title"] == "Raid in Baku: five charged"
        assert article["matched_at"] is None  # to be matched again
        # what the feed entry said is kept as the publisher dated it
        assert article["entry_updated_at"] == "2026-11-24T09:30:00Z"
        versions = list(
            db.query("SELECT * FROM article_versions WHERE article_id = ?", [article["id"]])
        )
        assert len(versions) == 1
        assert "twelve people were freed" in versions[0]["text"]
        assert "prosecutors" not in versions[0]["text"]
        assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 2
    finally:
        db.close()

    # the same updated entry again (whitespace only): nothing is fetched or versioned again
    put_feed("Raid in Baku: five charged", "Twelve freed;  five charged.", "2026-11-24T09:30:00Z")
    (again,) = collect()
    assert (again.items_new, again.items_updated) == (0, 0)
    assert server.hits("/news/raid") == 3
