"""Downloader middlewares: the private-address guard, conditional GET, and retries with
backoff that honour Retry-After."""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.exceptions import CannotResolveHostError
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message
from twisted.internet.error import DNSLookupError

from crawler import resolver, times
from crawler.fetch_outcomes import PrivateAddressRefused, RetryAfterTooLong
from crawler.resolver import AddressLookup, HostPermit
from crawler.robots import robots_allow_private
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
    (``2130706433``, ``127.1``, ``0177.0.0.1``, IPv4-mapped IPv6...), and refused here. A
    host name is checked when the connection resolves it, on the addresses it connects to
    (:mod:`crawler.resolver`, installed here): no lookup of ours before, so nothing to
    rebind between a check and the connection, and no failed check to let a request
    through. A request allowed private addresses permits its host for the crawl's
    connections (the hosts of the crawl's allowed sources are permitted from its start), so
    a request not allowed to a host any running crawl permits is checked here, by a lookup
    of our own, and refused when it cannot be checked (see :mod:`crawler.resolver` for what
    that leaves open). Behind a proxy, :class:`PeerAddressMiddleware` resolves the name
    here."""

    def __init__(
        self, allow: bool, permit: HostPermit, dns_timeout: float = 10.0, reactor: Any = None
    ):
        self.allow = allow
        self.permit = permit
        self.lookup = AddressLookup(dns_timeout)
        self.reactor = reactor  # whose resolver checks the connections (None: not ours to)
        self.crawler: Crawler | None = None
        if reactor is not None:
            resolver.install(reactor)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        from twisted.internet import reactor

        guard = cls(
            crawler.settings.getbool("NEWSWATCH_ALLOW_PRIVATE_ADDRESSES"),
            resolver.permit_for(crawler),
            crawler.settings.getfloat("DNS_TIMEOUT", 10.0),
            reactor,
        )
        guard.crawler = crawler
        return guard

    async def process_request(self, request: Request) -> None:
        host = urlparse_cached(request).hostname or ""
        if "allow_private_addresses" not in request.meta and self.crawler is not None:
            # a robots.txt request is allowed as the request it was fetched for
            allow = robots_allow_private(self.crawler, request)
            if allow is not None:
                request.meta["allow_private_addresses"] = allow
        if _allowed(request, self.allow):
            self.permit.add(host)  # the connection may then resolve it to a private address
            return None
        if is_private_address(host):
            raise PrivateAddressRefused(f"private address {host} refused{_HINT}")
        if numeric_host(host) is not None:
            return None  # a public address, in whichever form it was written
        if self.reactor is not None and not resolver.installed(self.reactor):
            resolver.install(self.reactor)  # something replaced the reactor's: ours again
        if resolver.permitted(host):
            # Another source (of any kind: each kind is its own crawler) may reach this
            # name at a private address, so the connections do: check it here, and refuse
            # what cannot be checked.
            await _check_name(self.lookup, host, fail_closed=True)
        return None


async def _check_name(lookup: AddressLookup, host: str, fail_closed: bool) -> None:
    """Resolve ``host`` here and refuse it when any address is private; a failed lookup
    refuses it too when ``fail_closed``, else it is left to the download (or proxy)."""
    try:
        addresses = await lookup.addresses(host)
    except (OSError, TimeoutError, UnicodeError) as exc:
        if fail_closed:
            raise PrivateAddressRefused(
                f"{host} refused: private addresses are allowed for it for another source,"
                f" and its address could not be checked ({exc or type(exc).__name__}){_HINT}"
            ) from exc
        return
    private = [a for a in addresses if is_private_address(a)]
    if private:
        raise PrivateAddressRefused(f"{host} refused: private address {private[0]}{_HINT}")


class PeerAddressMiddleware:
    """After the proxy middleware: a proxy's host is permitted (the operator's, often
    local), and a request sent through one has its host name resolved and checked here, the
    only check we can make (the proxy resolves it again, on its own; a name that does not
    resolve here is left to it). A connection refused by :mod:`crawler.resolver` is
    reported as ``private_address_refused``; the address a response really came from is
    checked too (without a proxy: with one, that is the proxy's)."""

    def __init__(self, allow: bool, permit: HostPermit, dns_timeout: float = 10.0):
        self.allow = allow
        self.permit = permit
        self.lookup = AddressLookup(dns_timeout)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PeerAddressMiddleware:
        return cls(
            crawler.settings.getbool("NEWSWATCH_ALLOW_PRIVATE_ADDRESSES"),
            resolver.permit_for(crawler),
            crawler.settings.getfloat("DNS_TIMEOUT", 10.0),
        )

    async def process_request(self, request: Request) -> None:
        proxy = request.meta.get("proxy")
        if not proxy:
            return None
        self.permit.add(urlsplit(proxy).hostname or "")
        if _allowed(request, self.allow):
            return None
        host = urlparse_cached(request).hostname or ""
        if numeric_host(host) is None and not is_private_address(host):
            await _check_name(self.lookup, host, fail_closed=False)
        return None

    def process_exception(self, request: Request, exception: Exception) -> None:
        if not isinstance(exception, DNSLookupError | CannotResolveHostError):
            return None
        host = urlparse_cached(request).hostname or ""
        private = resolver.refusal(host)
        if private is not None and not request.meta.get("proxy"):
            raise PrivateAddressRefused(
                f"{host} refused: private address {private}{_HINT}"
            ) from exception
        return None

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
