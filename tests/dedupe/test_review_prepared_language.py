"""A feed item prepared in the parse worker (crawler.store.prepare_item) before the source's
configured language was given to it (SourceSpider.emit_all) must get the story that
`newswatch dedupe --rebuild` gives it: the event level reads a Chinese article as jieba
words, and without the language as character bigrams. Found in review; fixtures written
for newswatch (the Chinese texts are tests/dedupe/test_event_chinese.py's)."""

from __future__ import annotations

import json

import pytest
import sqlite_utils
from dedupe.test_event_chinese import QUAKE, QUAKE_AGAIN, RATES, STRIKE, TRAIN
from support.httpserver import LocalServer

RSS = "application/rss+xml"


def feed(name: str, docs: list[tuple[str, str]]) -> str:
    """An RSS feed with no <language>: the source's config says what language it is."""
    items = "".join(
        f"<item><title>{title}</title><link>http://{name}.example/{i}</link>"
        f"<guid>{name}-{i}</guid><description>{text}</description>"
        f"<pubDate>Fri, 06 Mar 2026 {10 + i}:00:00 GMT</pubDate></item>"
        for i, (title, text) in enumerate(docs)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{name}</title>{items}</channel></rss>"
    )


@pytest.fixture
def site():
    server = LocalServer().start()
    yield server
    server.stop()


def stories(db: sqlite_utils.Database) -> dict[str, int]:
    return dict(db.execute("SELECT guid, story_id FROM articles").fetchall())


def partition(mapping: dict[str, int]) -> set[frozenset[str]]:
    groups: dict[int, set[str]] = {}
    for guid, story in mapping.items():
        groups.setdefault(story, set()).add(guid)
    return {frozenset(g) for g in groups.values()}


@pytest.mark.slow  # real `newswatch crawl` and `newswatch dedupe --rebuild` processes
def test_crawled_chinese_feed_without_language_tag_gets_the_rebuild_stories(
    site, tmp_path, run_newswatch
):
    site.add("/robots.txt", body="User-agent: *\nAllow: /\n")
    # the background news first, in outlet a's feed, then the earthquake by a and by b
    site.add("/a.xml", body=feed("a", [RATES, STRIKE, TRAIN, QUAKE]), content_type=RSS)
    site.add("/b.xml", body=feed("b", [QUAKE_AGAIN]), content_type=RSS)
    archive = tmp_path / "a.db"
    cfg = tmp_path / "c.toml"
    sources = "".join(
        f'\n[[sources]]\nname = "outlet-{n}"\nkind = "feed"\nurl = "{site.url(f"/{n}.xml")}"\n'
        'language = "zh"\n'
        for n in ("a", "b")
    )
    cfg.write_text(
        f'[archive]\npath = "{archive}"\n\n[crawl]\nallow_private_addresses = true\n' + sources,
        encoding="utf-8",
    )
    proc = run_newswatch("crawl", "--config", str(cfg), timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    db = sqlite_utils.Database(archive)
    assert {lang for (lang,) in db.execute("SELECT language FROM articles")} == {"zh"}
    live = stories(db)
    db.close()
    proc = run_newswatch("dedupe", "--rebuild", "--json", "--config", str(cfg), timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rebuilt = stories(sqlite_utils.Database(archive))
    assert partition(rebuilt) == partition(live), (live, rebuilt, proc.stdout)
    # and the rebuild (the Chinese article read as words) joins the two reports
    assert rebuilt["a-3"] == rebuilt["b-0"], json.dumps(rebuilt)
