"""robots.txt kept between the crawls of one long-running process.

Scrapy's robots.txt middleware forgets every parsed robots.txt when its crawler ends, so a
daemon crawling every few minutes would fetch each host's robots.txt before every feed.
RFC 9309 lets a crawler keep a robots.txt for up to 24 hours; :class:`RobotsCache` does that
for the parsed files, and :class:`CachedRobotsTxtMiddleware` reads and fills it. Fetches in
flight stay with the crawl that started them, so a crawl stopped mid-fetch leaves nothing
half-done behind.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, MutableMapping
from typing import Any

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware

ROBOTS_TTL = 24 * 3600.0  # seconds a parsed robots.txt is trusted (RFC 9309, section 2.4)


class RobotsCache:
    """Parsed robots.txt files by host, shared by the crawls of one process."""

    def __init__(self, ttl: float = ROBOTS_TTL, clock=time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._parsers: dict[str, tuple[Any, float]] = {}

    def get(self, netloc: str) -> Any | None:
        entry = self._parsers.get(netloc)
        if entry is None:
            return None
        parser, at = entry
        if self.clock() - at > self.ttl:
            del self._parsers[netloc]
            return None
        return parser

    def put(self, netloc: str, parser: Any) -> None:
        self._parsers[netloc] = (parser, self.clock())

    def __len__(self) -> int:
        return len(self._parsers)

    def __deepcopy__(self, memo: dict) -> RobotsCache:
        return self  # Scrapy deep-copies its settings per crawler: keep one shared cache


class _CrawlView(MutableMapping):
    """What one middleware sees as its ``_parsers``: finished parsers from the shared cache,
    fetches in flight (Deferreds) and failures (None) only for this crawl."""

    def __init__(self, cache: RobotsCache):
        self.cache = cache
        self.local: dict[str, Any] = {}

    def __getitem__(self, netloc: str) -> Any:
        if netloc in self.local:
            return self.local[netloc]
        parser = self.cache.get(netloc)
        if parser is None:
            raise KeyError(netloc)
        return parser

    def __setitem__(self, netloc: str, value: Any) -> None:
        from twisted.internet.defer import Deferred

        if value is None or isinstance(value, Deferred):
            self.local[netloc] = value
        else:
            self.local.pop(netloc, None)
            self.cache.put(netloc, value)

    def __delitem__(self, netloc: str) -> None:
        self.local.pop(netloc, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self.local)

    def __len__(self) -> int:
        return len(self.local)

    def __contains__(self, netloc: object) -> bool:
        return netloc in self.local or self.cache.get(str(netloc)) is not None


class CachedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, reading and filling the process's RobotsCache (the
    setting ``NEWSWATCH_ROBOTS_CACHE``); without one it behaves exactly like Scrapy's."""

    def __init__(self, crawler):
        super().__init__(crawler)
        cache = crawler.settings.get("NEWSWATCH_ROBOTS_CACHE")
        if isinstance(cache, RobotsCache):
            self._parsers = _CrawlView(cache)
