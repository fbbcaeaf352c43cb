"""Hostile listing pages and sitemaps (issue 13 item 8): a gzipped sitemap bomb is
``too_large``; a listing or sitemap nested 100,000 levels deep is a ``parse_error`` saying why, not a
silent "0 links"; a malformed address among the links loses only itself. One real crawl."""

from __future__ import annotations

import gzip

import pytest
import sqlite_utils
from support.httpserver import LocalServer, gzip_bomb

pytestmark = pytest.mark.slow

CONFIG = """
[archive]
path = "{archive}"
[crawl]
allow_private_addresses = true
obey_robots = false
autothrottle = false
retries = 0
download_timeout = "5s"
max_page_bytes = 2_000_000
"""


def page(title: str) -> str:
    body = " ".join([f"Words of the story called {title}."] * 30)
    return f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1><p>{body}</p></article></body></html>"


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    import os
    import subprocess
    import sys

    from conftest import REPO

    server = LocalServer().start()
    u = server.url
    try:
        for name in ("a1", "a2", "s1", "s2"):
            server.add(f"/p/{name}", body=page(name), content_type="text/html")
        # A sitemap that is a gzip bomb (50 MB of zeros in 50 KB), served as a file.
        server.add("/bomb.xml.gz", body=gzip_bomb(50_000_000), content_type="application/x-gzip")
        # A listing whose one link sits 100,000 elements deep.
        deep = "<div>" * 100_000 + '<a class="s" href="/p/a1">deep</a>' + "</div>" * 100_000
        server.add("/deep", body=f"<html><body>{deep}</body></html>", content_type="text/html")
        deepmap = (
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "<x>" * 100_000
            + "</x>" * 100_000
            + f"<url><loc>{u('/p/a1')}</loc></url></urlset>"
        )
        server.add("/deepmap.xml", body=deepmap, content_type="application/xml")
        # A listing and a sitemap with a malformed address among good ones.
        server.add(
            "/list",
            body='<a class="s" href="http://[::1">bad</a><a class="s" href="/p/a2">A2</a>',
            content_type="text/html",
        )
        urlset = (
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>http://[x</loc></url><url><loc>{u('/p/s1')}</loc></url>"
            f"<url><loc>{u('/p/s2')}</loc></url></urlset>"
        )
        server.add("/map.xml.gz", body=gzip.compress(urlset.encode()))
        text = CONFIG
        for name, kind, path, extra in [
            ("bomb", "sitemap", "/bomb.xml.gz", ""),
            ("deep", "html", "/deep", 'links = "a.s"'),
            ("deepmap", "sitemap", "/deepmap.xml", ""),
            ("list", "html", "/list", 'links = "a.s"'),
            ("map", "sitemap", "/map.xml.gz", ""),
        ]:
            text += f'[[sources]]\nname = "{name}"\nkind = "{kind}"\nurl = "{u(path)}"\n{extra}\n'
        tmp = tmp_path_factory.mktemp("hostile")
        archive = tmp / "archive.db"
        cfg = tmp / "newswatch.toml"
        cfg.write_text(text.replace("{archive}", str(archive)), encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, str(REPO / "scheduler.py"), "crawl", "--config", str(cfg)],
            capture_output=True,
            text=True,
            timeout=180,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            cwd=REPO,
        )
    finally:
        server.stop()
    db = sqlite_utils.Database(archive)
    return proc, {r["name"]: r for r in db.query("SELECT * FROM sources")}, db


def test_a_gzipped_sitemap_bomb_is_too_large(crawled):
    _proc, rows, _db = crawled
    assert rows["bomb"]["last_error_class"] == "too_large", rows["bomb"]
    assert "max_page_bytes" in rows["bomb"]["last_error"]


def test_a_listing_nested_too_deep_is_a_parse_error_that_says_why(crawled):
    _proc, rows, _db = crawled
    assert rows["deep"]["last_error_class"] == "parse_error", rows["deep"]
    assert "Excessive depth" in rows["deep"]["last_error"]
    assert rows["deep"]["consecutive_failures"] == 1


def test_a_sitemap_nested_too_deep_is_a_parse_error_that_says_why(crawled):
    _proc, rows, _db = crawled
    assert rows["deepmap"]["last_error_class"] == "parse_error", rows["deepmap"]
    assert "Excessive depth" in rows["deepmap"]["last_error"]


def test_a_malformed_address_loses_only_itself(crawled):
    proc, rows, db = crawled
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    titles = {r["source"]: set() for r in db.query("SELECT source FROM articles")}
    for r in db.query("SELECT source, title FROM articles"):
        titles[r["source"]].add(r["title"])
    assert titles == {"list": {"a2"}, "map": {"s1", "s2"}}
    assert rows["list"]["last_error_class"] is None and rows["map"]["last_error_class"] is None
