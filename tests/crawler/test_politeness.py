"""Politeness without dead time (issue 16): a real `newswatch crawl` with the shipped
politeness settings (AutoThrottle on, 2 requests per host, robots.txt obeyed) against a
local server on several loopback addresses that records, per host, every request and how
many were in flight at once (tests/support/multihost.py).

Per host: never more than ``concurrency_per_domain`` at once, robots.txt asked for once and
obeyed, Retry-After waited for, a slow host's pages spaced out by AutoThrottle. Across hosts:
no idle time, the feed follows its host's robots.txt without AutoThrottle's start delay, a
second crawl (another process) asks for no robots.txt.
"""

from __future__ import annotations

import pytest
from support.multihost import MultiHostServer

from crawler import archive

SLOW, BUSY = 0, 1
FAST = [2, 3, 4, 5]
SLOW_PAGE_S = 0.4  # the slow host's answer time for each article page
START_DELAY_S = 1.0  # AutoThrottle's start delay in crawler/settings.py


def _rss(server: MultiHostServer, host: int, paths: list[str]) -> str:
    items = "".join(
        f"<item><title>Story {p}</title><link>{server.url(host, p)}</link><guid>{host}{p}</guid>"
        f"<description>About {p}.</description></item>"
        for p in paths
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>h{host}</title>{items}</channel></rss>'


def _page(host: int, path: str) -> str:
    words = f"Host {host} reports {path} in detail with many words about the event. " * 12
    return f"<html><head><title>{path}</title></head><body><article><p>{words}</p></article></body></html>"


@pytest.fixture
def site():
    server = MultiHostServer(6).start()
    slow_pages = [f"/a{i}" for i in range(6)]
    server.add(SLOW, "/robots.txt", "User-agent: *\nDisallow: /private/\n")
    server.add(SLOW, "/feed.xml", _rss(server, SLOW, [*slow_pages, "/private/secret"]))
    for p in [*slow_pages, "/private/secret"]:
        server.add(SLOW, p, _page(SLOW, p), delay=SLOW_PAGE_S)
    server.add(
        BUSY,
        "/feed.xml",
        "busy",
        status=503,
        headers={"Retry-After": "1"},
        then=[(200, _rss(server, BUSY, []), {})],
    )
    for host in FAST:
        pages = [f"/n{i}" for i in range(3)]
        server.add(host, "/feed.xml", _rss(server, host, pages))
        for p in pages:
            server.add(host, p, _page(host, p))
    yield server
    server.stop()


def _config(tmp_path, server: MultiHostServer) -> str:
    text = (
        f"[archive]\npath = '{tmp_path / 'a.db'}'\n"
        # the shipped politeness (127.0.0.x is a private address)
        "[crawl]\nallow_private_addresses = true\n"
    )
    for host in range(len(server.hosts)):
        full = "false" if host == BUSY else "true"
        text += (
            f"[[sources]]\nname = 'h{host}'\nkind = 'feed'\nurl = '{server.url(host, '/feed.xml')}'\n"
            f"full_text = {full}\n"
        )
    path = tmp_path / "newswatch.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_politeness_per_host_without_idle_time_across_hosts(site, tmp_path, run_newswatch):
    config = _config(tmp_path, site)
    proc = run_newswatch("crawl", "--config", config)
    assert proc.returncode == 0, proc.stderr

    for host in range(len(site.hosts)):
        # per host: never more than concurrency_per_domain (2) at once, robots.txt first
        assert site.max_active(host) <= 2, (host, site.log(host))
        paths = site.paths(host)
        assert paths[0] == "/robots.txt" and paths.count("/robots.txt") == 1, paths
    assert "/private/secret" not in site.paths(SLOW)  # robots.txt obeyed
    assert len([p for p in site.paths(SLOW) if p.startswith("/a")]) == 6

    # the feed follows its host's robots.txt at once, not after AutoThrottle's start delay
    for host in [SLOW, *FAST]:
        robots, feed = site.log(host)[:2]
        assert feed.path == "/feed.xml"
        assert feed.start - robots.end < START_DELAY_S * 0.9, (host, site.log(host))

    # Retry-After: the busy host's feed was asked for again only after the second it asked
    busy = [h for h in site.log(BUSY) if h.path == "/feed.xml"]
    assert len(busy) == 2 and busy[1].start - busy[0].end >= 1.0

    # AutoThrottle slows the slow host: its pages are spaced by at least about half their
    # answer time (latency / target concurrency 2, less the 10% jitter)
    slow = [h for h in site.log(SLOW) if h.path.startswith("/a")]
    gaps = [b.start - a.start for a, b in zip(slow, slow[1:], strict=False)]
    assert min(gaps) >= SLOW_PAGE_S / 2 * 0.85, gaps

    db = archive.open_archive(tmp_path / "a.db")
    assert db.execute("SELECT count(*) FROM robots").fetchone()[0] == len(site.hosts)
    db.close()

    # a second crawl, another process: robots.txt comes from the archive
    proc = run_newswatch("crawl", "--config", config)
    assert proc.returncode == 0, proc.stderr
    for host in range(len(site.hosts)):
        assert site.paths(host).count("/robots.txt") == 1, site.paths(host)


# ---------------------------------------------------------------- delayed hosts, global limit

RETRY_AFTER_S = 3  # what the delayed hosts ask for


@pytest.fixture
def delayed_site():
    """Two hosts whose feed first answers 503 with Retry-After (their retries wait, parked),
    then four hosts that answer at once."""
    server = MultiHostServer(6).start()
    for host in (0, 1):
        server.add(
            host,
            "/feed.xml",
            "busy",
            status=503,
            headers={"Retry-After": str(RETRY_AFTER_S)},
            then=[(200, _rss(server, host, ["/d1"]), {})],
        )
    for host in range(2, 6):
        server.add(host, "/feed.xml", _rss(server, host, ["/n1", "/n2"]))
    yield server
    server.stop()


def test_delayed_requests_hold_no_global_slot(delayed_site, tmp_path, run_newswatch):
    """A request waiting out its host's Retry-After does not count against the crawl's
    concurrency: with room for 2 downloads at once and 2 hosts each parking a retry, the
    other hosts are all collected while those retries wait (with Scrapy's own downloader
    the 2 parked retries held both places until they ran)."""
    site = delayed_site
    text = (
        f"[archive]\npath = '{tmp_path / 'a.db'}'\n"
        # the shipped politeness, with a global limit the two delayed hosts could fill
        "[crawl]\nallow_private_addresses = true\nconcurrency = 2\n"
    )
    for host in range(len(site.hosts)):  # the delayed hosts first: they are asked first
        text += (
            f"[[sources]]\nname = 'h{host}'\nkind = 'feed'\nurl = '{site.url(host, '/feed.xml')}'\n"
        )
    config = tmp_path / "newswatch.toml"
    config.write_text(text, encoding="utf-8")

    proc = run_newswatch("crawl", "--config", str(config))
    assert proc.returncode == 0, proc.stderr

    first_retry = None
    for host in (0, 1):
        feeds = [h for h in site.log(host) if h.path == "/feed.xml"]
        assert len(feeds) == 2, site.log(host)  # the 503, then the retry after Retry-After
        first_retry = min(first_retry or feeds[1].start, feeds[1].start)
    for host in range(2, 6):
        feeds = [h for h in site.log(host) if h.path == "/feed.xml"]
        assert len(feeds) == 1 and site.max_active(host) <= 2, site.log(host)
        # answered while the delayed hosts' retries were still waiting
        assert feeds[0].end < first_retry, (host, site.log(host), first_retry)

    db = archive.open_archive(tmp_path / "a.db")
    stored = dict(db.execute("SELECT source, count(*) FROM articles GROUP BY source").fetchall())
    db.close()
    assert stored == {"h0": 1, "h1": 1, "h2": 2, "h3": 2, "h4": 2, "h5": 2}
