"""The sitemap spider: sitemap indexes, urlsets and news sitemaps -> article pages -> items.

Only pages that are new, or whose ``lastmod`` is later than when we fetched them, are
fetched. Sitemaps are parsed with lxml with entities and network access switched off.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from typing import Any

from lxml import etree
from scrapy.http import Response

from crawler.config import Source
from crawler.normalize import iso_utc, plain_text
from crawler.spiders.base import SourceSpider, blank_item
from crawler.urls import canonical_url

_PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "recover": True,
    "remove_comments": True,
    "huge_tree": False,
}


class SitemapTooDeep(ValueError):
    """The sitemap nests elements past libxml2's depth limit: it was not read to its end."""


class TooLarge(ValueError):
    """A compressed document inflates past the size cap."""


def gunzip_capped(data: bytes, max_size: int) -> bytes:
    """Decompress gzip ``data`` (one or more members), refusing to inflate past
    ``max_size`` bytes (0: no cap) with :class:`TooLarge`. A corrupt tail after some
    good data keeps the good data (as Scrapy's own gunzip does); a corrupt start raises."""
    out, size = [], 0
    while data:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            while data:
                piece = inflater.decompress(data, 1 << 16)
                size += len(piece)
                if max_size and size > max_size:
                    raise TooLarge(
                        f"the gzipped document inflates past max_page_bytes ({max_size} bytes)"
                    )
                out.append(piece)
                data = inflater.unconsumed_tail
                if inflater.eof or not piece:
                    break
            out.append(inflater.flush())  # output still held back (at most a window)
        except zlib.error:
            if not out:
                raise
            break
        if not inflater.eof:
            break
        data = inflater.unused_data  # the next gzip member, if any
    return b"".join(out)


def _local(tag: object) -> str:
    return tag.split("}", 1)[-1] if isinstance(tag, str) else ""


def _child_text(elem: etree._Element, *path: str) -> str | None:
    for child in elem:
        if _local(child.tag) == path[0]:
            if len(path) == 1:
                return (child.text or "").strip() or None
            return _child_text(child, *path[1:])
    return None


def parse_sitemap(body: bytes) -> tuple[str, list[dict]]:
    """(``"index"`` or ``"urlset"`` or ``""``, entries) from one sitemap document.

    Index entries are ``{loc}``; urlset entries are ``{loc, lastmod, published, title}``
    (the last two from news sitemaps). SitemapTooDeep when the document nests past the
    parser's depth limit (it would otherwise give the entries before that point as all)."""
    if body[:2] == b"\x1f\x8b":
        raise ValueError("gzip body must be decompressed first")
    parser = etree.XMLParser(**_PARSER_OPTIONS)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError:
        return "", []
    for error in parser.error_log:  # recovering, the parser silently stops at its limits
        if error.type_name == "ERR_RESOURCE_LIMIT":
            raise SitemapTooDeep(f"the XML parser stopped at line {error.line}: {error.message}")
    if root is None:
        return "", []
    kind = _local(root.tag).lower()
    entries = []
    if kind == "sitemapindex":
        for el in root:
            loc = _child_text(el, "loc")
            if loc:
                entries.append({"loc": loc})
        return "index", entries
    if kind != "urlset":
        return "", []
    for el in root:
        loc = _child_text(el, "loc")
        if not loc:
            continue
        entries.append(
            {
                "loc": loc,
                "lastmod": iso_utc(_child_text(el, "lastmod")),
                "published": iso_utc(_child_text(el, "news", "publication_date")),
                "title": plain_text(_child_text(el, "news", "title")),
            }
        )
    return "urlset", entries


def _join(response: Response, loc: str) -> str | None:
    """``loc`` as an absolute http(s) address, or None (malformed, or another scheme)."""
    try:
        url = response.urljoin(loc)
    except ValueError:  # http://[::1 and the like
        return None
    return url if url.startswith(("http://", "https://")) else None


class SitemapSpider(SourceSpider):
    """Walks each sitemap source (index -> sitemaps -> pages)."""

    name = "newswatch-sitemaps"

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._sitemaps: dict[str, int] = {}  # sitemap documents requested, per source

    def parse_root(self, response: Response, src: Source) -> Iterable[Any]:
        self._sitemaps[src.name] = 1
        yield from self.parse_sitemap(response, src, root=True)

    def parse_sitemap(self, response: Response, src: Source, root: bool = False) -> Iterable[Any]:
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                body = gunzip_capped(body, self.settings.getint("DOWNLOAD_MAXSIZE"))
            except TooLarge as e:  # a gzip bomb, or just more than max_page_bytes
                self._sitemap_error(src, root, "too_large", e)
                return
            except (OSError, EOFError, zlib.error) as e:  # not gzip after all, or corrupt
                self._sitemap_error(src, root, "parse_error", f"{type(e).__name__}: {e}")
                return
        try:
            kind, entries = parse_sitemap(body)
        except SitemapTooDeep as e:
            self._sitemap_error(src, root, "parse_error", e)
            return
        if not kind:
            self._sitemap_error(src, root, "parse_error", "not a sitemap (no urlset or index)")
            return
        if kind == "index":
            for entry in entries:
                if self._sitemaps[src.name] >= self.settings.getint("NEWSWATCH_MAX_SITEMAPS"):
                    break
                child = _join(response, entry["loc"])
                if not child:
                    continue
                self._sitemaps[src.name] += 1
                yield self.source_request(
                    src,
                    child,
                    self.parse_sitemap,
                    errback=self.child_failed,
                )
            return
        pattern = re.compile(src.url_pattern) if src.url_pattern else None
        pages = []
        for e in entries:
            url = _join(response, e["loc"])
            if url and not (pattern and not pattern.search(url)):
                pages.append((url, e))
        self.tracker.result(src.name).items_seen += len(pages)
        # Newest first, so the per-crawl cap keeps the latest news.
        pages.sort(key=lambda p: p[1]["lastmod"] or p[1]["published"] or "", reverse=True)
        known = self.known(src, [canonical_url(u) for u, _ in pages])
        for url, e in pages:
            fetched = known.get(canonical_url(url))
            if fetched is not None and not (e["lastmod"] and e["lastmod"] > fetched):
                continue
            if not self.may_fetch(src):
                break
            item = blank_item(
                url,
                _title_hint=e["title"],
                published_at=e["published"],
                updated_at=e["lastmod"],
            )
            yield self.article_request(src, url, item)

    def _sitemap_error(self, src: Source, root: bool, error_class: str, problem: Any) -> None:
        if root:
            self.tracker.fail(src.name, error_class, str(problem))
        else:
            self.tracker.result(src.name).pages_failed += 1

    def child_failed(self, failure, src: Source, **_: Any) -> None:
        self.tracker.result(src.name).pages_failed += 1
