"""Downloader middlewares: the private-address guard, conditional GET, and retries with
backoff that honour Retry-After."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message

from crawler import times
from crawler.fetch_outcomes import PrivateAddressRefused, RetryAfterTooLong
from crawler.urls import is_private_address, numeric_host

logger = logging.getLogger(__name__)


# what to change, in the message itself: a local test feed is the common case
_HINT = " (allow_private_addresses = true allows it)"


def _allowed(request: Request, default: bool) -> bool:
    value = request.meta.get("allow_private_addresses")
    return default if value is None else bool(value)


class AddressGuardMiddleware:
    """Refuses requests (redirects included: they come back through here) to loopback,
    private, link-local and other non-public addresses, unless allowed for the source
    (``meta["allow_private_addresses"]``) or the crawl (``[crawl] allow_private_addresses``).

    A host written as a number is read the way a resolver reads it, in every form
    (``2130706433``, ``127.1``, ``0177.0.0.1``, IPv4-mapped IPv6...); a host name is
    resolved here, every address it has is checked, whether or not a proxy is in use (a
    proxy would otherwise connect to whatever the name or number means for it). Behind a
    proxy a name that does not resolve here is left to the proxy; without one, the download
    reports the DNS failure. :class:`PeerAddressMiddleware` then checks the address
    actually connected to (without a proxy: with one, that is the proxy's)."""

    CACHE_SECONDS = 300.0
    CACHE_SIZE = 4096

    def __init__(self, allow: bool, dns_timeout: float = 10.0):
        self.allow = allow
        self.dns_timeout = dns_timeout
        self._resolved: dict[str, tuple[float, list[str]]] = {}  # host -> (when, addresses)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        return cls(
            crawler.settings.getbool("NEWSWATCH_ALLOW_PRIVATE_ADDRESSES"),
            crawler.settings.getfloat("DNS_TIMEOUT", 10.0),
        )

    async def process_request(self, request: Request) -> None:
        if _allowed(request, self.allow):
            return None
        host = urlparse_cached(request).hostname or ""
        if is_private_address(host):
            raise PrivateAddressRefused(f"private address {host} refused{_HINT}")
        if numeric_host(host) is not None:
            return None  # a public address, in whichever form it was written
        try:
            addresses = await self._resolve(host)
        except (OSError, TimeoutError, UnicodeError):
            return None  # reported by the download (or resolved by the proxy)
        private = [a for a in addresses if is_private_address(a)]
        if private:
            raise PrivateAddressRefused(f"{host} refused: private address {private[0]}{_HINT}")
        return None

    async def _resolve(self, host: str) -> list[str]:
        """Every address ``host`` resolves to here (cached for a few minutes)."""
        now = time.monotonic()
        hit = self._resolved.get(host)
        if hit is not None and now - hit[0] < self.CACHE_SECONDS:
            return hit[1]
        infos = await asyncio.wait_for(
            asyncio.to_thread(socket.getaddrinfo, host, None, type=socket.SOCK_STREAM),
            self.dns_timeout,
        )
        addresses = sorted({str(info[4][0]) for info in infos})
        if len(self._resolved) >= self.CACHE_SIZE:
            self._resolved.clear()
        self._resolved[host] = (now, addresses)
        return addresses


class PeerAddressMiddleware:
    """Checks the address a response really came from (a name can resolve differently
    between our check and the connection)."""

    def __init__(self, allow: bool):
        self.allow = allow

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PeerAddressMiddleware:
        return cls(crawler.settings.getbool("NEWSWATCH_ALLOW_PRIVATE_ADDRESSES"))

    def process_response(self, request: Request, response: Response) -> Response:
        if _allowed(request, self.allow) or request.meta.get("proxy"):
            return response
        peer = response.ip_address
        if peer is not None and is_private_address(str(peer)):
            raise PrivateAddressRefused(
                f"refused a response from a private address ({peer}) for {request.url}"
            )
        return response


class ConditionalGetMiddleware:
    """Sends If-None-Match / If-Modified-Since from ``meta["conditional"]``, the validators
    the archive kept from the source's last successful fetch."""

    def process_request(self, request: Request) -> None:
        validators = request.meta.get("conditional") or {}
        if validators.get("etag") and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = validators["etag"]
        if validators.get("last_modified") and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = validators["last_modified"]
        return None


def parse_retry_after(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    when = times.parse_rfc822(text)
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries, plus a pause before each retry of a 5xx/429: the server's
    Retry-After when it sends one (a longer wait than ``max_retry_after`` gives up:
    we come back at the next interval), else an exponential backoff."""

    def __init__(self, settings):
        super().__init__(settings)
        self.backoff = settings.getfloat("NEWSWATCH_RETRY_BACKOFF", 2.0)
        self.max_wait = settings.getfloat("NEWSWATCH_MAX_RETRY_AFTER", 120.0)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        wait = parse_retry_after(response.headers.get(b"Retry-After"))
        if wait is not None and wait > self.max_wait:
            _note_retry_after(self.crawler, request, wait)
            raise RetryAfterTooLong(
                f"HTTP {response.status}: the server asks to retry after {wait:.0f} s,"
                f" more than max_retry_after ({self.max_wait:.0f} s)"
            )
        retries = request.meta.get("retry_times", 0)
        # Scrapy's public retry hook, with the per-request overrides its own middleware reads
        new = get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=response_status_message(response.status),
            max_retry_times=request.meta.get("max_retry_times", self.max_retry_times),
            priority_adjust=request.meta.get("priority_adjust", self.priority_adjust),
            give_up_log_level=request.meta.get("give_up_log_level", self.give_up_log_level),
        )
        if new is None:
            _note_retry_after(self.crawler, request, wait)  # the schedule's next try honours it
            return response
        if wait is None:
            wait = min(self.backoff * (2**retries), self.max_wait)
        if wait > 0:
            from twisted.internet import reactor, task

            # parked: not counted against the crawl's concurrency (crawler/politeness.py)
            parked = getattr(self.crawler.engine.downloader, "parked", set())
            parked.add(request)
            try:
                await maybe_deferred_to_future(task.deferLater(reactor, wait))
            finally:
                parked.discard(request)
        return new


def _note_retry_after(crawler: Crawler, request: Request, wait: float | None) -> None:
    """Tell the source's result the server's Retry-After (seconds), when there is one."""
    source = request.meta.get("source")
    if wait is None or not source:
        return
    from scrapy.exceptions import NotConfigured

    from crawler.crawl_context import CrawlContext

    with contextlib.suppress(NotConfigured, KeyError):  # no tracker: sources discover
        CrawlContext.of(crawler).tracker.result(source).retry_after = wait
