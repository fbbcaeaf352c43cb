"""Discovering a site's feeds (``<link rel="alternate">``) and sitemaps (robots.txt),
fetched through Scrapy like everything else, printed as config to paste."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawler.config import CrawlSettings
from crawler.settings import scrapy_settings

FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/feed+json",
    "application/json",
    "text/xml",
    "application/xml",
)


@dataclass
class Discovery:
    """What a homepage and its robots.txt name."""

    url: str
    feeds: list[dict] = field(default_factory=list)  # {url, title, type}
    sitemaps: list[str] = field(default_factory=list)
    error: str | None = None


def feeds_in_page(response: TextResponse) -> list[dict]:
    """The feeds a page announces with ``<link rel="alternate" type="...">``."""
    out, seen = [], set()
    for link in response.css("link[href]"):
        rel = (link.attrib.get("rel") or "").lower().split()
        kind = (link.attrib.get("type") or "").lower().split(";")[0].strip()
        if "alternate" not in rel or kind not in FEED_TYPES:
            continue
        url = response.urljoin(link.attrib["href"].strip())
        if url not in seen:
            seen.add(url)
            out.append({"url": url, "title": link.attrib.get("title") or "", "type": kind})
    return out


def sitemaps_in_robots(text: str, base: str) -> list[str]:
    """The ``Sitemap:`` lines of a robots.txt."""
    from urllib.parse import urljoin

    found = re.findall(r"(?im)^\s*sitemap\s*:\s*(\S+)", text)
    return list(dict.fromkeys(urljoin(base, u) for u in found))


class DiscoverSpider(scrapy.Spider):
    """Fetches one homepage and its robots.txt; yields what they name as items
    (``{"feeds": [...]}``, ``{"sitemaps": [...]}``, or ``{"error": "..."}``)."""

    name = "newswatch-discover"

    def __init__(self, *, url: str, **kw: Any):
        super().__init__(**kw)
        self.url = url

    async def start(self):
        parts = urlsplit(self.url)
        robots = f"{parts.scheme}://{parts.netloc}/robots.txt"
        yield scrapy.Request(self.url, self.parse_home, errback=self.failed)
        yield scrapy.Request(
            robots,
            self.parse_robots,
            errback=self.robots_failed,
            meta={"dont_obey_robotstxt": True},
        )

    def parse_home(self, response: Response) -> Iterator[dict]:
        if isinstance(response, TextResponse):
            yield {"feeds": feeds_in_page(response)}

    def parse_robots(self, response: Response) -> Iterator[dict]:
        if isinstance(response, TextResponse):
            yield {"sitemaps": sitemaps_in_robots(response.text, response.url)}

    def failed(self, failure: Failure) -> Iterator[dict]:
        from crawler.fetch_outcomes import classify

        error_class, message, _ = classify(failure)
        yield {"error": f"{error_class}: {message}"}

    def robots_failed(self, failure: Failure) -> None:
        """No robots.txt: no sitemaps to name, and nothing wrong with the site."""


async def discover(url: str, crawl: CrawlSettings) -> Discovery:
    """Fetch ``url`` and its robots.txt; needs the asyncio reactor running."""
    from scrapy import signals
    from scrapy.crawler import AsyncCrawlerRunner

    settings = scrapy_settings(crawl)
    settings["ITEM_PIPELINES"] = {}
    settings["AUTOTHROTTLE_ENABLED"] = False
    found = Discovery(url)

    def collect(item: dict) -> None:
        for key, value in item.items():
            setattr(found, key, value)

    runner = AsyncCrawlerRunner(settings)
    crawler = runner.create_crawler(DiscoverSpider)
    crawler.signals.connect(collect, signal=signals.item_scraped, weak=False)
    await runner.crawl(crawler, url=url)
    return found


def run_discover(url: str, crawl: CrawlSettings) -> Discovery:
    """Blocking :func:`discover` for the CLI (Ctrl-C stops it: crawler/oneshot.py)."""
    from crawler.oneshot import run_blocking

    return run_blocking(lambda stop: discover(url, crawl), graceful=False)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "source"


def format_sources(found: Discovery) -> str:
    """``[[sources]]`` blocks for what was found, ready to paste into the config."""
    host = _slug(urlsplit(found.url).hostname or "site")
    blocks, names = [], set()
    for i, feed in enumerate(found.feeds):
        name = f"{host}-{_slug(feed['title'])}" if feed["title"] else f"{host}-feed"
        if name in names:
            name = f"{name}-{i + 1}"
        names.add(name)
        comment = f"# {feed['title']} ({feed['type']})\n" if feed["title"] else ""
        blocks.append(
            f'{comment}[[sources]]\nname = "{name}"\nkind = "feed"\nurl = {json.dumps(feed["url"])}\n'
        )
    for i, sm in enumerate(found.sitemaps):
        name = f"{host}-sitemap" + (f"-{i + 1}" if i else "")
        blocks.append(f'[[sources]]\nname = "{name}"\nkind = "sitemap"\nurl = {json.dumps(sm)}\n')
    return "\n".join(blocks)
