"""Trying a source without keeping anything: find its feed, crawl it once into a
throwaway archive, and report what it gave.

`newswatch sources add` and `sources test` use it. Everything goes through Scrapy with the
crawl's own settings, so the private-address guard, robots.txt and the size limits apply
as in a real crawl. The real archive is only read (which items would be new), never written.
"""

from __future__ import annotations

import re
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from crawler.config import CrawlSettings, Source
from crawler.fetch_outcomes import SourceResult


@dataclass
class Probe:
    """What one try of a source gave."""

    source: Source | None  # the source that worked (a found feed), or None
    result: SourceResult | None = None
    items: list[dict] = field(default_factory=list)  # url, title, text, published_at
    tried: list[str] = field(default_factory=list)  # the URLs tried as feeds
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.source is not None and bool(self.items)


def source_name(url: str, taken: set[str] = frozenset()) -> str:
    """A config name for a source at ``url`` (its host, less www.), unique among ``taken``."""
    parts = urlsplit(url)
    host = re.sub(r"^www\.", "", (parts.hostname or "source").lower())
    base = re.sub(r"[^a-z0-9]+", "-", host).strip("-")[:40] or "source"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def _items(path: str) -> list[dict]:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        rows = db.execute(
            "SELECT url, title, text, published_at, fetched_at FROM articles ORDER BY id"
        )
        return [dict(r) for r in rows]
    except sqlite3.Error:
        return []
    finally:
        db.close()


async def probe(
    url: str,
    crawl: CrawlSettings,
    *,
    name: str = "probe",
    source: Source | None = None,
    discover_feeds: bool = True,
) -> Probe:
    """Crawl ``source`` (or ``url`` as a feed) into a throwaway archive; when that gives no
    item and ``discover_feeds``, look for the feeds the page names and try each in turn.
    Needs the asyncio reactor running."""
    from crawler.discover import discover
    from crawler.runner import crawl_sources

    with tempfile.TemporaryDirectory(prefix="newswatch-probe-") as tmp:
        out = Probe(None)
        candidates = [source] if source else [_feed(name, url, crawl)]
        checked = 0
        while checked < len(candidates):
            cand = candidates[checked]
            checked += 1
            path = str(Path(tmp) / f"try-{checked}.db")
            (result,) = await crawl_sources(crawl, [cand], path)
            out.tried.append(cand.url)
            items = _items(path)
            if items:
                out.source, out.result, out.items = cand, result, items
                return out
            if out.result is None or result.error:
                out.result = result
                out.error = result.error and f"{result.error_class}: {result.error}"
            if checked == 1 and discover_feeds and source is None:
                found = await discover(url, crawl)
                if found.error and not found.feeds:
                    out.error = found.error
                candidates += [_feed(name, f["url"], crawl) for f in found.feeds[:5]]
        if out.error is None:
            out.error = "no feed with items found" + (
                f" (tried {', '.join(out.tried)})" if out.tried else ""
            )
        return out


async def check_discovered(url: str, crawl: CrawlSettings):
    """Discover the feeds and sitemaps ``url`` names, then fetch each feed once into a
    throwaway archive: returns the Discovery and, per feed URL, how many items it gave
    (0 with the error, when it gave none)."""
    from crawler.discover import discover
    from crawler.runner import crawl_sources

    found = await discover(url, crawl)
    checks: dict[str, tuple[int, str | None]] = {}
    with tempfile.TemporaryDirectory(prefix="newswatch-probe-") as tmp:
        for i, feed in enumerate(found.feeds):
            path = str(Path(tmp) / f"feed-{i}.db")
            (result,) = await crawl_sources(crawl, [_feed(f"feed-{i}", feed["url"], crawl)], path)
            n = len(_items(path))
            error = (
                None
                if n
                else f"{result.error_class or result.status}: {result.error or 'no items'}"
            )
            checks[feed["url"]] = (n, error)
    return found, checks


def _feed(name: str, url: str, crawl: CrawlSettings) -> Source:
    allow = True if crawl.allow_private_addresses else None
    return Source(name=name, kind="feed", url=url, allow_private_addresses=allow)


def run_probe(url: str, crawl: CrawlSettings, **kw) -> Probe:
    """Blocking :func:`probe` for the CLI (one reactor run per process)."""
    return run_blocking(probe(url, crawl, **kw))


def run_blocking(coro):
    """Run one coroutine on the asyncio reactor, blocking; for a CLI process (the reactor
    runs once per process). Ctrl-C or SIGTERM stops it at once (nothing is kept) and
    raises crawler.oneshot.Interrupted (exit 130 or 143); see crawler/oneshot.py."""
    from crawler.oneshot import run_blocking as run_once

    return run_once(lambda stop: coro, graceful=False)
