"""Canonical article URLs and the private-address check.

One article has one canonical URL: the scheme and host are lower-cased, the default port,
the fragment and tracking parameters are dropped, the remaining query is sorted, relative
links are resolved, and a trailing slash on a non-root path is removed (``/a/b/`` and
``/a/b`` are one article; the root ``/`` keeps its slash).
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# Parameters that only say where a click came from, never which page it is.
_TRACKING_EXACT = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_conv",
        "vero_id",
        "wt_mc",
        "cmpid",
        "ocid",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "rss",
        "at_medium",
        "at_campaign",
        "at_custom1",
        "at_custom2",
        "at_custom3",
        "at_custom4",
        "spm",
        "share",
        "ref_src",
    }
)
_TRACKING_PREFIX = ("utm_", "pk_", "mtm_", "__hs", "hsa_")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_tracking_param(name: str) -> bool:
    """True for query parameters that identify a campaign or click, not a page."""
    n = name.lower()
    return n in _TRACKING_EXACT or n.startswith(_TRACKING_PREFIX)


# Cached: a parse worker takes each item's canonical URL twice (crawler.feed_result.check_item
# proves it has one, crawler.store.prepare_item keeps it), and a feed's links are asked again
# on each crawl.
@lru_cache(maxsize=8192)
def canonical_url(url: str, base: str | None = None) -> str:
    """The one address an article is stored under (see the module docstring for the rules)."""
    url = url.strip()
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    if host and ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host  # credentials in a URL are never part of an article's identity
    if port and _DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{host}:{port}"
    path = parts.path or "/"
    path = re.sub(r"/{2,}", "/", path)
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking_param(k)
    ]
    query.sort()
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def numeric_host(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a host written as a number means, or None for a name.

    Every form a resolver accepts (``inet_aton``) counts, not only dotted quads: one to
    four parts, each decimal, octal (leading ``0``) or hex (``0x``), the last part filling
    the remaining bytes (``2130706433``, ``127.1``, ``0177.0.0.1``, ``0x7f.1`` are all
    127.0.0.1); IPv6 literals with or without brackets and a zone; an IPv4-mapped or
    IPv4-compatible IPv6 address means its IPv4 address."""
    h = host.strip().strip("[]").rstrip(".").lower()
    if not h:
        return None
    try:
        ip = ipaddress.ip_address(h.split("%", 1)[0])
    except ValueError:
        ip = _inet_aton(h)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:  # 2002:AABB:CCDD:: reaches a.b.c.d through 6to4
            return ip.sixtofour
        if int(ip) >> 32 == 0 and int(ip) > 1:  # ::a.b.c.d (deprecated IPv4-compatible)
            return ipaddress.IPv4Address(int(ip))
        if ip in _NAT64:  # 64:ff9b::a.b.c.d reaches a.b.c.d through a NAT64 gateway
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


_PART = re.compile(r"0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*")


def _inet_aton(h: str) -> ipaddress.IPv4Address | None:
    parts = h.split(".")
    if not 1 <= len(parts) <= 4 or not all(_PART.fullmatch(p) for p in parts):
        return None
    values = []
    for p in parts:
        if p.startswith("0x"):
            values.append(int(p[2:] or "0", 16))
        elif p.startswith("0") and len(p) > 1:
            values.append(int(p, 8))
        else:
            values.append(int(p))
    *head, last = values
    if any(v > 255 for v in head) or last >= 1 << (8 * (4 - len(head))):
        return None
    number = 0
    for v in head:
        number = number << 8 | v
    return ipaddress.IPv4Address(number << (8 * (4 - len(head))) | last)


def is_private_address(host: str) -> bool:
    """True for loopback, private, link-local, unspecified, reserved and multicast
    addresses in any numeric form (see :func:`numeric_host`), and for ``localhost`` names.
    A host name is False here: resolve it first (the address guard does, and checks the
    connected address too)."""
    h = host.strip().strip("[]").rstrip(".").lower()
    if h == "localhost" or h.endswith(".localhost"):
        return True
    ip = numeric_host(h)
    if ip is None:
        return False
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_unspecified
        or ip.is_reserved
        or ip.is_multicast
        or (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT)
        or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)  # fec0::/10
    )


_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
