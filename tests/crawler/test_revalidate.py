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
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

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
            # "unchecked": a source the config validator would refuse (a bad URL)
            make = Source.model_construct if crawl.get("unchecked") else Source
            sources = [make(**s) for s in crawl["sources"]]
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
def test_several_feeds_on_one_host_go_through_scrapy_spaced_as_before(hosts, tmp_path):
    """The pass asks only a host with one due source: six feeds on one host are Scrapy's,
    whose slot spaces them by AutoThrottle's start delay (1 s), not asked at once."""
    paths = [f"/feed{i}.xml" for i in range(6)]
    for p in paths:
        _unchanged(hosts, 0, p)
    sources = [feed(f"f{i}", hosts.url(0, p), obey_robots=False) for i, p in enumerate(paths)]
    first, second = crawl(tmp_path, [{"settings": SHIPPED, "sources": sources}] * 2)
    assert sorted(second["scrapy"]) == [f"f{i}" for i in range(6)]
    assert all(r["status"] == "not_modified" for r in second["results"].values())
    gaps = hosts.gaps(0)[6:]  # the second crawl's requests
    assert len(gaps) == 5 and min(gaps) > 0.5, gaps  # 1 s, less the 10% jitter, and slack


@pytest.mark.slow  # a real process
def test_a_changed_feeds_articles_wait_the_hosts_delay_after_the_pass(hosts, tmp_path):
    """The pass's answer enters Scrapy through the host's download slot: the changed feed's
    new article is requested the slot's delay after the pass's request, not right after."""
    base = hosts.url(0, "")
    hosts.add(
        0,
        "/feed.xml",
        rss(base, "a"),
        headers={"ETag": '"v1"', **XML},
        then=[(200, rss(base, "a", "b"), {"ETag": '"v2"', **XML})],
    )
    for name in "ab":
        page = f"<html><body><article><p>Story {name}, in many words. " * 20 + "</article>"
        hosts.add(0, f"/{name}", page, headers={"Content-Type": "text/html"})
    source = feed("changed", hosts.url(0, "/feed.xml"), obey_robots=False, full_text=True)
    settings = {**SHIPPED, "concurrency_per_domain": 1}
    first, second = crawl(tmp_path, [{"settings": settings, "sources": [source]}] * 2)
    assert second["scrapy"] == ["changed"] and second["results"]["changed"]["items_new"] == 1
    assert hosts.paths(0) == ["/feed.xml", "/a", "/feed.xml", "/b"], hosts.paths(0)
    # AutoThrottle's delay after the feed's answer is about (1 s + its latency) / 2
    assert hosts.gaps(0)[2] > 0.4, hosts.gaps(0)


def _hanging(server: MultiHostServer, host: int, seconds: float) -> None:
    """A feed that answers its first request at once (an ETag kept), every later one only
    after ``seconds``."""
    etag = {"ETag": '"hang"', **XML}
    server.add(host, "/feed.xml", rss(server.url(host), "h"), headers=etag)
    page = server.pages[(host, "/feed.xml")]
    page.answers.append((304, b"", etag, seconds))


@pytest.mark.slow  # a real process
def test_a_hanging_host_does_not_hold_back_the_crawl(hosts, tmp_path):
    """The pass has a deadline of its own: a feed host that hangs (here: answers just
    before download_timeout) is left to Scrapy, and a healthy source's request is sent
    while the hanging one is still held open."""
    _hanging(hosts, 0, 8.0)
    hosts.add(1, "/news", '<html><body><a href="/n1">one</a></body></html>')
    hosts.add(1, "/n1", "<html><body><article><p>One, in many words.</p></article></body>")
    sources = [
        feed("hang", hosts.url(0, "/feed.xml"), obey_robots=False),
        {"name": "page", "kind": "html", "url": hosts.url(1, "/news"), "links": "a"},
    ]
    settings = {**SHIPPED, "download_timeout": "10s", "obey_robots": False}
    first, second = crawl(tmp_path, [{"settings": settings, "sources": sources}] * 2)
    assert second["results"]["page"]["status"] in ("ok", "not_modified"), second["results"]
    assert second["results"]["hang"]["status"] == "not_modified", second["results"]["hang"]
    held = hosts.log(0)[1]  # the pass's request, answered after 8 s
    listing = hosts.log(1)[2]  # the second crawl's request for /news
    assert listing.path == "/news"
    assert listing.start < held.end, (listing, held)
    assert hosts.paths(0) == ["/feed.xml"] * 3  # the pass's request, then Scrapy's own


STOP_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from crawler import runner
    from crawler.config import CrawlSettings, Source

    spec = json.loads(sys.argv[1])
    settings = CrawlSettings(**spec["settings"])
    sources = [Source(**s) for s in spec["sources"]]
    try:
        results, stopped = runner.run_crawl(settings, sources, spec["archive"]), False
    except runner.CrawlInterrupted as e:
        results, stopped = e.results, True
    print(json.dumps({"stopped": stopped, "results": {r.name: vars(r) for r in results}}))
    """
)


@pytest.mark.slow  # a real process, stopped by SIGTERM
def test_a_stop_during_the_pass_returns_without_waiting_for_its_requests(hosts, tmp_path):
    """SIGTERM while the pass waits for a slow host: the crawl returns at once, the
    unchanged feed the pass recorded is kept, the unanswered one is interrupted."""
    _hanging(hosts, 0, 20.0)  # answers well within download_timeout (30 s)
    _unchanged(hosts, 1)
    sources = [
        feed("slow", hosts.url(0, "/feed.xml"), obey_robots=False),
        feed("same", hosts.url(1, "/feed.xml"), obey_robots=False),
    ]
    settings = {**SHIPPED, "download_timeout": "30s"}
    crawl(tmp_path, [{"settings": settings, "sources": sources}])
    spec = {"archive": str(tmp_path / "a.db"), "settings": settings, "sources": sources}
    proc = subprocess.Popen(
        [sys.executable, "-c", STOP_SCRIPT, json.dumps(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        # the pass's two requests: the unchanged one answered, the slow one held open
        while not (len(hosts.log(0)) == 2 and len(hosts.log(1)) == 2 and hosts.log(1)[1].end):
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        time.sleep(0.3)  # the 304 read and recorded
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert hosts.log(0)[1].end == 0.0  # returned while the slow request was still held
    assert proc.returncode == 0, err[-3000:]
    result = json.loads(out.strip().splitlines()[-1])
    assert result["stopped"] is True
    slow, same = result["results"]["slow"], result["results"]["same"]
    assert (slow["status"], slow["error_class"]) == ("interrupted", "interrupted"), slow
    assert same["status"] == "not_modified", same
    assert len(hosts.log(0)) == 2  # Scrapy never started
    db = sqlite3.connect(tmp_path / "a.db")
    rows = dict(db.execute("SELECT source, error_class FROM fetches WHERE not_modified = 1"))
    assert rows == {"same": None}, rows
    query = "SELECT error_class FROM fetches WHERE source = 'slow' ORDER BY id DESC"
    assert db.execute(query).fetchone() == ("interrupted",)


@pytest.mark.slow  # a real process
@pytest.mark.parametrize("bad", ["http://127.0.0.2:99999/feed.xml", "http://[::1/feed.xml"])
def test_a_source_url_the_pass_cannot_read_is_left_to_the_crawl(hosts, tmp_path, bad):
    """A bad URL (refused by the config validator, but a crawl may be given one) with kept
    validators: the crawl records that source's failure and the others as usual."""
    _unchanged(hosts, 0)
    _unchanged(hosts, 1)
    sources = [feed("bad", hosts.url(0, "/feed.xml")), feed("good", hosts.url(1, "/feed.xml"))]
    sources = [{**s, "obey_robots": False} for s in sources]
    later = [{**sources[0], "url": bad}, sources[1]]
    first, second = crawl(
        tmp_path,
        [
            {"settings": SHIPPED, "sources": sources},  # stores both sources' validators
            {"settings": SHIPPED, "sources": later, "unchecked": True},
        ],
    )
    assert second["results"]["good"]["status"] == "not_modified", second["results"]
    bad_result = second["results"]["bad"]
    assert bad_result["status"] == "error", bad_result
    assert "the source URL cannot be read" in bad_result["error"], bad_result
    assert hosts.paths(0) == ["/feed.xml"]  # nothing sent for the bad one


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
