"""The revalidation pass: before the Scrapy crawl, each due feed source with stored
validators is asked once with a light conditional GET; a 304 is recorded here and the
source never enters Scrapy, any other answer is handed to Scrapy as its request's response.

Why: a crawl of 200 unchanged feeds on 200 hosts spent about 90% of its CPU in Scrapy's
engine and HTTP client (0.32 s of CPU for 200 304s), the daemon's whole unchanged second
cycle. The pass sends the very request Scrapy would (same headers, validators, timeout and
size limit) through Twisted's own ``Agent`` on the running reactor, so host names
resolve through the reactor's resolver: the private-address check of
:mod:`crawler.resolver` applies to it unchanged, with the crawl's permit registered while
the pass runs.

Politeness: the pass asks only hosts with exactly one due source in the crawl (of any
kind); a host with several goes entirely through Scrapy, whose download slot spaces its
requests (AutoThrottle's delay). An answer other than a 304 is handed to Scrapy inside
that slot (:mod:`crawler.prefetch_handler`), so the host's next request waits its delay.

What stays with Scrapy: a source whose robots.txt decision is not known and fresh (or
disallows the URL), a source the private-address guard would check itself (a private
address written as a number, or a host another running crawl permits), every source when a
proxy is configured in the environment, a source whose URL the pass cannot read, and any
source whose request failed (connection error, too large) or was not answered within
:data:`DEADLINE_S` (or ``download_timeout`` if shorter) of the pass's start: its request
is cancelled and Scrapy sends its own, as without the pass. A stop (shutdown) during the
pass cancels it: what it recorded is kept, the other sources are interrupted.
"""

from __future__ import annotations

import asyncio
import logging
import time
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from twisted.internet.defer import Deferred
from twisted.internet.protocol import Protocol
from twisted.web.client import ResponseDone
from twisted.web.http import PotentialDataLoss

from crawler import resolver
from crawler.config import CrawlSettings, Source
from crawler.fetch_outcomes import CrawlTracker
from crawler.robots import RobotsCache, load_robots
from crawler.urls import is_private_address, numeric_host

logger = logging.getLogger(__name__)

SETTING = "NEWSWATCH_PREFETCHED"  # the crawl's Prefetched, read by the download handler
# The pass's own time limit (seconds from its start; download_timeout if shorter): a host
# that hangs costs the crawl this, not download_timeout, before Scrapy starts.
DEADLINE_S = 3.0


class Prefetched:
    """The answers the pass received and Scrapy has not used yet, by source name:
    ``(url, status, headers, body, ip_address, flags, latency)``, each given out once."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple] = {}

    def take(self, source: str, url: str) -> tuple | None:
        """The answer for this source's request to ``url`` (its first request only)."""
        answer = self.answers.get(source)
        if answer is None or answer[0] != url:
            return None
        del self.answers[source]
        return answer

    def __deepcopy__(self, memo: dict) -> Prefetched:
        return self  # Scrapy deep-copies its settings per crawler: share this one


def proxied() -> bool:
    """Whether the environment configures an http or https proxy (Scrapy honours it; the
    pass does not speak to proxies, so it steps aside)."""
    proxies = urllib.request.getproxies()
    return bool(proxies.get("http") or proxies.get("https"))


def request_headers(settings: CrawlSettings, validators: dict) -> dict[bytes, list[bytes]]:
    """The headers Scrapy sends on a source's conditional request (default headers,
    User-Agent, Accept-Encoding, the validators)."""
    from scrapy.downloadermiddlewares.httpcompression import ACCEPTED_ENCODINGS
    from scrapy.settings.default_settings import DEFAULT_REQUEST_HEADERS

    headers = {k.encode(): [v.encode()] for k, v in DEFAULT_REQUEST_HEADERS.items()}
    headers[b"User-Agent"] = [settings.user_agent.encode()]
    headers[b"Accept-Encoding"] = [b", ".join(ACCEPTED_ENCODINGS)]
    if validators.get("etag"):
        headers[b"If-None-Match"] = [validators["etag"].encode("latin-1")]
    if validators.get("last_modified"):
        headers[b"If-Modified-Since"] = [validators["last_modified"].encode("latin-1")]
    return headers


def _robots_allow(src: Source, settings: CrawlSettings, robots: RobotsCache, db: Any) -> bool:
    """True when robots.txt need not be asked (not obeyed) or a fresh one allows the URL."""
    obey = settings.obey_robots if src.obey_robots is None else src.obey_robots
    if not obey:
        return True
    netloc = urlsplit(src.url).netloc
    parser = robots.get(netloc)
    if parser is None:
        kept = load_robots(db, netloc)
        if kept is None:
            return False  # unknown or expired: Scrapy fetches it
        from scrapy.robotstxt import ProtegoRobotParser  # Scrapy's default ROBOTSTXT_PARSER

        body, age = kept
        parser = ProtegoRobotParser(body, None)
        robots.put(netloc, parser, age=age)  # Scrapy's robots middleware uses it too
    return bool(parser.allowed(src.url, settings.user_agent))


def _guard_leaves_it(src: Source, settings: CrawlSettings, permit: resolver.HostPermit) -> bool:
    """True when the private-address guard would pass this request to the connection,
    whose resolver checks it (as it checks the pass's): allowed private addresses, a
    public address written as a number, or a name no running crawl permits."""
    allow = settings.allow_private_addresses
    if src.allow_private_addresses is not None:
        allow = src.allow_private_addresses
    if allow:
        return True
    host = urlsplit(src.url).hostname or ""
    if is_private_address(host):
        return False  # the guard refuses it before any request
    if numeric_host(host) is not None:
        return True
    return host not in permit and not resolver.permitted(host)


def candidates(
    settings: CrawlSettings,
    sources: list[Source],
    tracker: CrawlTracker,
    robots: RobotsCache,
    db: Any,
    permit: resolver.HostPermit,
) -> list[Source]:
    """The feed sources the pass may ask: stored validators, the only due source of its
    host in this crawl, robots.txt known and allowing, and the guard's check left to the
    connection."""
    per_host: dict[str, int] = {}
    for src in sources:
        host = _host(src.url)
        per_host[host] = per_host.get(host, 0) + 1
    out = []
    for src in sources:
        previous = tracker.previous(src.name)
        if src.kind != "feed" or not (previous.get("etag") or previous.get("last_modified")):
            continue
        if _host(src.url) is None or per_host[_host(src.url)] != 1:
            continue  # an unreadable URL, or a host Scrapy's slot must space: Scrapy's
        try:
            if _guard_leaves_it(src, settings, permit) and _robots_allow(src, settings, robots, db):
                out.append(src)
        except Exception as e:  # a URL only Scrapy can judge: it records the failure
            logger.debug("revalidation of %s: %s; left to the crawl", src.name, e)
    return out


def _host(url: str) -> str | None:
    """The host as Scrapy's download slot keys it (None: a URL urlsplit cannot read)."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return None


async def revalidate(
    settings: CrawlSettings,
    sources: list[Source],
    tracker: CrawlTracker,
    robots: RobotsCache,
    db: Any,
    permit: resolver.HostPermit,
    stop: asyncio.Event | None = None,
) -> tuple[list[Source], Prefetched]:
    """Ask the due sources that qualify (:func:`candidates`); record each 304 in
    ``tracker`` as the feed spider records one. Returns the sources left for Scrapy, in
    order, and the answers it is to use instead of fetching again. Requests not answered
    within the pass's deadline are cancelled (their sources left to Scrapy); setting
    ``stop`` cancels the pass at once (the caller then records the rest as interrupted)."""
    prefetched = Prefetched()
    if proxied():
        return sources, prefetched
    asked = candidates(settings, sources, tracker, robots, db, permit)
    if not asked:
        return sources, prefetched
    from twisted.internet import reactor

    resolver.install(reactor)  # the connections resolve through the guard
    unchanged: set[str] = set()
    deadline = min(DEADLINE_S, settings.download_timeout.total_seconds())
    with resolver.running(permit):
        client = _Client(settings, reactor)
        tasks = [
            asyncio.ensure_future(client.ask(src, tracker, unchanged, prefetched)) for src in asked
        ]
        waiter = asyncio.ensure_future(stop.wait()) if stop is not None else None
        try:
            everything = asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.wait(
                {everything} | ({waiter} if waiter else set()),
                timeout=deadline,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            # past the deadline, stopped (or this pass cancelled): the requests still
            # waiting are cancelled; what was recorded stays recorded
            for task in tasks:
                task.cancel()
            if waiter is not None:
                waiter.cancel()
            await everything
            await client.close()
    return [s for s in sources if s.name not in unchanged], prefetched


class _Client:
    """One pass's HTTP client: Twisted's Agent without keep-alive (one request per host),
    at most ``concurrency`` requests at once."""

    def __init__(self, settings: CrawlSettings, reactor: Any):
        from twisted.web.client import Agent, HTTPConnectionPool

        self.settings = settings
        self.timeout = max(1, int(round(settings.download_timeout.total_seconds())))
        self.pool = HTTPConnectionPool(reactor, persistent=False)
        # Twisted's TLS policy verifies certificates, Scrapy's does not: a host whose
        # certificate fails here fails before any request is sent, and goes to Scrapy.
        self.agent = Agent(reactor, connectTimeout=self.timeout, pool=self.pool)
        self.all = asyncio.Semaphore(settings.concurrency)

    async def ask(
        self, src: Source, tracker: CrawlTracker, unchanged: set[str], prefetched: Prefetched
    ) -> None:
        import scrapy

        async with self.all:
            started = time.monotonic()
            try:
                # as Scrapy writes it (escaped): its request's URL; a URL it refuses is
                # left to the crawl, which records that source's failure alone
                url = scrapy.Request(src.url).url
                answer = await asyncio.wait_for(self._get(src, url, tracker), self.timeout)
            except Exception as e:  # any failure: Scrapy sends its own request
                logger.debug("revalidation of %s: %s; left to the crawl", src.name, e)
                return
        if answer is None:
            return
        status, headers, body, ip, flags = answer
        if status == 304:
            tracker.begin(src.name)
            r = tracker.result(src.name)
            r.http_status, r.not_modified = 304, True
            tracker.end(src.name)
            unchanged.add(src.name)
        else:
            latency = time.monotonic() - started
            prefetched.answers[src.name] = (url, status, headers, body, ip, flags, latency)

    async def _get(self, src: Source, url: str, tracker: CrawlTracker) -> tuple | None:
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.web.http_headers import Headers

        headers = Headers(request_headers(self.settings, tracker.previous(src.name)))
        response = await maybe_deferred_to_future(
            self.agent.request(b"GET", url.encode("ascii"), headers)
        )
        ip = _peer(response)
        reader = _Body(self.settings.max_page_bytes)
        response.deliverBody(reader)
        body = await maybe_deferred_to_future(reader.done)
        if body is None:
            return None  # past max_page_bytes: Scrapy's own request is refused as too large
        raw = {k: list(v) for k, v in response.headers.getAllRawHeaders()}
        # read to the connection's close (no length): what Scrapy's handler flags "partial"
        return response.code, raw, body, ip, ["partial"] if reader.partial else []

    async def close(self) -> None:
        from scrapy.utils.defer import maybe_deferred_to_future

        await maybe_deferred_to_future(self.pool.closeCachedConnections())


def _peer(response: Any) -> Any:
    """The address the response came from, as Scrapy's HTTP handler reads it."""
    import ipaddress

    try:
        return ipaddress.ip_address(response._transport.getPeer().host)
    except Exception:
        return None


class _Body(Protocol):
    """Reads a response body up to ``limit`` bytes into :attr:`done` (None past it)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0
        self.partial = False
        self.done: Deferred = Deferred(lambda _: self._stop())  # cancelled: a timeout

    def _stop(self) -> None:
        if self.transport is not None:
            self.transport.stopProducing()

    def dataReceived(self, data: bytes) -> None:  # noqa: N802 (Twisted's interface)
        self.size += len(data)
        if self.size > self.limit:
            if not self.done.called:
                self.done.callback(None)
            self._stop()
            return
        self.parts.append(data)

    def connectionLost(self, reason: Any = None) -> None:  # noqa: N802
        if self.done.called:
            return
        if reason.check(ResponseDone, PotentialDataLoss):
            self.partial = bool(reason.check(PotentialDataLoss))
            self.done.callback(b"".join(self.parts))
        else:
            self.done.errback(reason)  # cut short, or a broken stream: Scrapy asks again
