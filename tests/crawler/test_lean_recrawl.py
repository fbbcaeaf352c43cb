"""A `newswatch crawl` whose feeds are all unchanged (the server answers 304) loads no
parser, no store and no story machinery: most of such a crawl is the process's start-up,
so what it imports is its cost (issue 16). A crawl with a changed feed loads them."""

from __future__ import annotations

import re

import pytest
from support.httpserver import LocalServer

RSS = "application/rss+xml"
# Modules a crawl needs only when a feed changed (or an article page is fetched).
ONLY_FOR_NEW_ITEMS = (
    "feedparser",
    "trafilatura",
    "crawler.feeds",
    "crawler.store",
    "crawler.stories",
    "crawler.extract",
)
# What only a config with watches or term sets needs (its queries are parsed to check them).
ONLY_FOR_WATCHES = ("alerts.query", "alerts.gazetteer")


def feed(n: int) -> str:
    items = "".join(
        f"<item><title>Story {i}</title><link>http://news.example/{i}</link>"
        f"<guid>g{i}</guid><description>Words of story {i}.</description></item>"
        for i in range(n)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'
    )


def imported(stderr: str) -> set[str]:
    """The modules named in ``python -X importtime`` output."""
    return {m.group(1) for m in re.finditer(r"^import time:.*\|\s*(\S+)\s*$", stderr, re.M)}


@pytest.fixture
def site():
    server = LocalServer().start()
    yield server
    server.stop()


@pytest.mark.slow  # real `newswatch crawl` processes
def test_a_crawl_of_unchanged_feeds_loads_no_parser(site, tmp_path, run_newswatch):
    site.add("/robots.txt", body="User-agent: *\nAllow: /\n")
    site.add("/a.xml", body=feed(3), content_type=RSS, etag='"a1"')
    site.add("/b.xml", body=feed(5), content_type=RSS, etag='"b1"')
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[archive]\npath = "{tmp_path / "a.db"}"\n\n[crawl]\nallow_private_addresses = true\n'
        f'\n[[sources]]\nname = "a"\nkind = "feed"\nurl = "{site.url("/a.xml")}"\n'
        f'\n[[sources]]\nname = "b"\nkind = "feed"\nurl = "{site.url("/b.xml")}"\n',
        encoding="utf-8",
    )

    def crawl() -> tuple[set[str], str]:
        proc = run_newswatch(
            "crawl", "--config", str(cfg), env={"PYTHONPROFILEIMPORTTIME": "1"}, timeout=240
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        return imported(proc.stderr), proc.stdout + proc.stderr

    first, _ = crawl()
    assert set(ONLY_FOR_NEW_ITEMS) - {"trafilatura", "crawler.extract"} <= first
    second, out = crawl()
    assert "2 of 2 sources fetched, 0 new articles" in out
    assert site.hits("/a.xml") == 2 and site.hits("/b.xml") == 2  # asked again: 304s
    assert second & set(ONLY_FOR_NEW_ITEMS) == set()
    assert (first | second) & set(ONLY_FOR_WATCHES) == set()  # the config has no watches
    assert "scrapy" in second  # (the check reads the right output)
