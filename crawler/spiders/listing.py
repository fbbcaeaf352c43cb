"""The listing spider: HTML pages that link to articles -> article pages -> items."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from parsel import Selector
from scrapy.http import Response, TextResponse

from crawler.config import Source
from crawler.normalize import plain_text
from crawler.spiders.base import SourceSpider, blank_item


def _links(response: TextResponse, css: str | None, xpath: str | None) -> list[tuple[str, str]]:
    """(absolute URL, anchor text) for every link the selector picks, in page order."""
    selected = []
    if css:
        selected += response.css(css)
    if xpath:
        selected += response.xpath(xpath)
    out = []
    for sel in selected:
        href, text = _href(sel)
        if href:
            out.append((response.urljoin(href.strip()), text or ""))
    return out


def _href(sel: Selector) -> tuple[str | None, str | None]:
    root = sel.root
    if isinstance(root, str):  # the selector ended in ::attr(href) or /@href
        return root, None
    href = sel.attrib.get("href")
    if href is None:  # a container was selected: take its first link
        inner = sel.css("a[href]")
        if not inner:
            return None, None
        sel = inner[0]
        href = sel.attrib.get("href")
    return href, plain_text(" ".join(sel.css("::text").getall()))


class ListingSpider(SourceSpider):
    """Follows the article links of each listing page (and its next pages)."""

    name = "newswatch-listings"

    def parse_root(self, response: Response, src: Source) -> Iterable[Any]:
        yield from self.parse_listing(response, src, page=1)

    def parse_listing(self, response: Response, src: Source, page: int = 1) -> Iterable[Any]:
        if not isinstance(response, TextResponse):
            self.tracker.fail(src.name, "parse_error", "the listing page is not HTML")
            return
        pattern = re.compile(src.url_pattern) if src.url_pattern else None
        pairs = []
        for url, text in _links(response, src.links, src.links_xpath):
            if not url.startswith(("http://", "https://")) or (pattern and not pattern.search(url)):
                continue
            pairs.append((url, blank_item(url, _title_hint=text or None)))
        self.tracker.result(src.name).items_seen += len(pairs)
        for url, item in self.new_links(src, pairs):
            if self.may_fetch(src):
                yield self.article_request(src, url, item)
        if src.next_page and page < src.max_pages:
            nxt = response.css(src.next_page)
            href, _ = _href(nxt[0]) if nxt else (None, None)
            if href:
                yield self.source_request(
                    src,
                    response.urljoin(href),
                    self.parse_listing,
                    errback=self.page_failed,
                    kwargs={"page": page + 1},
                )

    def page_failed(self, failure, src: Source, **_: Any) -> None:
        self.tracker.result(src.name).pages_failed += 1
