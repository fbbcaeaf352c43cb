"""Host name resolution for crawls: the addresses a host name resolved to, kept a few
minutes and shared by the private-address guard and the connections, and numeric hosts
answered without a lookup.

The Twisted reactor the crawls run on resolves every connection's host with
``getaddrinfo`` in its thread pool (``AsyncCrawlerRunner`` installs no resolver), even a
host written as an address, and the private-address guard
(:class:`crawler.middlewares.AddressGuardMiddleware`) had already resolved the same name
in another thread: two lookups a host, and each handoff to a thread and back makes the
reactor thread wait for the interpreter lock. Here a name is resolved once for both (the
connection then goes to the addresses the guard checked), and an address is an address.
Measured on 200 unchanged feeds on 200 loopback addresses, crawled in one process
(alternated runs, load 5-6): 0.329 -> 0.311 s of CPU a crawl (median of 15).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Sequence

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IHostnameResolver, IHostResolution, IResolutionReceiver
from zope.interface import implementer

CACHE_SECONDS = 300.0  # how long a resolved name is trusted (crawls run minutes apart)
CACHE_SIZE = 4096


class AddressCache:
    """Host name -> the addresses it resolved to, for ``ttl`` seconds."""

    def __init__(self, ttl: float = CACHE_SECONDS, size: int = CACHE_SIZE, clock=time.monotonic):
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self._hosts: dict[str, tuple[float, list[str]]] = {}

    def get(self, host: str) -> list[str] | None:
        """The addresses kept for ``host``, or None when none are (or they are too old)."""
        hit = self._hosts.get(host.lower())
        if hit is None:
            return None
        if self.clock() - hit[0] >= self.ttl:
            del self._hosts[host.lower()]
            return None
        return hit[1]

    def put(self, host: str, addresses: list[str]) -> None:
        """Keep what ``host`` resolved to (nothing is kept for a name that resolved to none:
        it is asked again next time)."""
        if not addresses:
            return
        if len(self._hosts) >= self.size:
            self._hosts.clear()
        self._hosts[host.lower()] = (self.clock(), sorted(set(addresses)))

    def clear(self) -> None:
        self._hosts.clear()


# One per process, as the reactor whose resolver reads it.
ADDRESSES = AddressCache()


def literal_address(host: str) -> str | None:
    """``host`` when it is an IP address in its plain form (the only numeric form a URL's
    host takes after Scrapy's parsing here: others are left to getaddrinfo), else None."""
    if not host or "%" in host or not (host[0].isdigit() or ":" in host):
        return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


async def resolve(host: str, timeout: float, cache: AddressCache = ADDRESSES) -> list[str]:
    """Every address ``host`` resolves to (from the cache when it is fresh there; else by
    ``getaddrinfo`` in a thread, and kept). Raises OSError or TimeoutError as the lookup
    does."""
    kept = cache.get(host)
    if kept is not None:
        return kept
    infos = await asyncio.wait_for(
        asyncio.to_thread(socket.getaddrinfo, host, None, type=socket.SOCK_STREAM), timeout
    )
    addresses = sorted({str(info[4][0]) for info in infos})
    cache.put(host, addresses)
    return addresses


def _address(address: str, port: int) -> IPv4Address | IPv6Address:
    if ":" in address:
        return IPv6Address("TCP", address, port)
    return IPv4Address("TCP", address, port)


@implementer(IHostnameResolver)
class CachingResolver:
    """The reactor's host name resolver for crawls: a literal address is answered at once,
    a name from :data:`ADDRESSES` when it is fresh there, else by the resolver it replaces
    (Twisted's ``getaddrinfo`` in a thread), whose answer is then kept."""

    def __init__(self, fallback: IHostnameResolver, cache: AddressCache = ADDRESSES):
        self.fallback = fallback
        self.cache = cache

    def resolveHostName(  # noqa: N802 (Twisted's interface)
        self,
        resolutionReceiver: IResolutionReceiver,  # noqa: N803
        hostName: str,  # noqa: N803
        portNumber: int = 0,  # noqa: N803
        addressTypes: Sequence[type] | None = None,  # noqa: N803
        transportSemantics: str = "TCP",  # noqa: N803
    ):
        literal = literal_address(hostName)
        addresses = [literal] if literal else self.cache.get(hostName)
        if addresses is None or transportSemantics != "TCP":
            receiver = resolutionReceiver
            if transportSemantics == "TCP" and addressTypes is None:  # all of its addresses
                receiver = _Keeping(resolutionReceiver, hostName, self.cache)
            return self.fallback.resolveHostName(
                receiver, hostName, portNumber, addressTypes, transportSemantics
            )
        resolution = _Resolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        for a in addresses:
            address = _address(a, portNumber)
            if addressTypes is None or type(address) in addressTypes:
                resolutionReceiver.addressResolved(address)
        resolutionReceiver.resolutionComplete()
        return resolution


@implementer(IHostResolution)
class _Resolution:
    """A resolution answered at once (nothing left to cancel)."""

    def __init__(self, name: str):
        self.name = name

    def cancel(self) -> None:
        pass


@implementer(IResolutionReceiver)
class _Keeping:
    """Passes a resolution on to ``receiver`` and keeps its addresses in the cache."""

    def __init__(self, receiver: IResolutionReceiver, host: str, cache: AddressCache):
        self.receiver = receiver
        self.host = host
        self.cache = cache
        self.addresses: list[str] = []

    def resolutionBegan(self, resolution) -> None:  # noqa: N802
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address) -> None:  # noqa: N802
        self.addresses.append(address.host)
        self.receiver.addressResolved(address)

    def resolutionComplete(self) -> None:  # noqa: N802
        self.cache.put(self.host, self.addresses)
        self.receiver.resolutionComplete()


def install(reactor=None) -> None:
    """Make :class:`CachingResolver` the reactor's host name resolver (once)."""
    if reactor is None:
        from twisted.internet import reactor
    if not isinstance(reactor.nameResolver, CachingResolver):
        reactor.installNameResolver(CachingResolver(reactor.nameResolver))
