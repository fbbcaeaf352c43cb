"""The download handler that hands Scrapy the answers the revalidation pass already received
(:mod:`crawler.revalidate`), inside the host's download slot.

A handler, not a downloader middleware: a middleware's ``process_request`` that returns a
response never enters the slot, so the host's next request (a changed feed's articles)
followed the pass's request with no delay. Scrapy calls the handler inside the slot
(``Downloader._download``, after the slot's delay and per-host limit), so the slot's delay
applies to the host's next request, and every middleware's ``process_response`` runs on the
answer as on a download's (decompression, redirects, retries and Retry-After, the
peer-address check). Any other request goes to Scrapy's own HTTP/1.1 handler.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.http import Response


class PrefetchedDownloadHandler:
    """``DOWNLOAD_HANDLERS`` for http and https: a source's first request whose answer the
    pass received (the setting ``NEWSWATCH_PREFETCHED``) gets that answer, once; every
    other request is Scrapy's HTTP/1.1 handler's."""

    lazy = False

    def __init__(self, crawler: Crawler):
        from crawler.revalidate import SETTING, Prefetched

        self.http = HTTP11DownloadHandler.from_crawler(crawler)
        prefetched = crawler.settings.get(SETTING)
        self.prefetched = prefetched if isinstance(prefetched, Prefetched) else None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrefetchedDownloadHandler:
        return cls(crawler)

    async def download_request(self, request: Request) -> Response:
        """The prefetched answer for this request, or Scrapy's download of it."""
        answer = self._take(request)
        if answer is None:
            return await self.http.download_request(request)
        from scrapy.http import Headers
        from scrapy.responsetypes import responsetypes

        url, status, raw, body, ip, flags, latency = answer
        request.meta["download_latency"] = latency  # read by AutoThrottle, as a download's
        headers = Headers(raw)
        cls = responsetypes.from_args(headers=headers, url=url, body=body)
        return cls(
            url=url,
            status=status,
            headers=headers,
            body=body,
            request=request,
            ip_address=ip,
            protocol="HTTP/1.1",
            flags=flags,
        )

    def _take(self, request: Request) -> Any:
        if self.prefetched is None or not self.prefetched.answers:
            return None
        source = request.meta.get("source")
        if not source or request.meta.get("retry_times") or request.meta.get("redirect_times"):
            return None
        return self.prefetched.take(source, request.url)

    async def close(self) -> None:
        await self.http.close()
