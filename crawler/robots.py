"""robots.txt kept between the crawls of one long-running process.

Scrapy's robots.txt middleware forgets every parsed robots.txt when its crawler ends, so a
daemon crawling every few minutes would fetch each host's robots.txt before every feed.
RFC 9309 lets a crawler keep a robots.txt for up to 24 hours; :class:`RobotsCache` does that
for the parsed files, and :class:`CachedRobotsTxtMiddleware` reads it before asking Scrapy's
middleware and fills it from Scrapy's ``robots_parsed`` signal. Fetches in flight and
failures stay with the crawl that met them (in Scrapy's middleware), so a crawl stopped
mid-fetch leaves nothing half-done behind.
"""

from __future__ import annotations

import time
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.utils.httpobj import urlparse_cached

ROBOTS_TTL = 24 * 3600.0  # seconds a parsed robots.txt is trusted (RFC 9309, section 2.4)


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

    def put(self, netloc: str, parser: Any) -> None:
        """Keep a freshly parsed robots.txt for this host."""
        self._parsers[netloc] = (parser, self.clock())

    def __deepcopy__(self, memo: dict) -> RobotsCache:
        return self  # Scrapy deep-copies its settings per crawler: keep one shared cache


class CachedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, reading and filling the process's RobotsCache (the
    setting ``NEWSWATCH_ROBOTS_CACHE``); without one it behaves exactly like Scrapy's."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        cache = crawler.settings.get("NEWSWATCH_ROBOTS_CACHE")
        self.cache: RobotsCache | None = cache if isinstance(cache, RobotsCache) else None
        if self.cache is not None:
            crawler.signals.connect(self._parsed, signal=signals.robots_parsed)

    async def robot_parser(self, request: Request) -> Any | None:
        """The host's parser from the cache; else Scrapy's (which fetches it once per crawl)."""
        if self.cache is not None:
            parser = self.cache.get(urlparse_cached(request).netloc)
            if parser is not None:
                return parser
        return await super().robot_parser(request)

    def _parsed(self, robotparser: Any, request: Request) -> None:
        """Scrapy parsed a robots.txt it fetched for ``request``: keep it for later crawls."""
        self.cache.put(urlparse_cached(request).netloc, robotparser)
