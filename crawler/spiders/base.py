"""What the three spiders share: one spider crawls every source of its kind, each request
is counted against its source, and the source's first response goes through conditional
GET and the unchanged-body check."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import timedelta
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.config import Source
from crawler.crawl_context import CrawlContext
from crawler.fetch_outcomes import classify
from crawler.pipelines import BATCH_KEY
from crawler.times import shift, utcnow
from crawler.urls import canonical_url


class SourceSpider(scrapy.Spider):
    """Base for the feed, listing and sitemap spiders: responses -> items and further
    requests, with each source's progress noted in the crawl's tracker (storing is the
    pipeline's job).

    The spider argument is the list of sources to crawl; the crawl's tracker, parse workers
    and archive (read only) come from the crawler (:class:`CrawlContext`), limits from its
    settings (``NEWSWATCH_OBEY_ROBOTS``, ``NEWSWATCH_MAX_ARTICLES_PER_SOURCE``, ...).
    """

    name = "newswatch"

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SourceSpider:
        return super().from_crawler(crawler, *args, context=CrawlContext.of(crawler), **kwargs)

    def __init__(self, *, sources: list[Source], context: CrawlContext, **kwargs: Any):
        super().__init__(**kwargs)
        self.sources = sources
        self.tracker = context.tracker
        self.workers = context.workers
        self._archive = context.db  # read only: which articles are known already
        self._fetches: dict[str, int] = {}

    async def start(self):
        for src in self.sources:
            yield self.root_request(src)

    def parse_root(self, response: Response, src: Source) -> Iterable[Any]:
        raise NotImplementedError

    # ------------------------------------------------------------------ requests

    def source_request(
        self,
        src: Source,
        url: str,
        callback: Callable[..., Iterable[Any] | AsyncIterator[Any] | None],
        *,
        errback: Callable[..., Iterable[Any] | None] | None = None,
        kwargs: dict | None = None,
        meta: dict | None = None,
    ) -> scrapy.Request:
        """A request counted against ``src``; the source is done when none is left.

        ``callback`` may be a generator or an async generator (one that awaits parsing in
        :attr:`workers`)."""
        kwargs = {"src": src, **(kwargs or {})}
        name = src.name
        obey = src.obey_robots
        if obey is None:
            obey = self.settings.getbool("NEWSWATCH_OBEY_ROBOTS")
        full_meta = {
            "source": name,
            "dont_obey_robotstxt": not obey,
            "allow_private_addresses": src.allow_private_addresses,
            **(meta or {}),
        }
        self.tracker.begin(name)
        # Spider methods, not closures: Scrapy inspects each new callback object's source.
        return scrapy.Request(
            url,
            callback=self._on_response,
            errback=self._on_failure,
            meta=full_meta,
            cb_kwargs={"_then": (callback, errback, kwargs)},
            dont_filter=True,
        )

    async def _on_response(self, response: Response, _then: tuple) -> AsyncIterator[Any]:
        callback, _, kwargs = _then
        try:
            out = callback(response, **kwargs)
            if hasattr(out, "__aiter__"):
                async for x in out:
                    yield x
            else:
                for x in out or ():
                    yield x
        finally:
            self.tracker.end(kwargs["src"].name)

    def _on_failure(self, failure: Failure) -> Iterable[Any]:
        _, errback, kwargs = failure.request.cb_kwargs["_then"]
        try:
            if errback is not None:
                yield from errback(failure, **kwargs) or ()
        finally:
            self.tracker.end(kwargs["src"].name)

    def root_request(self, src: Source) -> scrapy.Request:
        """The source's own address, with the validators of its last successful fetch."""
        return self.source_request(
            src,
            src.url,
            self._on_root,
            errback=self.root_failed,
            meta={
                # a listing re-checking its young articles reads its page every time
                "conditional": {} if self._rechecks(src) else self.tracker.previous(src.name),
                "handle_httpstatus_list": [304],
            },
        )

    def root_failed(self, failure: Failure, src: Source, **_: Any) -> None:
        error_class, message, status = classify(failure)
        # Debug only: the crawl reports each source once (progress line, daemon log line).
        self.logger.debug("source %s failed: %s (%s)", src.name, error_class, message)
        self.tracker.fail(src.name, error_class, message, status)

    async def _on_root(self, response: Response, src: Source) -> AsyncIterator[Any]:
        r = self.tracker.result(src.name)
        r.http_status = response.status
        if response.status == 304:
            r.not_modified = True
            return
        r.etag = _header(response, b"ETag")
        r.last_modified = _header(response, b"Last-Modified")
        r.body_hash = hashlib.sha256(response.body).hexdigest()
        same = r.body_hash == self.tracker.previous(src.name).get("body_hash")
        if same and not self._rechecks(src):
            r.not_modified = True  # same bytes as last time: nothing to parse
            return
        try:
            out = self.parse_root(response, src)
            if hasattr(out, "__aiter__"):
                async for x in out:
                    yield x
            else:
                for x in out or ():
                    yield x
        except Exception as e:  # a bug or a broken worker: say so; never "ok" with nothing
            self.logger.exception("reading source %s failed", src.name)
            r.incomplete = True
            self.tracker.fail(src.name, "parse_error", f"{type(e).__name__}: {e}"[:500])

    # ------------------------------------------------------------------ articles

    def known(self, src: Source, urls: list[str], guids: list[str] = ()) -> dict[str, str]:
        """Which of these canonical URLs / GUIDs the archive has, with when fetched."""
        from crawler.store import known_articles  # not needed by a crawl of unchanged feeds

        return known_articles(self._archive, src.name, urls, guids)

    def may_fetch(self, src: Source) -> bool:
        """The per-source cap on article pages fetched in one crawl."""
        n = self._fetches.get(src.name, 0)
        if n >= self.settings.getint("NEWSWATCH_MAX_ARTICLES_PER_SOURCE"):
            self.tracker.result(src.name).capped = True
            return False
        self._fetches[src.name] = n + 1
        return True

    def article_request(self, src: Source, url: str, item: dict) -> scrapy.Request:
        """Fetch an article page; ``item`` carries what the feed/listing/sitemap knew."""
        return self.source_request(
            src,
            url,
            self.parse_article,
            errback=self.article_failed,
            kwargs={"item": item},
        )

    async def parse_article(
        self, response: Response, src: Source, item: dict
    ) -> AsyncIterator[dict]:
        from crawler.extract import extract_article

        try:
            page = await self.workers.run(extract_article, response.body, url=response.url)
        except Exception as e:  # this page only: keep what the feed said, count the page
            for kept in self.article_failed(Failure(e), src, item):
                yield kept
            return
        merged = dict(item)
        hint = merged.pop("_title_hint", None)
        merged["text"] = page["text"] or item.get("text")
        merged["title"] = item.get("title") or page["title"] or hint
        merged["published_at"] = page["published_at"] or item.get("published_at")
        merged["author"] = item.get("author") or page["author"]
        merged["language"] = page["language"] or item.get("language") or src.language
        yield self.emit(src, merged)

    def article_failed(self, failure: Failure, src: Source, item: dict) -> Iterable[dict]:
        error_class, message, _ = classify(failure)
        r = self.tracker.result(src.name)
        r.pages_failed += 1
        self.logger.info("article page failed for %s: %s %s", src.name, error_class, message)
        item = dict(item)
        item["title"] = item.get("title") or item.pop("_title_hint", None)
        item.pop("_title_hint", None)
        if item.get("text"):
            yield self.emit(src, item)  # keep what the feed said rather than nothing

    def emit(self, src: Source, item: dict) -> dict:
        """An item for the pipeline, tagged with its source. It counts as the source's work
        in flight until the pipeline has it, so a source is reported done (and its counts
        final) only once its items are stored."""
        if not item.get("language") and src.language:
            item["language"] = src.language
        self.tracker.begin(src.name)
        return {**item, "source": src.name}

    def emit_all(self, src: Source, items: list[dict]) -> dict:
        """Many items of one source as one item for the pipeline (which stores each):
        Scrapy's per-item work (spider middlewares, signals, the pipeline chain) is done
        once per feed instead of once per entry, on the process that also writes the
        archive. Counted against the source as one item in flight, as :meth:`emit`."""
        if src.language:
            for item in items:
                if not item.get("language"):
                    item["language"] = src.language
        self.tracker.begin(src.name)
        return {"source": src.name, BATCH_KEY: items}

    def _rechecks(self, src: Source) -> bool:
        """Whether this is a listing that reads its young articles again (issue 16)."""
        return src.kind == "html" and self.settings.getfloat("NEWSWATCH_RECHECK_YOUNGER_THAN") > 0

    def new_links(self, src: Source, links: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
        """The (url, item) pairs whose canonical URL is not archived yet, and (``[crawl]
        recheck_younger_than``, off by default) those archived or updated less than that
        long ago: a listing says nothing of updates, so their pages are read again."""
        canon = {canonical_url(u): (u, it) for u, it in links}
        known = self.known(src, list(canon))
        recheck = self.settings.getfloat("NEWSWATCH_RECHECK_YOUNGER_THAN")
        if self._rechecks(src):
            since = shift(utcnow(), timedelta(seconds=-recheck))
            known = {u: at for u, at in known.items() if not at or at < since}
        return [pair for c, pair in canon.items() if c not in known]


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def blank_item(url: str, **fields: Any) -> dict:
    """An item dict with every key the store expects."""
    item = {
        "url": url,
        "guid": None,
        "title": None,
        "text": None,
        "summary": None,
        "author": None,
        "language": None,
        "categories": [],
        "published_at": None,
        "updated_at": None,
    }
    item.update(fields)
    return item
