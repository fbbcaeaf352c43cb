"""Host names in a crawl are resolved once for the private-address guard and the connection
(the connection goes to the addresses the guard checked), and a host written as an address
needs no lookup: no thread of the reactor's pool is started for it (crawler/resolver.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from conftest import REPO
from twisted.internet.address import IPv4Address, IPv6Address

from crawler.resolver import AddressCache, CachingResolver, literal_address

RSS = "application/rss+xml"
FEED = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>One</title>'
    "<link>http://news.example{guid}</link><guid>{guid}</guid></item></channel></rss>"
)
# A name no resolver knows (.test is reserved): reachable only through the cache.
NAME = "feeds.newswatch.test"

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from crawler.runner import install_asyncio_reactor
    install_asyncio_reactor()
    from twisted.internet import reactor
    from scrapy.utils.defer import deferred_from_coro
    from crawler.config import CrawlSettings, Source
    from crawler.resolver import ADDRESSES
    from crawler.runner import crawl_sources

    port, archive, name = sys.argv[1], sys.argv[2], sys.argv[3]
    out = {}

    def source(host, path):
        return Source(name=path.strip("/.xml"), kind="feed", url=f"http://{host}:{port}{path}")

    async def main():
        fast = dict(autothrottle=False, obey_robots=False, download_timeout="5s")
        # literal addresses: answered without a lookup, so no thread pool is ever made
        lit = await crawl_sources(
            CrawlSettings(**fast, allow_private_addresses=True),
            [source("127.0.0.1", "/a.xml"), source("127.0.0.1", "/b.xml")], archive)
        out["literal"] = [r.status for r in lit]
        out["thread_pool_after_literal"] = reactor.threadpool is not None
        # a name unknown to DNS, kept in the cache as a loopback address
        unknown = await crawl_sources(
            CrawlSettings(**fast, allow_private_addresses=True),
            [source(name, "/c.xml")], archive)
        out["unknown"] = [r.error_class for r in unknown]
        ADDRESSES.put(name, ["127.0.0.1"])
        cached = await crawl_sources(
            CrawlSettings(**fast, allow_private_addresses=True),
            [source(name, "/d.xml")], archive)
        out["cached"] = [(r.status, r.items_new) for r in cached]
        guarded = await crawl_sources(
            CrawlSettings(**fast), [source(name, "/e.xml")], archive)
        out["guarded"] = [(r.error_class, r.error) for r in guarded]

    def done(result):
        out["failure"] = None if result is None else str(result)
        reactor.stop()

    reactor.callWhenRunning(lambda: deferred_from_coro(main()).addBoth(done))
    reactor.run()
    print(json.dumps(out))
    """
)


@pytest.mark.slow  # a real process (one reactor)
def test_connections_use_the_addresses_resolved_once(news_site, tmp_path):
    for path in ("/a.xml", "/b.xml", "/c.xml", "/d.xml", "/e.xml"):
        news_site.add(path, body=FEED.format(guid=path), content_type=RSS)
    port = news_site.url("/").split(":")[2].split("/")[0]
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, port, str(tmp_path / "a.db"), NAME],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["failure"] is None, out["failure"]
    assert out["literal"] == ["ok", "ok"]
    assert out["thread_pool_after_literal"] is False  # no lookup went to a thread
    assert out["unknown"] == ["dns"]  # (the name really is unknown)
    assert out["cached"] == [["ok", 1]]  # connected to the address kept for the name
    # the guard reads the same addresses: a private one is refused before any connection
    ((error_class, message),) = out["guarded"]
    assert error_class == "private_address_refused" and "127.0.0.1" in message
    assert news_site.hits("/c.xml") == 0 and news_site.hits("/e.xml") == 0
    assert news_site.hits("/d.xml") == 1


class Receiver:
    def __init__(self):
        self.began = self.complete = False
        self.addresses = []

    def resolutionBegan(self, resolution):  # noqa: N802
        self.began = True

    def addressResolved(self, address):  # noqa: N802
        self.addresses.append(address)

    def resolutionComplete(self):  # noqa: N802
        self.complete = True


class Refusing:
    """A fallback resolver that must not be asked."""

    def resolveHostName(self, *args, **kwargs):  # noqa: N802
        raise AssertionError("asked the fallback resolver")


@pytest.mark.parametrize(
    ("host", "expected"),
    [("192.0.2.7", IPv4Address("TCP", "192.0.2.7", 80)), ("::1", IPv6Address("TCP", "::1", 80))],
)
def test_a_literal_address_is_answered_at_once(host, expected):
    receiver = Receiver()
    CachingResolver(Refusing(), AddressCache()).resolveHostName(receiver, host, 80)
    assert receiver.began and receiver.complete
    assert receiver.addresses == [expected]


def test_the_cached_addresses_of_a_name_filtered_by_type():
    cache = AddressCache()
    cache.put("news.example", ["192.0.2.1", "2001:db8::1"])
    receiver = Receiver()
    CachingResolver(Refusing(), cache).resolveHostName(
        receiver, "News.Example", 443, addressTypes=[IPv4Address]
    )
    assert receiver.complete and receiver.addresses == [IPv4Address("TCP", "192.0.2.1", 443)]


def test_names_expire_and_failures_are_not_kept():
    now = [0.0]
    cache = AddressCache(ttl=300, clock=lambda: now[0])
    cache.put("news.example", ["192.0.2.1"])
    cache.put("gone.example", [])
    assert cache.get("news.example") == ["192.0.2.1"]
    assert cache.get("gone.example") is None
    now[0] = 299.0
    assert cache.get("news.example") == ["192.0.2.1"]
    now[0] = 300.0
    assert cache.get("news.example") is None


@pytest.mark.parametrize(
    ("host", "literal"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "::1"),
        ("news.example", None),
        ("127.1", None),
        ("2130706433", None),
        ("fe80::1%eth0", None),
        ("", None),
    ],
)
def test_only_plain_addresses_skip_the_lookup(host, literal):
    # other numeric forms are left to getaddrinfo, which reads them as the guard does
    assert literal_address(host) == literal
