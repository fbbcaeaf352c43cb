"""The private-address check at connection time: the reactor's host name resolver, wrapped so
that a host resolving to a loopback, private, link-local or other non-public address gives
nothing to connect to, unless a running crawl permits private addresses for that host.

Checking a name before the request and connecting later resolves it twice, and the two
answers can differ (DNS rebinding), or the check's lookup can fail where the connection's
succeeds. Here the check is made on the very addresses the connection is about to use: a
refused host's connection fails with no address (Twisted's ``DNSLookupError``), before any
byte is sent, and :func:`refusal` tells which private address it had, so the downloader
middleware (:class:`crawler.middlewares.PeerAddressMiddleware`) reports it as
``private_address_refused``.

The resolver is the reactor's, so one per process; the permission is per crawl, and a
crawl runs one Scrapy crawler per source kind, all sharing one :class:`HostPermit` (the
runner puts it in their settings, :data:`SETTING`; :func:`permit_for` gives it to each). It
holds the host names the crawl's requests may reach at private addresses: from the start,
before any request, the host of every source allowed private addresses
(:func:`permit_for_sources`), then the host of every request allowed to that the
private-address guard sees (redirects, links, proxies). A host any running crawl permits
resolves as it is, so the guard checks a request NOT allowed private addresses to such a
host itself, by a lookup of its own, before the request is scheduled (refused when an
address is private or the lookup fails).

Residual gaps: for a permitted host that check is our lookup, not the connection's (an
answer that changes between the two is caught only on the response's peer address, after
the request was sent); and a host permitted on the fly (reached only through an allowed
source's redirect or link) was not permitted when another source's request to it passed
the guard earlier: that request, waiting in its download slot, may still be sent to the
private address.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from twisted.internet.interfaces import IHostnameResolver, IResolutionReceiver
from zope.interface import implementer

from crawler.urls import is_private_address

_REFUSALS_SIZE = 4096


def host_key(host: str) -> str:
    """A host as the permits and refusals know it: lower case, no brackets, no final dot."""
    return host.strip().strip("[]").rstrip(".").lower()


class HostPermit:
    """The host names one crawl may reach at private addresses."""

    def __init__(self, hosts: Iterable[str] = ()) -> None:
        self.hosts: set[str] = {host_key(h) for h in hosts if h}

    def add(self, host: str) -> None:
        """Permit ``host`` (a name or an address, as written in the URL) for this crawl."""
        if host not in self.hosts:  # (a URL's host is already in its key form, mostly)
            self.hosts.add(host_key(host))

    def __contains__(self, host: str) -> bool:
        return host in self.hosts or host_key(host) in self.hosts

    def __deepcopy__(self, memo: dict) -> HostPermit:
        return self  # Scrapy deep-copies its settings per crawler: one permit per crawl


def permit_for_sources(sources: Iterable[Any], allow_default: bool) -> HostPermit:
    """A crawl's permit, made before any of its requests: the hosts of the ``sources``
    allowed private addresses (their own ``allow_private_addresses``, else
    ``allow_default``, the ``[crawl]`` setting)."""
    hosts = []
    for src in sources:
        allow = src.allow_private_addresses
        if allow_default if allow is None else allow:
            hosts.append(urlsplit(src.url).hostname or "")
    return HostPermit(hosts)


SETTING = "NEWSWATCH_HOST_PERMIT"  # the crawl's HostPermit, shared by its crawlers

# The permits of the running crawls (dropped with their crawler, or when it stops).
_PERMITS: weakref.WeakKeyDictionary[Any, HostPermit] = weakref.WeakKeyDictionary()
# host -> the private address its last resolution was refused for
_REFUSED: dict[str, str] = {}


def permit_for(crawler: Any) -> HostPermit:
    """The crawler's permit: its crawl's (the settings' :data:`SETTING`), else one of its
    own; counted as running from the first call until the crawler's engine stops."""
    permit = _PERMITS.get(crawler)
    if permit is None:
        shared = crawler.settings.get(SETTING)
        permit = shared if isinstance(shared, HostPermit) else HostPermit()
        _PERMITS[crawler] = permit
        from scrapy import signals

        crawler.signals.connect(_closer(crawler), signal=signals.engine_stopped, weak=False)
    return permit


def _closer(crawler: Any):
    ref = weakref.ref(crawler)

    def close() -> None:
        c = ref()
        if c is not None:
            _PERMITS.pop(c, None)

    return close


class _Running:
    """A running user of a permit that is no Scrapy crawler (the revalidation pass)."""


@contextlib.contextmanager
def running(permit: HostPermit) -> Iterator[None]:
    """Count ``permit`` as a running crawl's while the block runs (for connections made
    outside Scrapy, as :mod:`crawler.revalidate` makes them)."""
    token = _Running()
    _PERMITS[token] = permit
    try:
        yield
    finally:
        _PERMITS.pop(token, None)


def permitted(host: str) -> bool:
    """True when a running crawl permits ``host`` to resolve to a private address."""
    return any(host in p for p in list(_PERMITS.values()))


def refusal(host: str) -> str | None:
    """The private address ``host``'s last resolution was refused for, or None."""
    return _REFUSED.get(host_key(host))


@implementer(IHostnameResolver)
class GuardedResolver:
    """The reactor's host name resolver, answering through the one it replaces (so a lookup
    costs and takes what it did), with every answer checked before the connection sees it:
    a host not permitted that has any non-public address gets no address at all.

    Installed on the reactor by the private-address guard when a crawl starts
    (:func:`install`)."""

    def __init__(self, reactor: Any, wrapped: IHostnameResolver | None = None):
        self.reactor = reactor
        self.wrapped = wrapped if wrapped is not None else reactor.nameResolver

    def install_on_reactor(self) -> None:
        """Make this the reactor's resolver (unless one of ours already is)."""
        if not isinstance(self.reactor.nameResolver, GuardedResolver):
            self.reactor.installNameResolver(self)

    def resolveHostName(  # noqa: N802 (Twisted's interface)
        self,
        resolutionReceiver: IResolutionReceiver,  # noqa: N803
        hostName: str,  # noqa: N803
        portNumber: int = 0,  # noqa: N803
        addressTypes: Sequence[type] | None = None,  # noqa: N803
        transportSemantics: str = "TCP",  # noqa: N803
    ):
        return self.wrapped.resolveHostName(
            _Checked(resolutionReceiver, hostName),
            hostName,
            portNumber,
            addressTypes,
            transportSemantics,
        )


@implementer(IResolutionReceiver)
class _Checked:
    """Holds a resolution's addresses until it is complete, then passes them all on, or
    none when the host is not permitted and one of them is not public."""

    def __init__(self, receiver: IResolutionReceiver, host: str):
        self.receiver = receiver
        self.host = host
        self.addresses: list[Any] = []

    def resolutionBegan(self, resolution) -> None:  # noqa: N802
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address) -> None:  # noqa: N802
        self.addresses.append(address)

    def resolutionComplete(self) -> None:  # noqa: N802
        key = host_key(self.host)
        private = None
        if not permitted(key):  # (asked first: a permitted host's addresses need no reading)
            private = next(
                (a.host for a in self.addresses if is_private_address(str(a.host))), None
            )
        if private is not None:
            if len(_REFUSED) >= _REFUSALS_SIZE:
                _REFUSED.clear()
            _REFUSED[key] = str(private)
        else:
            _REFUSED.pop(key, None)
            for address in self.addresses:
                self.receiver.addressResolved(address)
        self.receiver.resolutionComplete()


def install(reactor: Any = None) -> None:
    """Make :class:`GuardedResolver` the reactor's host name resolver (once)."""
    if reactor is None:
        from twisted.internet import reactor
    GuardedResolver(reactor).install_on_reactor()


def installed(reactor: Any = None) -> bool:
    """True when the reactor resolves through :class:`GuardedResolver`."""
    if reactor is None:
        from twisted.internet import reactor
    return isinstance(reactor.nameResolver, GuardedResolver)


class AddressLookup:
    """Every address a host name resolves to here, by ``getaddrinfo`` in a thread (kept a
    few minutes): for the checks that cannot be made at the connection, a request sent
    through a proxy (the proxy resolves the name, not us)."""

    CACHE_SECONDS = 300.0
    CACHE_SIZE = 4096

    def __init__(self, timeout: float = 10.0):
        self.timeout = timeout
        self._resolved: dict[str, tuple[float, list[str]]] = {}  # host -> (when, addresses)

    async def addresses(self, host: str) -> list[str]:
        """Raises OSError, TimeoutError or UnicodeError as the lookup does."""
        now = time.monotonic()
        hit = self._resolved.get(host)
        if hit is not None and now - hit[0] < self.CACHE_SECONDS:
            return hit[1]
        infos = await asyncio.wait_for(
            asyncio.to_thread(socket.getaddrinfo, host, None, type=socket.SOCK_STREAM),
            self.timeout,
        )
        addresses = sorted({str(info[4][0]) for info in infos})
        if len(self._resolved) >= self.CACHE_SIZE:
            self._resolved.clear()
        self._resolved[host] = (now, addresses)
        return addresses
