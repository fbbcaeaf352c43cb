"""The private-address check is made on the addresses a connection really uses
(crawler/resolver.py): a host name that the guard could not check, or that resolved to a
public address for it, gets no request when the connection's own resolution gives a
private address; permission is per source (redirects included) and ends with its crawl.

The crawl runs in its own process, whose reactor resolves host names from a hosts file
(Twisted's own hosts-file resolver, standing in for a DNS server that answers the
connection differently from the guard: ``getaddrinfo`` here does not know these names)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from conftest import REPO
from support.httpserver import LocalServer, Reply
from twisted.internet.address import IPv4Address

RSS = "application/rss+xml"
FEED = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>{title}'
    "</title><link>http://news.example/{title}</link><guid>{title}</guid></item></channel></rss>"
)
# Names no DNS knows (.test is reserved): only the crawl's hosts file has them.
NAMES = ("feeds.rebind.test", "allowed.rebind.test", "hop.rebind.test")

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from crawler.runner import install_asyncio_reactor
    install_asyncio_reactor()
    from twisted.internet import reactor
    from twisted.names import hosts
    from scrapy.utils.defer import deferred_from_coro
    from crawler.config import CrawlSettings, Source
    from crawler.runner import crawl_sources

    port, archive, hosts_file = sys.argv[1], sys.argv[2], sys.argv[3]
    # the connection resolves names from the hosts file; getaddrinfo (the old guard's
    # lookup) does not know them
    reactor.installResolver(hosts.Resolver(file=hosts_file.encode()))
    out = {}

    def source(name, url, allow=None):
        return Source(name=name, kind="feed", url=url, allow_private_addresses=allow)

    def results(rs):
        return {r.name: [r.status, r.error_class, r.error, r.items_new] for r in rs}

    async def main():
        crawl = CrawlSettings(autothrottle=False, retries=0, download_timeout="5s")
        out["first"] = results(await crawl_sources(crawl, [
            source("rebound", f"http://feeds.rebind.test:{port}/rebound.xml"),
            source("allowed", f"http://allowed.rebind.test:{port}/allowed.xml", True),
            source("hop", f"http://allowed.rebind.test:{port}/hop-start", True),
        ], archive))
        # the permission for allowed.rebind.test was that crawl's source's, not this one's
        out["second"] = results(await crawl_sources(crawl, [
            source("again", f"http://allowed.rebind.test:{port}/again.xml"),
        ], archive))

    def done(result):
        out["failure"] = None if result is None else str(result)
        reactor.stop()

    reactor.callWhenRunning(lambda: deferred_from_coro(main()).addBoth(done))
    reactor.run()
    print(json.dumps(out))
    """
)


def _hosts_asked(server: LocalServer) -> set[str]:
    return {h.get("Host", "").split(":")[0] for _m, _p, h in server.requests}


@pytest.mark.slow  # a real process (one reactor, its own resolver)
def test_no_request_reaches_a_private_address_the_connection_resolves(tmp_path):
    server = LocalServer().start()
    try:
        for name in ("rebound", "allowed", "hop", "again"):
            server.add(f"/{name}.xml", body=FEED.format(title=name), content_type=RSS)
        server.add("/robots.txt", body="User-agent: *\nAllow: /\n")
        server.add("/hop-start", Reply(redirect=f"http://hop.rebind.test:{server.port}/hop.xml"))
        hosts_file = tmp_path / "hosts"
        hosts_file.write_text(f"127.0.0.1 {' '.join(NAMES)}\n")
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                SCRIPT,
                str(server.port),
                str(tmp_path / "a.db"),
                str(hosts_file),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        assert out["failure"] is None, out["failure"]
        first, second = out["first"], out["second"]
        # not allowed: nothing was sent to it (robots.txt neither), refused with its address
        assert "feeds.rebind.test" not in _hosts_asked(server), server.requests
        status, error_class, error, _new = first["rebound"]
        assert (status, error_class) == ("error", "private_address_refused"), first
        assert "feeds.rebind.test" in error and "127.0.0.1" in error, error
        assert "allow_private_addresses" in error  # what to change, in the message
        # allowed for the source: fetched, and so is a redirect of an allowed source's
        assert first["allowed"][0] == "ok" and first["allowed"][3] == 1, first
        assert first["hop"][0] == "ok" and first["hop"][3] == 1, first
        assert server.hits("/hop.xml") == 1
        # the next crawl's source is not allowed: refused although the name was permitted
        assert second["again"][:2] == ["error", "private_address_refused"], second
        asked = _hosts_asked(server)
        assert server.hits("/rebound.xml") == 0 and server.hits("/again.xml") == 0
        assert {"allowed.rebind.test", "hop.rebind.test"} <= asked
    finally:
        server.stop()


# --- the resolver itself -----------------------------------------------------------------


class FixedAnswers:
    """Twisted's host name resolver interface answering from a dict (stands in for DNS)."""

    def __init__(self, answers: dict[str, list[str]]):
        self.answers = answers

    def resolveHostName(
        self, receiver, hostName, portNumber=0, addressTypes=None, transportSemantics="TCP"
    ):  # noqa: N802, N803
        receiver.resolutionBegan(None)
        for a in self.answers.get(hostName, []):
            receiver.addressResolved(IPv4Address("TCP", a, portNumber))
        receiver.resolutionComplete()


class Receiver:
    def __init__(self):
        self.addresses: list[str] = []
        self.complete = False

    def resolutionBegan(self, resolution):  # noqa: N802
        pass

    def addressResolved(self, address):  # noqa: N802
        self.addresses.append(address.host)

    def resolutionComplete(self):  # noqa: N802
        self.complete = True


def _resolve(resolver, host: str) -> list[str]:
    receiver = Receiver()
    resolver.resolveHostName(receiver, host, 80)
    assert receiver.complete
    return receiver.addresses


def test_private_answers_are_dropped_unless_the_host_is_permitted():
    from scrapy import Spider
    from scrapy.crawler import Crawler

    from crawler import resolver

    answers = {
        "localhost": ["127.0.0.1"],
        "metadata.rebind.test": ["169.254.169.254"],
        "mixed.rebind.test": ["93.184.216.34", "10.0.0.7"],
        "public.rebind.test": ["93.184.216.34"],
    }
    guarded = resolver.GuardedResolver(reactor=None, wrapped=FixedAnswers(answers))
    assert _resolve(guarded, "localhost") == []
    assert resolver.refusal("localhost") == "127.0.0.1"
    assert _resolve(guarded, "metadata.rebind.test") == []
    assert resolver.refusal("METADATA.rebind.test.") == "169.254.169.254"
    # one private address among public ones refuses the name (a connection may use any)
    assert _resolve(guarded, "mixed.rebind.test") == []
    assert resolver.refusal("mixed.rebind.test") == "10.0.0.7"
    assert _resolve(guarded, "public.rebind.test") == ["93.184.216.34"]
    assert resolver.refusal("public.rebind.test") is None

    crawler = Crawler(Spider)
    resolver.permit_for(crawler).add("Mixed.rebind.test")
    assert _resolve(guarded, "mixed.rebind.test") == ["93.184.216.34", "10.0.0.7"]
    assert resolver.refusal("mixed.rebind.test") is None  # the last answer was passed on
    assert _resolve(guarded, "localhost") == []  # only the permitted name
    # a crawl's permit ends when its engine stops
    from scrapy import signals

    crawler.signals.send_catch_log(signal=signals.engine_stopped)
    assert not resolver.permitted("mixed.rebind.test")
    assert _resolve(guarded, "mixed.rebind.test") == []


# --- the guard -----------------------------------------------------------------------------


def test_the_guard_looks_up_only_names_another_source_permits_and_refuses_unchecked_ones():
    import asyncio
    import socket

    from scrapy import Request, Spider, signals
    from scrapy.crawler import Crawler

    from crawler import resolver
    from crawler.fetch_outcomes import PrivateAddressRefused
    from crawler.middlewares import AddressGuardMiddleware
    from crawler.urls import is_private_address

    # two running crawlers (two source kinds), each with its own permit here
    crawler, other = Crawler(Spider), Crawler(Spider)
    permit = resolver.permit_for(crawler)
    guard = AddressGuardMiddleware(False, permit)

    try:

        def check(url: str, **meta):
            return asyncio.run(guard.process_request(Request(url, meta=meta)))

        # a name nobody permits is left to the connection's check (no lookup here)
        assert check("http://shared.rebind.test/b.xml") is None
        assert "shared.rebind.test" not in permit
        # a request allowed private addresses permits its host for the crawl's connections
        assert check("http://shared.rebind.test/a.xml", allow_private_addresses=True) is None
        assert "shared.rebind.test" in permit
        # ... so another source's request to it is checked here: unknown here, it is refused
        with pytest.raises(PrivateAddressRefused, match="could not be checked"):
            check("http://shared.rebind.test/b.xml")
        # ... and so is a request to a name another running crawler permits
        resolver.permit_for(other).add("elsewhere.rebind.test")
        with pytest.raises(PrivateAddressRefused, match="could not be checked"):
            check("http://elsewhere.rebind.test/b.xml")
        # and a name that resolves to a private address here is refused with that address
        name = socket.gethostname()
        try:
            private = is_private_address(socket.gethostbyname(name))
        except OSError:
            private = False
        if private:
            permit.add(name)
            with pytest.raises(PrivateAddressRefused, match="private address"):
                check(f"http://{name}/b.xml")
        # literal private addresses are refused at once, whatever is permitted
        permit.add("127.0.0.1")
        with pytest.raises(PrivateAddressRefused, match="private address 127.0.0.1 refused"):
            check("http://127.0.0.1/b.xml")
    finally:  # their permits end with them (not to leak into other tests)
        for c in (crawler, other):
            c.signals.send_catch_log(signal=signals.engine_stopped)


# --- one crawl, several sources on a host one of them may reach privately ------------------

# The crawl of ``sys.argv[4]``'s sources (name, kind, url with {port}, allow), in one process
# whose connections resolve names from the hosts file.
SOURCES_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from crawler.runner import install_asyncio_reactor
    install_asyncio_reactor()
    from twisted.internet import reactor
    from twisted.names import hosts
    from scrapy.utils.defer import deferred_from_coro
    from crawler.config import CrawlSettings, Source
    from crawler.runner import crawl_sources

    port, archive, hosts_file, spec = sys.argv[1:5]
    reactor.installResolver(hosts.Resolver(file=hosts_file.encode()))
    out = {}

    async def main():
        crawl = CrawlSettings(retries=0, download_timeout="5s")
        sources = [
            Source(name=n, kind=k, url=u.format(port=port), allow_private_addresses=a)
            for n, k, u, a in json.loads(spec)
        ]
        rs = await crawl_sources(crawl, sources, archive)
        out["results"] = {r.name: [r.status, r.error_class, r.error] for r in rs}

    def done(result):
        out["failure"] = None if result is None else str(result)
        reactor.stop()

    reactor.callWhenRunning(lambda: deferred_from_coro(main()).addBoth(done))
    reactor.run()
    print(json.dumps(out))
    """
)

SHARED = "http://shared.rebind.test:{port}"
SITEMAP = (
    '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    "<url><loc>{loc}</loc></url></urlset>"
)


def _crawl(server: LocalServer, tmp_path, sources: list, env: dict | None = None) -> dict:
    hosts_file = tmp_path / "hosts"
    hosts_file.write_text("127.0.0.1 shared.rebind.test proxy.rebind.test\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            SOURCES_SCRIPT,
            str(server.port),
            str(tmp_path / "a.db"),
            str(hosts_file),
            json.dumps(sources),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=None if env is None else {**__import__("os").environ, **env},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["failure"] is None, out["failure"]
    return out["results"]


def _refused(result: list) -> bool:
    return result[:2] == ["error", "private_address_refused"]


@pytest.mark.slow  # a real process (one reactor, its own resolver)
def test_another_kinds_source_on_an_allowed_sources_host_sends_nothing(tmp_path):
    """A feed source allowed private addresses and a sitemap source (another crawler of
    the same crawl) on the same host: the sitemap's request is not sent."""
    server = LocalServer().start()
    try:
        server.add("/allowed.xml", body=FEED.format(title="allowed"), content_type=RSS)
        server.add("/other-sitemap.xml", body=SITEMAP.format(loc=f"{server.url('/x')}"))
        server.add("/robots.txt", body="User-agent: *\nAllow: /\n")
        results = _crawl(
            server,
            tmp_path,
            [
                ["allowed", "feed", SHARED + "/allowed.xml", True],
                ["other", "sitemap", SHARED + "/other-sitemap.xml", None],
            ],
        )
        assert results["allowed"][0] == "ok", results
        assert _refused(results["other"]), results
        assert server.hits("/other-sitemap.xml") == 0, server.requests
        assert server.hits("/allowed.xml") == 1
    finally:
        server.stop()


@pytest.mark.slow
def test_sources_listed_before_the_allowed_one_on_its_host_send_nothing(tmp_path):
    """Sources of the allowed one's kind, listed (so requested) before it: the host is
    permitted from the crawl's start, so they are checked, not sent."""
    server = LocalServer().start()
    try:
        server.add("/allowed.xml", body=FEED.format(title="allowed"), content_type=RSS)
        for i in range(3):
            server.add(f"/o{i}.xml", body=FEED.format(title=f"o{i}"), content_type=RSS)
        server.add("/robots.txt", body="User-agent: *\nAllow: /\n")
        sources = [[f"other{i}", "feed", SHARED + f"/o{i}.xml", None] for i in range(3)]
        results = _crawl(
            server, tmp_path, [*sources, ["allowed", "feed", SHARED + "/allowed.xml", True]]
        )
        assert results["allowed"][0] == "ok", results
        for i in range(3):
            assert _refused(results[f"other{i}"]), results
            assert server.hits(f"/o{i}.xml") == 0, server.requests
    finally:
        server.stop()


@pytest.mark.slow
def test_a_redirect_or_link_of_a_source_not_allowed_to_an_allowed_sources_host_is_not_sent(
    tmp_path,
):
    """Sources on a public-looking name (through a proxy: the test server answers it)
    redirecting or linking to the host of an allowed source of another kind: refused,
    nothing is sent for them to that host."""
    server = LocalServer().start()
    try:
        server.add("/allowed.xml", body=FEED.format(title="allowed"), content_type=RSS)
        server.add("/robots.txt", body="User-agent: *\nAllow: /\n")
        internal = f"http://shared.rebind.test:{server.port}"
        server.add("/hop-sitemap.xml", Reply(redirect=f"{internal}/internal-sitemap.xml"))
        server.add("/internal-sitemap.xml", body=SITEMAP.format(loc="http://news.public.test/a"))
        server.add("/links-sitemap.xml", body=SITEMAP.format(loc=f"{internal}/linked"))
        server.add("/linked", body="<html><title>x</title><p>internal</p></html>")
        results = _crawl(
            server,
            tmp_path,
            [
                ["allowed", "feed", SHARED + "/allowed.xml", True],
                ["hop", "sitemap", "http://news.public.test/hop-sitemap.xml", None],
                ["links", "sitemap", "http://news.public.test/links-sitemap.xml", None],
            ],
            env={
                "http_proxy": f"http://proxy.rebind.test:{server.port}",
                "no_proxy": "",
                "NO_PROXY": "",
            },
        )
        assert results["allowed"][0] == "ok", results
        assert server.hits("/hop-sitemap.xml") == 1, server.requests  # the public name's
        assert _refused(results["hop"]), results
        assert server.hits("/internal-sitemap.xml") == 0, server.requests
        assert server.hits("/links-sitemap.xml") == 1, server.requests
        assert server.hits("/linked") == 0, server.requests
        asked = {(h.get("Host", "").split(":")[0], p) for _m, p, h in server.requests}
        assert {h for h, _p in asked} == {"news.public.test", "shared.rebind.test"}, asked
        assert {p for h, p in asked if h == "shared.rebind.test"} <= {
            "/robots.txt",
            "/allowed.xml",
            f"{internal}/robots.txt",
            f"{internal}/allowed.xml",
        }, asked
    finally:
        server.stop()


@pytest.mark.slow
def test_an_allowed_sources_robots_txt_is_read(tmp_path):
    """The robots.txt request of a source allowed private addresses is allowed too: its
    Disallow is obeyed (before, the robots.txt request was refused, and a refused
    robots.txt lets everything through)."""
    server = LocalServer().start()
    try:
        server.add("/allowed.xml", body=FEED.format(title="allowed"), content_type=RSS)
        server.add("/robots.txt", body="User-agent: *\nDisallow: /\n")
        results = _crawl(server, tmp_path, [["allowed", "feed", SHARED + "/allowed.xml", True]])
        assert results["allowed"][:2] == ["error", "robots_denied"], results
        assert server.hits("/robots.txt") == 1 and server.hits("/allowed.xml") == 0
    finally:
        server.stop()
