"""The downloader newswatch crawls with: Scrapy's, less the idle time politeness cost it.

Scrapy counts every request handed to its downloader against ``CONCURRENT_REQUESTS``, also
one that waits in its host's slot for the host's download delay (AutoThrottle's delay) and
one parked by our retry middleware until its backoff or Retry-After has passed. A few slow
or throttled hosts then held the whole crawl's concurrency while they waited, and the other
hosts, with nothing queued, waited behind them. Here a request waiting for its own host
does not count: the per-host limit and delay still hold (they are the host's slot's), the
global limit counts the requests that are really downloading.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.core.downloader import Downloader


class PoliteDownloader(Downloader):
    """Scrapy's downloader whose global concurrency counts no request that is only waiting
    for its host (a download delay) or parked for a retry (:attr:`parked`)."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.parked: set[Request] = set()  # filled by crawler.middlewares.BackoffRetryMiddleware

    def waiting(self) -> int:
        """Requests handed to the downloader that are only waiting: in their host's slot
        queue (behind its delay or its per-host limit), or parked for a retry."""
        queued = sum(len(s.queue) for s in self.slots.values())
        return queued + len(self.parked)

    def needs_backout(self) -> bool:
        # A total concurrency of 0 means no limit (as in Scrapy's). The engine asks before
        # every request it schedules: the waiting ones are counted (a walk over every
        # host's slot) only when the active ones alone reach the limit.
        if not 0 < self.total_concurrency <= len(self.active):
            return False
        return self.total_concurrency <= len(self.active) - self.waiting()
