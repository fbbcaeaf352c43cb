"""A feed's entries reach the pipeline as one item holding them all (crawler/spiders/base.py
emit_all): every entry is still stored once, with the source's language where the entry has
none, the counts are right across the pipeline's 500-item transactions, and a second feed
stored in the same transaction keeps its own items."""

from __future__ import annotations

import pytest
import sqlite_utils
from support.httpserver import LocalServer

from crawler.pipelines import BATCH

RSS = "application/rss+xml"


def feed(prefix: str, n: int, *, language: str | None = None) -> str:
    lang = f"<language>{language}</language>" if language else ""
    items = "".join(
        f"<item><title>{prefix} story number {i}</title>"
        f"<link>http://news.example/{prefix}/{i}</link><guid>{prefix}-{i}</guid>"
        f"<description>Words about {prefix} matter {i}, told plainly {i * 7}.</description>"
        "</item>"
        for i in range(n)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{prefix}</title>{lang}{items}</channel></rss>'


@pytest.fixture
def site():
    server = LocalServer().start()
    yield server
    server.stop()


@pytest.mark.slow  # a real `newswatch crawl` process
def test_a_feed_larger_than_one_transaction_is_stored_whole(site, tmp_path, run_newswatch):
    big = BATCH + 120  # crosses the pipeline's flush in the middle of one feed's batch
    site.add("/robots.txt", body="User-agent: *\nAllow: /\n")
    site.add("/big.xml", body=feed("big", big), content_type=RSS)
    site.add("/small.xml", body=feed("small", 3, language="fr-FR"), content_type=RSS)
    archive = tmp_path / "a.db"
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[archive]\npath = "{archive}"\n\n[crawl]\nallow_private_addresses = true\n'
        f'\n[[sources]]\nname = "big"\nkind = "feed"\nurl = "{site.url("/big.xml")}"\n'
        'language = "de"\n'
        f'\n[[sources]]\nname = "small"\nkind = "feed"\nurl = "{site.url("/small.xml")}"\n'
        'language = "de"\n',
        encoding="utf-8",
    )
    proc = run_newswatch("crawl", "--config", str(cfg), timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    db = sqlite_utils.Database(archive)
    counts = dict(db.execute("SELECT source, count(*) FROM articles GROUP BY source").fetchall())
    assert counts == {"big": big, "small": 3}
    guids = {g for (g,) in db.execute("SELECT guid FROM articles WHERE source = 'big'")}
    assert guids == {f"big-{i}" for i in range(big)}
    # the source's language where the feed says none; the feed's own where it does
    langs = dict(
        db.execute("SELECT source, group_concat(DISTINCT language) FROM articles GROUP BY source")
    )
    assert langs == {"big": "de", "small": "fr"}
    fetched = dict(db.execute("SELECT source, items_new FROM fetches").fetchall())
    assert fetched == {"big": big, "small": 3}
    health = {r["name"]: r for r in db.query("SELECT * FROM sources")}
    assert health["big"]["last_error_class"] is None
    assert health["big"]["items_seen"] == big
