"""Updates to full-text articles (issue 16): when a known article's feed entry changes (a
newer updated date, another title or summary), a full_text source fetches its page again,
the archive keeps the old text as a version, the article is matched again, and the watch's
digest tells of the update. Real `newswatch crawl` processes against a local server, the
real matcher and a real SMTP server (tests/support/smtp.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from support.httpserver import LocalServer
from support.smtp import SMTPServer

from crawler import archive

WORDS = "Police in Baku said the trafficking ring moved workers across the border"


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
    return f"<html lang='en'><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}</article></body></html>"


FIRST = [f"{WORDS}, and twelve people were freed on Monday. " * 4, "Officers made arrests. " * 10]
SECOND = [*FIRST, "On Tuesday prosecutors charged five men with human trafficking. " * 4]


@pytest.fixture
def world(tmp_path):
    server = LocalServer().start()
    mail = SMTPServer().start()
    base = server.url("").rstrip("/")
    server.add(
        "/feed.xml",
        content_type="application/rss+xml",
        body=_feed(
            base,
            title="Raid in Baku",
            summary="Twelve freed.",
            updated="2026-11-23T08:00:00Z",
        ),
    )
    server.add("/news/raid", content_type="text/html", body=_page("Raid in Baku", FIRST))
    server.add(
        "/news/weather",
        content_type="text/html",
        body=_page("Weather", ["Rain all day in the capital. " * 12]),
    )
    config = tmp_path / "newswatch.toml"
    config.write_text(
        f"[archive]\npath = '{tmp_path / 'archive.db'}'\n"
        "[crawl]\nallow_private_addresses = true\n"
        f"[[sources]]\nname = 'local'\nkind = 'feed'\nurl = '{base}/feed.xml'\nfull_text = true\n"
        f"[[targets]]\nname = 'mail'\nurl = '{mail.url()}'\n"
        "[[watches]]\nname = 'trafficking'\nquery = 'trafficking'\ntargets = ['mail']\n"
        "mode = 'digest'\ndigest_at = ['08:00']\n",
        encoding="utf-8",
    )
    yield server, mail, config, base
    mail.stop()
    server.stop()


def _process(config, *, enqueue_at: datetime, deliver_at: datetime):
    """The daemon's stage after a collection: match, queue, deliver (at given times, so the
    digest's slot comes without waiting for it)."""
    from alerts import deliver, match_stage, outbox, schema
    from alerts.stages import compile_matcher
    from scheduler import load_config

    cfg = load_config(config)
    db = schema.open_archive(cfg.archive.path)
    try:
        match_stage.match_pending(db, compile_matcher(cfg))
        outbox.enqueue(db, cfg.watches, cfg.targets, now=enqueue_at)
        deliver.deliver_due(db, cfg.watches, cfg.targets, cfg.delivery, now=deliver_at)
    finally:
        db.close()


def test_an_updated_full_text_article_is_fetched_again_versioned_and_told(
    world, run_newswatch, tmp_path
):
    server, mail, config, base = world
    now = datetime.now(UTC)
    proc = run_newswatch("crawl", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    # the first digest goes out (its 08:00 slot has come a day later)
    _process(config, enqueue_at=now - timedelta(hours=36), deliver_at=now - timedelta(hours=12))
    assert mail.mailbox.wait_for(1, timeout=30)

    # the same entries in a changed feed body (whitespace): the known article is not fetched again
    pages_before = server.hits("/news/raid")
    server.add(
        "/feed.xml",
        content_type="application/rss+xml",
        body=_feed(
            base, title="Raid in Baku", summary="Twelve freed.", updated="2026-11-23T08:00:00Z"
        )
        + " ",
    )
    assert run_newswatch("crawl", "--config", str(config)).returncode == 0
    assert server.hits("/news/raid") == pages_before

    # the publisher updates the story: a newer updated date and summary, more text
    server.add("/news/raid", content_type="text/html", body=_page("Raid in Baku", SECOND))
    server.add(
        "/feed.xml",
        content_type="application/rss+xml",
        body=_feed(
            base,
            title="Raid in Baku: five charged",
            summary="Twelve freed; five charged.",
            updated="2026-11-24T09:30:00Z",
        ),
    )
    proc = run_newswatch("crawl", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    assert server.hits("/news/raid") == pages_before + 1
    assert server.hits("/news/weather") == 1  # unchanged entries are not fetched again

    db = archive.open_archive(tmp_path / "archive.db")
    article = next(db.query("SELECT * FROM articles WHERE url LIKE '%/news/raid'"))
    assert "prosecutors charged five men" in article["text"]
    assert article["matched_at"] is None  # to be matched again
    versions = list(
        db.query("SELECT * FROM article_versions WHERE article_id = ?", [article["id"]])
    )
    assert len(versions) == 1 and "prosecutors" not in versions[0]["text"]
    last = next(db.query("SELECT items_updated FROM fetches ORDER BY id DESC LIMIT 1"))
    assert last["items_updated"] == 1  # the updates count, per source, in the fetch outcome
    db.close()

    # re-matched, and the next digest tells of the update
    _process(config, enqueue_at=now, deliver_at=now + timedelta(days=1))
    assert mail.mailbox.wait_for(2, timeout=30)
    body = mail.mailbox.bodies("plain")[1]
    assert "Updated since last sent" in body and "five charged" in body

    # a fourth crawl of the same updated feed fetches nothing again
    server.add(
        "/feed.xml",
        content_type="application/rss+xml",
        body=_feed(
            base,
            title="Raid in Baku: five charged",
            summary="Twelve freed;  five charged.",
            updated="2026-11-24T09:30:00Z",
        ),
    )
    assert run_newswatch("crawl", "--config", str(config)).returncode == 0
    assert server.hits("/news/raid") == pages_before + 1


@pytest.mark.parametrize("recheck", [None, "1d"])
def test_a_listing_rechecks_young_articles_only_when_asked(recheck, tmp_path, run_newswatch):
    server = LocalServer().start()
    try:
        listing = "<html><body><ul><li><a class='story' href='/news/raid'>Raid</a></li></ul></body></html>"
        server.add("/news/", content_type="text/html", body=listing)
        server.add("/news/raid", content_type="text/html", body=_page("Raid in Baku", FIRST))
        config = tmp_path / "newswatch.toml"
        config.write_text(
            f"[archive]\npath = '{tmp_path / 'archive.db'}'\n"
            "[crawl]\nallow_private_addresses = true\n"
            + (f"recheck_younger_than = '{recheck}'\n" if recheck else "")
            + f"[[sources]]\nname = 'listing'\nkind = 'html'\nurl = '{server.url('/news/')}'\n"
            "links = 'a.story'\n",
            encoding="utf-8",
        )
        assert run_newswatch("crawl", "--config", str(config)).returncode == 0
        server.add("/news/raid", content_type="text/html", body=_page("Raid in Baku", SECOND))
        assert run_newswatch("crawl", "--config", str(config)).returncode == 0
        db = archive.open_archive(tmp_path / "archive.db")
        versions = db.execute("SELECT count(*) FROM article_versions").fetchone()[0]
        db.close()
        # off by default: a known page is not read again; with it, the update is kept
        assert server.hits("/news/raid") == (2 if recheck else 1)
        assert versions == (1 if recheck else 0)
    finally:
        server.stop()
