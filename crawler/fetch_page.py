"""Fetching single pages by address (`newswatch extract URL`), through Scrapy like a crawl.

The crawl's own settings and middlewares apply: the private-address guard (and
``allow_private_addresses``), robots.txt, the size cap, the download timeout, retries and
redirects (only to http and https). Nothing is stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import scrapy
from scrapy.http import HtmlResponse, Response
from twisted.python.failure import Failure

from crawler.config import CrawlSettings
from crawler.settings import scrapy_settings

#: Content types read as HTML; Scrapy also makes an HtmlResponse of a body that sniffs as one.
HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass
class Page:
    """What fetching one address gave: the page (``body``), or why not (``error``)."""

    url: str  # the address asked for
    final_url: str | None = None  # after redirects
    status: int | None = None
    content_type: str | None = None
    body: bytes | None = None
    error_class: str | None = None  # as in the sources table: http_4xx, private_address_refused...
    error: str | None = None

    @property
    def ok(self) -> bool:
        """An HTML page came back."""
        return self.body is not None and self.error is None


class PageSpider(scrapy.Spider):
    """Fetches each address once; yields ``{"index", ...Page fields}`` per address."""

    name = "newswatch-page"

    def __init__(self, *, urls: list[str], obey_robots: bool = True, **kw: Any):
        super().__init__(**kw)
        self.urls = urls
        self.obey_robots = obey_robots

    async def start(self):
        for index, url in enumerate(self.urls):
            yield scrapy.Request(
                url,
                self.parse_page,
                errback=self.failed,
                cb_kwargs={"index": index},
                meta={"dont_obey_robotstxt": not self.obey_robots},
                dont_filter=True,
            )

    def parse_page(self, response: Response, index: int) -> Iterator[dict]:
        kind = (response.headers.get("Content-Type") or b"").decode("latin-1")
        kind = kind.split(";")[0].strip().lower()
        out = {
            "index": index,
            "final_url": response.url,
            "status": response.status,
            "content_type": kind or None,
        }
        if isinstance(response, HtmlResponse) or kind in HTML_TYPES:
            yield {**out, "body": response.body}
        else:
            yield {
                **out,
                "error_class": "not_html",
                "error": f"not an HTML page (Content-Type: {kind or 'none'})",
            }

    def failed(self, failure: Failure) -> Iterator[dict]:
        from crawler.fetch_outcomes import classify

        error_class, message, status = classify(failure)
        yield {
            "index": failure.request.cb_kwargs["index"],
            "status": status,
            "error_class": error_class,
            "error": message,
        }


async def fetch_pages(urls: list[str], crawl: CrawlSettings) -> list[Page]:
    """Fetch each of ``urls`` once, in parallel within the crawl's limits; one Page each,
    in order. Needs the asyncio reactor running."""
    from scrapy import signals
    from scrapy.crawler import AsyncCrawlerRunner

    settings = scrapy_settings(crawl)
    settings["ITEM_PIPELINES"] = {}
    settings["AUTOTHROTTLE_ENABLED"] = False
    pages = [Page(url) for url in urls]

    def collect(item: dict) -> None:
        page = pages[item.pop("index")]
        for key, value in item.items():
            setattr(page, key, value)

    runner = AsyncCrawlerRunner(settings)
    crawler = runner.create_crawler(PageSpider)
    crawler.signals.connect(collect, signal=signals.item_scraped, weak=False)
    await runner.crawl(crawler, urls=list(urls), obey_robots=crawl.obey_robots)
    limit = f"{crawl.crawl_timeout.total_seconds():g} s"
    for page in pages:
        if page.body is None and page.error is None:  # the crawl's time ran out first
            page.error_class, page.error = "timeout", f"timed out: no answer within {limit}"
    return pages


def run_fetch_pages(urls: list[str], crawl: CrawlSettings) -> list[Page]:
    """Blocking :func:`fetch_pages` for the CLI (Ctrl-C stops it: crawler/oneshot.py)."""
    from crawler.oneshot import run_blocking

    return run_blocking(lambda stop: fetch_pages(urls, crawl), graceful=False)
