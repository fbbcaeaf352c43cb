"""robots.txt: fetched on its own download slot, kept between crawls and between processes.

Scrapy's robots.txt middleware forgets every parsed robots.txt when its crawler ends, so a
daemon crawling every few minutes, or ``newswatch crawl`` run from cron, would fetch each
host's robots.txt before every feed. RFC 9309 lets a crawler keep a robots.txt for up to
24 hours: :class:`RobotsCache` keeps the parsed files in memory for the crawls of one
process, and the archive's ``robots`` table keeps the files themselves, with their expiry,
for the next process. Fetches in flight and failures stay with the crawl that met them (in
Scrapy's middleware), so a crawl stopped mid-fetch leaves nothing half-done behind, and a
failed or 5xx robots.txt is not kept (it is asked for again next crawl).

Scrapy fetches a robots.txt on the host's own download slot, so with a download delay (and
AutoThrottle's start delay is one) the host's first real request waited a whole delay after
it: 200 feeds on 200 hosts took 14.5 s for 200 304s. The robots.txt request here goes on a
slot of its own: the feed behind it starts as soon as the robots.txt is parsed, and the
host's slot still spaces and limits the requests that follow.
"""

from __future__ import annotations

import time
import weakref
from datetime import timedelta
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler, load_object

from crawler.times import parse_time, shift, utcnow

ROBOTS_TTL = 24 * 3600.0  # seconds a robots.txt is trusted (RFC 9309, section 2.4)
MAX_ROBOTS_BYTES = 500 * 1024  # RFC 9309: a crawler must parse at least 500 KiB
SLOT_PREFIX = "robots.txt "  # the download slot of a host's robots.txt


class RobotsCache:
    """Parsed robots.txt files by host, shared by the crawls of one process."""

    def __init__(self, ttl: float = ROBOTS_TTL, clock=time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._parsers: dict[str, tuple[Any, float]] = {}

    def get(self, netloc: str) -> Any | None:
        """The parser kept for this host, or None when there is none or it is too old."""
        entry = self._parsers.get(netloc)
        if entry is None:
            return None
        parser, at = entry
        if self.clock() - at > self.ttl:
            del self._parsers[netloc]
            return None
        return parser

    def put(self, netloc: str, parser: Any, *, age: float = 0.0) -> None:
        """Keep a parsed robots.txt for this host, fetched ``age`` seconds ago."""
        # Scrapy's parsers keep the spider they were parsed for (only to decode the file):
        # kept here for a day, it held the whole crawl that first met the host (engine,
        # pipelines, story assigner and its event index) in the daemon's memory.
        if getattr(parser, "spider", None) is not None:
            parser.spider = None
        self._parsers[netloc] = (parser, self.clock() - age)

    def __deepcopy__(self, memo: dict) -> RobotsCache:
        return self  # Scrapy deep-copies its settings per crawler: keep one shared cache


def load_robots(db: Any, netloc: str, now: str | None = None) -> tuple[bytes, float] | None:
    """The robots.txt body the archive keeps for ``netloc`` and its age in seconds, or None
    when there is none or it has expired."""
    now = now or utcnow()
    row = next(
        db.query(
            "SELECT body, fetched_at FROM robots WHERE netloc = ? AND expires_at > ?",
            [netloc, now],
        ),
        None,
    )
    if row is None:
        return None
    fetched = parse_time(row["fetched_at"])
    age = (parse_time(now) - fetched).total_seconds() if fetched else 0.0
    return bytes(row["body"] or b""), max(0.0, age)


def save_robots(db: Any, rows: dict[str, tuple[int, bytes]], ttl: float = ROBOTS_TTL) -> None:
    """Keep these fetched robots.txt files (``netloc -> (status, body)``) until ``ttl``
    from now. Call inside ``archive.write(db)``."""
    now = utcnow()
    expires = shift(now, timedelta(seconds=ttl))
    for netloc, (status, body) in rows.items():
        db.execute(
            "INSERT INTO robots (netloc, status, body, fetched_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT(netloc) DO UPDATE SET status = excluded.status,"
            " body = excluded.body, fetched_at = excluded.fetched_at,"
            " expires_at = excluded.expires_at",
            [netloc, status, body, now, expires],
        )


# crawler -> its robots.txt URLs being fetched -> the asking request's allow_private_addresses
_ASKED: weakref.WeakKeyDictionary[Any, dict[str, bool | None]] = weakref.WeakKeyDictionary()


def robots_allow_private(crawler: Any, request: Request) -> bool | None:
    """For Scrapy's own robots.txt request (made without our meta), the
    ``allow_private_addresses`` of the request it was fetched for: the private-address
    guard runs before this middleware, so it asks here. None for any other request (a
    source's own request for a robots.txt URL has a callback and the meta key)."""
    if (
        request.callback is not NO_CALLBACK
        or "allow_private_addresses" in request.meta
        or not request.meta.get("dont_obey_robotstxt")
    ):
        return None
    return _ASKED.get(crawler, {}).get(request.url)


class CachedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, reading and filling the process's RobotsCache (the
    setting ``NEWSWATCH_ROBOTS_CACHE``) and the archive's ``robots`` table (when the crawl
    has an archive), and fetching each robots.txt on a download slot of its own."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        cache = crawler.settings.get("NEWSWATCH_ROBOTS_CACHE")
        self.cache: RobotsCache = cache if isinstance(cache, RobotsCache) else RobotsCache()
        self.parser_cls = load_object(crawler.settings.get("ROBOTSTXT_PARSER"))
        try:
            from crawler.crawl_context import CrawlContext

            self.db = CrawlContext.of(crawler).db
        except NotConfigured:
            self.db = None  # a crawl that stores nothing (sources discover)
        # robots.txt URLs Scrapy's middleware is fetching -> the asking request's
        # allow_private_addresses (an intranet source's robots.txt is allowed as it is)
        self._asked: dict[str, bool | None] = {}
        _ASKED[crawler] = self._asked
        self._fetched: dict[str, tuple[int, bytes]] = {}  # to keep in the archive
        crawler.signals.connect(self._parsed, signal=signals.robots_parsed)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    async def process_request(self, request: Request, spider: Any = None) -> None:
        if request.url in self._asked and request.meta.get("dont_obey_robotstxt"):
            # Scrapy's own robots.txt request: on its own slot, so it neither delays the
            # host's first request nor teaches AutoThrottle anything about the host.
            host = urlparse_cached(request).netloc
            request.meta.setdefault("download_slot", SLOT_PREFIX + host)
            request.meta["newswatch_robots"] = host
            return None
        return await super().process_request(request)

    def process_response(self, request: Request, response: Response, spider: Any = None):
        host = request.meta.get("newswatch_robots")
        if host and response.status < 500:  # a 5xx is asked for again next crawl
            self._fetched[host] = (response.status, response.body[:MAX_ROBOTS_BYTES])
        return response

    async def robot_parser(self, request: Request) -> Any | None:
        """The host's parser from the cache, else from the archive; else Scrapy's (which
        fetches it once per crawl)."""
        url = urlparse_cached(request)
        netloc = url.netloc
        parser = self.cache.get(netloc)
        if parser is not None:
            return parser
        if self.db is not None and netloc not in self._fetched:
            kept = load_robots(self.db, netloc)
            if kept is not None:
                body, age = kept
                parser = build_from_crawler(self.parser_cls, self.crawler, body)
                self.cache.put(netloc, parser, age=age)
                return parser
        robots_url = f"{url.scheme}://{netloc}/robots.txt"
        if robots_url not in self._asked:  # (the first request to ask fetches it)
            self._asked[robots_url] = request.meta.get("allow_private_addresses")
        return await super().robot_parser(request)

    def _parsed(self, robotparser: Any, request: Request) -> None:
        """Scrapy parsed a robots.txt it fetched for ``request``: keep it for later crawls."""
        self.cache.put(urlparse_cached(request).netloc, robotparser)

    def _closed(self, spider: Any = None) -> None:
        """Keep the robots.txt files this crawl fetched in the archive, for the next process."""
        if self.db is None or not self._fetched:
            return
        from crawler import archive

        rows, self._fetched = self._fetched, {}
        try:
            with archive.write(self.db):
                save_robots(self.db, rows, self.cache.ttl)
        except Exception:  # only a cache: the next crawl fetches them again
            import logging

            logging.getLogger(__name__).warning("could not keep %d robots.txt files", len(rows))
