"""The listing spider: HTML pages that link to articles -> article pages -> items."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from lxml import etree
from parsel import Selector
from scrapy.http import Response, TextResponse

from crawler.config import Source
from crawler.normalize import plain_text
from crawler.spiders.base import SourceSpider, blank_item


class PageTooDeep(ValueError):
    """The HTML parser stopped part-way: the page nests elements past libxml2's limit."""


def page_selector(response: TextResponse) -> Selector:
    """The page parsed as parsel would (lxml, recovering, huge trees allowed), but with the
    parser's error log read: a page nested past libxml2's depth limit (2048 levels) is
    silently cut there, so that raises :class:`PageTooDeep` instead of giving the links
    of a part of the page as if they were all."""
    parser = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)
    body = response.text.strip().replace("\x00", "").encode("utf-8") or b"<html/>"
    root = etree.fromstring(body, parser=parser)
    for error in parser.error_log:
        if error.type_name == "ERR_RESOURCE_LIMIT":
            raise PageTooDeep(f"the HTML parser stopped at line {error.line}: {error.message}")
    if root is None:
        root = etree.fromstring(b"<html/>", parser=parser)
    return Selector(root=root, type="html")


def _links(page: Selector, css: str | None, xpath: str | None) -> list[tuple[str, str]]:
    """(URL as written, anchor text) for every link the selector picks, in page order."""
    selected = []
    if css:
        selected += page.css(css)
    if xpath:
        selected += page.xpath(xpath)
    out = []
    for sel in selected:
        href, text = _href(sel)
        if href:
            out.append((href.strip(), text or ""))
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
        try:
            sel = page_selector(response)
        except PageTooDeep as e:
            problem = f"listing page {response.url}: {e}"
            self.logger.warning("source %s: %s", src.name, problem)
            if page == 1:
                self.tracker.fail(src.name, "parse_error", problem[:500])
            else:
                self.tracker.result(src.name).pages_failed += 1
            return
        for href, text in _links(sel, src.links, src.links_xpath):
            try:
                url = response.urljoin(href)
            except ValueError:  # a malformed address (http://[::1): no link to follow
                continue
            if not url.startswith(("http://", "https://")) or (pattern and not pattern.search(url)):
                continue
            pairs.append((url, blank_item(url, _title_hint=text or None)))
        self.tracker.result(src.name).items_seen += len(pairs)
        for url, item in self.new_links(src, pairs):
            if self.may_fetch(src):
                yield self.article_request(src, url, item)
        if src.next_page and page < src.max_pages:
            nxt = sel.css(src.next_page)
            href, _ = _href(nxt[0]) if nxt else (None, None)
            try:
                nxt_url = response.urljoin(href) if href else ""
            except ValueError:  # a malformed next-page address
                nxt_url = ""
            if nxt_url.startswith(("http://", "https://")):
                yield self.source_request(
                    src,
                    nxt_url,
                    self.parse_listing,
                    errback=self.page_failed,
                    kwargs={"page": page + 1},
                )

    def page_failed(self, failure, src: Source, **_: Any) -> None:
        self.tracker.result(src.name).pages_failed += 1
