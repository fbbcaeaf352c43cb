"""Sitemaps served gzipped, re-fetching only pages whose lastmod moved, and the per-source cap
on article fetches: real crawls (`newswatch crawl` in a subprocess) against a local server."""

from __future__ import annotations

import gzip

import pytest
import sqlite_utils
from support.httpserver import LocalServer


def page(title: str, words: str) -> str:
    body = " ".join([words] * 30)
    return f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1><p>{body}</p></article></body></html>"


def urlset(server: LocalServer, entries: list[tuple[str, str]]) -> bytes:
    urls = "".join(
        f"<url><loc>{server.url(path)}</loc><lastmod>{lastmod}</lastmod></url>"
        for path, lastmod in entries
    )
    return (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{urls}</urlset>"
    ).encode()


CONFIG = """
[archive]
path = "{archive}"
[crawl]
allow_private_addresses = true
obey_robots = false
autothrottle = false
retries = 0
download_timeout = "5s"
max_articles_per_source = {cap}
[[sources]]
name = "site"
kind = "{kind}"
url = "{url}"
{extra}
"""


def crawl(run_newswatch, config):
    proc = run_newswatch("--config", str(config), "crawl")
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.mark.slow
def test_gzipped_sitemap_and_only_moved_lastmod_refetched(write_config, run_newswatch, tmp_path):
    server = LocalServer().start()
    try:
        server.add("/a/one", body=page("One", "First story words."), content_type="text/html")
        server.add("/a/two", body=page("Two", "Second story words."), content_type="text/html")
        old = "2024-01-01T00:00:00Z"
        server.add(
            "/sitemap.xml.gz",
            body=gzip.compress(urlset(server, [("/a/one", old), ("/a/two", old)])),
            content_type="application/x-gzip",
        )
        config = write_config(
            CONFIG.replace("{cap}", "200")
            .replace("{kind}", "sitemap")
            .replace("{url}", server.url("/sitemap.xml.gz"))
            .replace("{extra}", "")
        )
        crawl(run_newswatch, config)
        db = sqlite_utils.Database(tmp_path / "archive.db")
        assert sorted(r["title"] for r in db["articles"].rows) == ["One", "Two"]
        assert (server.hits("/a/one"), server.hits("/a/two")) == (1, 1)

        # Page one changes and says so in its lastmod; page two does not.
        server.add("/a/one", body=page("One", "Corrected first story."), content_type="text/html")
        moved = "2099-01-01T00:00:00Z"
        server.add(
            "/sitemap.xml.gz",
            body=gzip.compress(urlset(server, [("/a/one", moved), ("/a/two", old)])),
            content_type="application/x-gzip",
        )
        crawl(run_newswatch, config)
        assert (server.hits("/a/one"), server.hits("/a/two")) == (2, 1)
        one = next(db["articles"].rows_where("title = 'One'"))
        assert "Corrected first story" in one["text"]
        versions = list(db["article_versions"].rows_where("article_id = ?", [one["id"]]))
        assert len(versions) == 1 and "First story words" in versions[0]["text"]
        assert db["articles"].count == 2
    finally:
        server.stop()


@pytest.mark.slow
def test_max_articles_per_source_caps_page_fetches(write_config, run_newswatch, tmp_path):
    server = LocalServer().start()
    try:
        links = "".join(f'<a class="s" href="/p/{i}">Story {i}</a>' for i in range(8))
        server.add("/list", body=f"<html><body>{links}</body></html>", content_type="text/html")
        for i in range(8):
            server.add(
                f"/p/{i}", body=page(f"Story {i}", f"Words of story {i}."), content_type="text/html"
            )
        config = write_config(
            CONFIG.replace("{cap}", "3")
            .replace("{kind}", "html")
            .replace("{url}", server.url("/list"))
            .replace("{extra}", 'links = "a.s"')
        )
        crawl(run_newswatch, config)
        fetched = sum(server.hits(f"/p/{i}") for i in range(8))
        assert fetched == 3
        db = sqlite_utils.Database(tmp_path / "archive.db")
        assert db["articles"].count == 3
        # The next crawl takes the next ones: nothing is fetched twice.
        crawl(run_newswatch, config)
        assert sum(server.hits(f"/p/{i}") for i in range(8)) == 6
        assert all(server.hits(f"/p/{i}") <= 1 for i in range(8))
    finally:
        server.stop()
