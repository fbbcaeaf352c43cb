"""Crawl-test fixtures: a small news site served by tests/support/httpserver.py: feeds, a
paginated listing, a sitemap index with a news sitemap, articles, robots.txt, and one
route per fault."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.httpserver import LocalServer, Reply, gzip_bomb

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "crawler"
FEEDS = FIXTURES / "feeds"
RSS = "application/rss+xml"


def article(title: str, words: str) -> str:
    body = " ".join([words] * 25)
    return (
        f"<html lang='en'><head><title>{title}</title></head><body><nav><a href='/'>Home</a>"
        f"</nav><article><h1>{title}</h1><p>{body}</p><p>{body}</p></article></body></html>"
    )


def rss(items: list[tuple[str, str, str]]) -> str:
    parts = [
        f"<item><title>{t}</title><link>{link}</link><guid>{g}</guid>"
        "<pubDate>Mon, 24 Jun 2024 10:00:00 GMT</pubDate><description>Summary of "
        f"{t}.</description></item>"
        for t, link, g in items
    ]
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Local</title>{"".join(parts)}</channel></rss>'


def build_site(server: LocalServer) -> None:
    """Serve the test site's routes on ``server``."""
    u = server.url
    server.add(
        "/robots.txt",
        body=f"User-agent: *\nDisallow: /private/\nSitemap: {u('/sitemap_index.xml')}\n",
    )
    server.add(
        "/",
        body=(
            "<html><head><title>Home</title>"
            f'<link rel="alternate" type="application/rss+xml" title="Local news" href="{u("/feeds/local.xml")}">'
            '<link rel="alternate" type="application/atom+xml" title="Atom" href="/feeds/atom.xml">'
            '<link rel="stylesheet" href="/style.css"></head><body>home</body></html>'
        ),
        content_type="text/html",
    )
    # Articles
    server.add_file("/articles/seed", FIXTURES / "seed_article.html", content_type="text/html")
    for name in ("a2", "l1", "l2", "l3", "s1", "s2", "s3"):
        server.add(
            f"/articles/{name}",
            body=article(f"Story {name}", f"Words of story {name} here."),
            content_type="text/html",
        )
    # A feed with full text, answering conditional requests with 304.
    server.add(
        "/feeds/local.xml",
        body=rss(
            [
                ("Seed story", u("/articles/seed?utm_source=rss"), "seed"),
                ("Second", u("/articles/a2"), "a2"),
            ]
        ),
        content_type=RSS,
        etag='"local-v1"',
        last_modified="Mon, 24 Jun 2024 10:00:00 GMT",
    )
    # A listing with two pages (no validators: the second crawl relies on the body hash).
    server.add(
        "/news/",
        body=(
            "<html><body><ul>"
            f'<li><a class="story" href="/articles/l1">One</a></li>'
            f'<li><a class="story" href="{u("/articles/l2")}#comments">Two</a></li>'
            '<li><a href="/about">About</a></li></ul><a class="next" href="/news/?page=2">Next</a></body></html>'
        ),
        content_type="text/html",
    )
    server.add(
        "/news/?page=2",
        body='<html><body><a class="story" href="/articles/l3">Three</a><a class="story" href="/articles/l1">One again</a></body></html>',
        content_type="text/html",
    )
    # Sitemaps: an index, a news sitemap, and a page outside the pattern.
    server.add(
        "/sitemap_index.xml",
        body=(
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{u('/sitemap_news.xml')}</loc></sitemap></sitemapindex>"
        ),
        content_type="application/xml",
    )
    server.add(
        "/sitemap_news.xml",
        body=(
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
            f"<url><loc>{u('/articles/s1')}</loc><lastmod>2024-06-24T10:00:00Z</lastmod>"
            "<news:news><news:publication_date>2024-06-24T09:00:00+02:00</news:publication_date>"
            "<news:title>News sitemap title one</news:title></news:news></url>"
            f"<url><loc>{u('/articles/s2')}</loc></url>"
            f"<url><loc>{u('/about')}</loc></url></urlset>"
        ),
        content_type="application/xml",
    )
    # Fixture feeds served as they are.
    for name in (
        "rss20.xml",
        "atom10.xml",
        "jsonfeed.json",
        "malformed.xml",
        "billion_laughs.xml",
        "xxe.xml",
        "cp1252_declared_utf8.xml",
        "utf16.xml",
        "dup_guids.xml",
        "no_dates.xml",
    ):
        server.add_file(f"/feeds/{name}", FEEDS / name, content_type=RSS)
    server.add_file("/feeds/not_a_feed", FEEDS / "not_a_feed.html", content_type="text/html")
    # Faults
    ok_feed = rss([("Recovered", u("/articles/recovered"), "rec")])
    server.add("/faults/flaky.xml", Reply(status=500), Reply(body=ok_feed, content_type=RSS))
    server.add(
        "/faults/limited.xml",
        Reply(status=429, headers={"Retry-After": "1"}),
        Reply(body=rss([("After the wait", u("/articles/waited"), "wait")]), content_type=RSS),
    )
    server.add("/faults/down.xml", Reply(status=503))
    server.add("/faults/hang.xml", Reply(never_finish=True, content_type=RSS))
    server.add("/faults/huge.xml", Reply(stream_bytes=50_000_000, content_type=RSS))
    server.add("/faults/bomb.xml", Reply(raw_gzip=gzip_bomb(50_000_000), content_type=RSS))
    server.add("/faults/loop", Reply(redirect="/faults/loop"))
    server.add("/faults/to-private", Reply(redirect=u("/feeds/rss20.xml")))
    server.add(
        "/private/list", body='<a class="story" href="/articles/l1">x</a>', content_type="text/html"
    )


@pytest.fixture(scope="module")
def news_site():
    """The test site on a real HTTP server on 127.0.0.1."""
    server = LocalServer().start()
    build_site(server)
    yield server
    server.stop()
