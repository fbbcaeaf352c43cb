"""The revalidation pass before the Scrapy crawl (crawler/revalidate.py): an unchanged feed
is asked once and recorded as unchanged without a Scrapy crawl; any other answer is used by
Scrapy without a second request (a changed feed is stored, a 503 with Retry-After planned as
before); robots.txt, the private-address check and per-host concurrency hold as in Scrapy.

Each test runs its crawls in a real process (one asyncio reactor, as the daemon) against
local servers on loopback addresses (tests/support/multihost.py) or, for host names, a
LocalServer reached through a hosts file the reactor resolves from."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest
from conftest import REPO
from support.httpserver import LocalServer
from support.multihost import MultiHostServer

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from crawler.runner import install_asyncio_reactor
    install_asyncio_reactor()
    from twisted.internet import reactor
    from scrapy.utils.defer import deferred_from_coro
    from crawler import runner
    from crawler.config import CrawlSettings, Source

    spec = json.loads(sys.argv[1])
    if spec.get("hosts_file"):
        from twisted.names import hosts
        reactor.installResolver(hosts.Resolver(file=spec["hosts_file"].encode()))
    scrapy_crawls = []  # the sources each Scrapy crawl was given (counted, not changed)
    run_spiders = runner._run_spiders

    async def counted(settings, sources, *args, **kw):
        scrapy_crawls[-1].extend(s.name for s in sources)
        return await run_spiders(settings, sources, *args, **kw)

    runner._run_spiders = counted
    out = {"crawls": []}

    async def main():
        for crawl in spec["crawls"]:
            scrapy_crawls.append([])
            settings = CrawlSettings(**crawl["settings"])
            sources = [Source(**s) for s in crawl["sources"]]
            results = await runner.crawl_sources(settings, sources, spec["archive"])
            out["crawls"].append({"scrapy": scrapy_crawls[-1],
                                  "results": {r.name: vars(r) for r in results}})

    def done(result):
        out["failure"] = None if result is None else str(result)
        reactor.stop()

    reactor.callWhenRunning(lambda: deferred_from_coro(main()).addBoth(done))
    reactor.run()
    print(json.dumps(out))
    """
)

XML = {"Content-Type": "application/rss+xml"}
RSS = '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'


def rss(base: str, *names: str) -> str:
    return RSS.format(
        items="".join(
            f"<item><title>Story {n}</title><link>{base}/{n}</link><guid>{base}/{n}</guid>"
            f"<description>About {n}, with some words.</description></item>"
            for n in names
        )
    )


def crawl(
    tmp_path, crawls: list[dict], hosts_file: str | None = None, env: dict | None = None
) -> list[dict]:
    spec = {"archive": str(tmp_path / "a.db"), "crawls": crawls, "hosts_file": hosts_file}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["failure"] is None, out["failure"]
    return out["crawls"]


def feed(name: str, url: str, **kw) -> dict:
    return {"name": name, "kind": "feed", "url": url, **kw}


# the shipped politeness (AutoThrottle on, 2 per host, robots.txt obeyed); 127.0.0.x is private
SHIPPED = {"allow_private_addresses": True, "download_timeout": "10s"}


@pytest.fixture
def hosts():
    server = MultiHostServer(3).start()
    yield server
    server.stop()


def _unchanged(server: MultiHostServer, host: int, path: str = "/feed.xml", delay=0.0) -> None:
    body = rss(server.url(host), f"h{host}{path.strip('/')}")
    etag = {"ETag": f'"{host}{path}"'}
    server.add(host, path, body, headers={**etag, **XML}, delay=delay, then=[(304, b"", etag)])


@pytest.mark.slow  # a real process
def test_unchanged_feeds_are_asked_once_each_and_never_enter_scrapy(hosts, tmp_path):
    for h in range(3):
        hosts.add(h, "/robots.txt", "User-agent: *\nDisallow: /private/\n")
        _unchanged(hosts, h)
    sources = [feed(f"f{h}", hosts.url(h, "/feed.xml")) for h in range(3)]
    first, second = crawl(tmp_path, [{"settings": SHIPPED, "sources": sources}] * 2)
    assert sorted(first["scrapy"]) == ["f0", "f1", "f2"]
    assert second["scrapy"] == []  # no Scrapy crawl at all
    for h in range(3):
        # crawl 1: robots.txt and the feed; crawl 2: the feed once (robots.txt was kept)
        assert hosts.paths(h) == ["/robots.txt", "/feed.xml", "/feed.xml"], hosts.paths(h)
        r = second["results"][f"f{h}"]
        # as the feed spider records a 304
        assert (r["status"], r["http_status"], r["not_modified"]) == ("not_modified", 304, True)
        assert (r["error_class"], r["items_seen"], r["items_new"]) == (None, 0, 0)
    db = sqlite3.connect(tmp_path / "a.db")
    rows = db.execute(
        "SELECT s.last_status, s.consecutive_failures, s.etag, f.not_modified, f.status"
        " FROM sources s JOIN fetches f ON f.source = s.name"
        " WHERE f.rowid = (SELECT max(rowid) FROM fetches WHERE source = s.name)"
    ).fetchall()
    assert sorted(rows) == [(304, 0, f'"{h}/feed.xml"', 1, 304) for h in range(3)]


@pytest.mark.slow  # a real process
def test_the_pass_sends_the_request_scrapy_sends(tmp_path):
    server = LocalServer().start()
    try:
        server.add("/robots.txt", body="User-agent: *\nAllow: /\n")
        server.add(
            "/feed.xml",
            body=rss(server.url(""), "a"),
            etag='"v1"',
            content_type=XML["Content-Type"],
        )
        source = feed("f", server.url("/feed.xml"))
        first, second = crawl(tmp_path, [{"settings": SHIPPED, "sources": [source]}] * 2)
        assert second["scrapy"] == [] and second["results"]["f"]["status"] == "not_modified"
        feeds = [h for _m, p, h in server.requests if p == "/feed.xml"]
        assert len(feeds) == 2
        by_scrapy, by_pass = ({k.lower(): v for k, v in h.items()} for h in feeds)
        assert by_pass.pop("if-none-match") == '"v1"'
        for name in ("connection",):  # the pass closes its connection, Scrapy keeps it open
            by_scrapy.pop(name, None), by_pass.pop(name, None)
        assert by_pass == by_scrapy
    finally:
        server.stop()


@pytest.mark.slow  # a real process
def test_a_changed_feed_is_requested_once_and_its_new_items_stored(hosts, tmp_path):
    base = hosts.url(0)
    hosts.add(
        0,
        "/feed.xml",
        rss(base, "a"),
        headers={"ETag": '"v1"', **XML},
        then=[(200, rss(base, "a", "b"), {"ETag": '"v2"', **XML})],
    )
    _unchanged(hosts, 1)
    sources = [feed("changed", hosts.url(0, "/feed.xml")), feed("same", hosts.url(1, "/feed.xml"))]
    first, second = crawl(tmp_path, [{"settings": SHIPPED, "sources": sources}] * 2)
    assert second["scrapy"] == ["changed"]  # the unchanged one stayed out of Scrapy
    assert hosts.paths(0).count("/feed.xml") == 2  # once per crawl: the answer was reused
    r = second["results"]["changed"]
    assert (r["status"], r["http_status"], r["items_new"]) == ("ok", 200, 1), r
    db = sqlite3.connect(tmp_path / "a.db")
    assert db.execute("SELECT etag FROM sources WHERE name = 'changed'").fetchone() == ('"v2"',)
    titles = {t for (t,) in db.execute("SELECT title FROM articles WHERE source = 'changed'")}
    assert titles == {"Story a", "Story b"}


@pytest.mark.slow  # a real process
def test_a_503_with_retry_after_is_planned_as_before_with_one_request(hosts, tmp_path):
    hosts.add(
        0,
        "/feed.xml",
        rss(hosts.url(0), "a"),
        headers={"ETag": '"v1"', **XML},
        then=[(503, b"busy", {"Retry-After": "3600"})],
    )
    source = feed("busy", hosts.url(0, "/feed.xml"))
    first, second = crawl(tmp_path, [{"settings": SHIPPED, "sources": [source]}] * 2)
    assert hosts.paths(0).count("/feed.xml") == 2  # one request in the second crawl
    r = second["results"]["busy"]
    assert (r["status"], r["error_class"], r["retry_after"]) == ("error", "http_5xx", 3600.0), r
    db = sqlite3.connect(tmp_path / "a.db")
    retry_at, failures = db.execute(
        "SELECT retry_at, consecutive_failures FROM sources WHERE name = 'busy'"
    ).fetchone()
    assert retry_at is not None and failures == 1


@pytest.mark.slow  # a real process
def test_robots_disallow_is_never_requested(hosts, tmp_path):
    hosts.add(0, "/robots.txt", "User-agent: *\nDisallow: /feed.xml\n")
    _unchanged(hosts, 0)
    ignoring = feed("f", hosts.url(0, "/feed.xml"), obey_robots=False)
    obeying = feed("f", hosts.url(0, "/feed.xml"))
    crawls = crawl(
        tmp_path,
        [
            {"settings": SHIPPED, "sources": [ignoring]},  # stores the validators
            {"settings": SHIPPED, "sources": [obeying]},  # robots.txt not known yet
            {"settings": SHIPPED, "sources": [obeying]},  # known, and kept: disallowed
        ],
    )
    assert hosts.paths(0) == ["/feed.xml", "/robots.txt"], hosts.paths(0)
    for c in crawls[1:]:
        assert c["results"]["f"]["error_class"] == "robots_denied", c


@pytest.mark.slow  # a real process
def test_at_most_concurrency_per_domain_requests_per_host(hosts, tmp_path):
    paths = [f"/feed{i}.xml" for i in range(6)]
    for p in paths:
        _unchanged(hosts, 0, p, delay=0.3)
    sources = [feed(f"f{i}", hosts.url(0, p), obey_robots=False) for i, p in enumerate(paths)]
    settings = {**SHIPPED, "concurrency_per_domain": 2}
    first, second = crawl(tmp_path, [{"settings": settings, "sources": sources}] * 2)
    assert second["scrapy"] == []
    assert all(r["status"] == "not_modified" for r in second["results"].values())
    assert len(hosts.log(0)) == 12
    assert hosts.max_active(0) <= 2


@pytest.mark.slow  # a real process (one reactor, its own resolver)
def test_a_private_address_is_refused_as_before_and_nothing_reaches_it(tmp_path):
    """A source allowed private addresses in the first crawl and not in the second: the
    connection's own resolution (a hosts file) gives a private address, so the second crawl
    refuses it (private_address_refused) and sends nothing, although validators are kept."""
    server = LocalServer().start()
    try:
        server.add("/robots.txt", body="User-agent: *\nAllow: /\n")
        server.add(
            "/feed.xml",
            body=rss(server.url(""), "a"),
            etag='"v1"',
            content_type=XML["Content-Type"],
        )
        hosts_file = tmp_path / "hosts"
        hosts_file.write_text("127.0.0.1 feeds.revalidate.test\n")
        url = f"http://feeds.revalidate.test:{server.port}/feed.xml"
        settings = {"download_timeout": "5s", "autothrottle": False, "retries": 0}
        first, second = crawl(
            tmp_path,
            [
                {"settings": settings, "sources": [feed("f", url, allow_private_addresses=True)]},
                {"settings": settings, "sources": [feed("f", url)]},
            ],
            hosts_file=str(hosts_file),
        )
        assert first["results"]["f"]["status"] == "ok"
        assert server.hits("/feed.xml") == 1  # nothing in the second crawl
        r = second["results"]["f"]
        assert (r["status"], r["error_class"]) == ("error", "private_address_refused"), r
        assert "127.0.0.1" in r["error"]
    finally:
        server.stop()


@pytest.mark.slow  # a real process
def test_a_proxy_in_the_environment_leaves_every_source_to_scrapy(hosts, tmp_path):
    _unchanged(hosts, 0)
    source = feed("f", hosts.url(0, "/feed.xml"), obey_robots=False)
    first = crawl(tmp_path, [{"settings": SHIPPED, "sources": [source]}])[0]
    assert first["results"]["f"]["status"] == "ok"
    # the proxy is the host itself: a request through it has the whole URL as its path
    proxy = {"http_proxy": hosts.url(0), "no_proxy": ""}
    second = crawl(tmp_path, [{"settings": SHIPPED, "sources": [source]}], env=proxy)[0]
    assert second["scrapy"] == ["f"]
    assert hosts.paths(0) == ["/feed.xml", source["url"]]  # no direct request from the pass
