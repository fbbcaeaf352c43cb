"""The crawl entry points: an async API the daemon awaits repeatedly on one asyncio
reactor, and a blocking one for the CLI.

The whole process uses one Twisted reactor, the asyncio one, installed before anything
imports ``twisted.internet.reactor`` (a second ``CrawlerProcess`` would raise
``ReactorNotRestartable``). Each crawl runs one Scrapy crawler per source kind in play.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from crawler import archive, resolver, times
from crawler.config import CrawlSettings, DedupeSettings, Source
from crawler.crawl_context import SETTING as CONTEXT_SETTING
from crawler.crawl_context import CrawlContext
from crawler.fetch_outcomes import CrawlTracker, SourceResult, load_state, record_results
from crawler.oneshot import Interrupted, run_blocking
from crawler.revalidate import SETTING as PREFETCHED_SETTING
from crawler.revalidate import Prefetched, revalidate
from crawler.robots import RobotsCache
from crawler.settings import ASYNCIO_REACTOR, scrapy_settings
from crawler.workers import ParseWorkers

if TYPE_CHECKING:
    from crawler.neardup import NearDuplicateIndex

logger = logging.getLogger(__name__)

Progress = Callable[[SourceResult, int, int], None]

# After a stop (SIGINT, SIGTERM), how long Scrapy may take to close before its downloads
# still in flight are left behind (what was read is kept either way).
STOP_GRACE_S = 5.0


def install_asyncio_reactor() -> None:
    """Install the asyncio reactor if no reactor is installed yet (idempotent)."""
    from scrapy.utils.reactor import (
        install_reactor,
        is_asyncio_reactor_installed,
        is_reactor_installed,
    )

    # is_asyncio_reactor_installed() raises RuntimeError when no reactor is installed yet
    # (Scrapy 2.13+), so ask first; another reactor already installed fails in install_reactor.
    if not (is_reactor_installed() and is_asyncio_reactor_installed()):
        install_reactor(ASYNCIO_REACTOR)
    # Imported here (a shallow stack, before any crawl), not by the engine on the reactor:
    # these modules build deprecated aliases with inspect.stack(), whose cost grows with the
    # stack's depth (0.1 s there, in the first crawl of a daemon or a worker). Each one
    # imported on its own, innermost first: every import frame below an alias costs a walk
    # over all loaded modules, and http11 importing contextfactory importing tls put three
    # imports' frames under tls's alias (0.06 -> 0.04 s of CPU in `newswatch crawl`).
    import scrapy.core.downloader.tls  # noqa: F401, I001
    import scrapy.core.downloader.contextfactory  # noqa: F401
    import scrapy.core.downloader.handlers.http11  # noqa: F401


# Each source kind's spider, imported only when a crawl has sources of that kind.
_SPIDERS = {
    "feed": ("crawler.spiders.feed", "FeedSpider"),
    "html": ("crawler.spiders.listing", "ListingSpider"),
    "sitemap": ("crawler.spiders.sitemap", "SitemapSpider"),
}


def _spider_class(kind: str) -> type:
    import importlib

    module, name = _SPIDERS[kind]
    return getattr(importlib.import_module(module), name)


async def crawl_sources(
    settings: CrawlSettings,
    sources: list[Source],
    archive_path: str,
    *,
    progress: Progress | None = None,
    stop: asyncio.Event | None = None,
    dedupe: DedupeSettings | None = None,
    index: NearDuplicateIndex | None = None,
    workers: ParseWorkers | None = None,
    robots: RobotsCache | None = None,
    make_assigner: Any = None,
) -> list[SourceResult]:
    """Crawl these sources into the archive and record each one's health.

    Needs the asyncio reactor running (see :func:`run_crawl`); can be awaited any number
    of times, one after another, in one process. Returns one result per source, in order.
    A crawl that runs past ``crawl_timeout`` is stopped; sources not finished by then are
    recorded with error class ``timeout``. One source's failure never stops the others.
    Setting ``stop`` (a shutdown) closes the running crawl early: what was fetched is kept.
    A long-running process passes the near-duplicate ``index`` it keeps between crawls
    (see :func:`crawler.stories.load_story_index`); otherwise it is loaded for this crawl.
    ``robots`` keeps parsed robots.txt files between its crawls (up to 24 hours).
    Large feeds and article pages are parsed in ``workers`` (a process pool; by default one
    started for this crawl when first needed and closed at its end). ``make_assigner(db)``
    replaces the story assigner (a cluster worker's scratch archive assigns no stories).
    """
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise ValueError("source names must be unique within a crawl")
    db = archive.open_archive(archive_path)
    started_at = times.utcnow()
    try:
        done = 0

        def on_done(result: SourceResult) -> None:
            nonlocal done
            done += 1
            if progress:
                progress(result, done, len(sources))

        tracker = CrawlTracker(names, load_state(db, names), on_done=on_done)
        readable = _fail_unreadable(sources, tracker)
        # one permit for all the crawl's requests, its allowed sources' hosts in it before
        # any request (a source of one kind may share a host with another's)
        permit = resolver.permit_for_sources(readable, settings.allow_private_addresses)
        robots = robots if robots is not None else RobotsCache()
        crawled, prefetched = readable, None
        if readable and not (stop is not None and stop.is_set()):
            # Unchanged feeds answer one light conditional GET and never enter Scrapy;
            # the other answers are handed to Scrapy's requests (crawler/revalidate.py).
            # A stop during the pass cancels it: what it recorded is kept, the rest is
            # recorded as interrupted below, as in Scrapy's path.
            crawled, prefetched = await revalidate(
                settings, readable, tracker, robots, db, permit, stop
            )
        if crawled and not (stop is not None and stop.is_set()):
            assigner = make_assigner(db) if make_assigner else _LazyAssigner(db, dedupe, index)
            own_workers = workers is None
            if own_workers:
                workers = ParseWorkers(parse_while_starting=True)
            try:
                context = CrawlContext(db=db, tracker=tracker, assigner=assigner, workers=workers)
                await _run_spiders(settings, crawled, context, stop, robots, permit, prefetched)
            finally:
                # Whatever reached the pipeline is stored, also when the crawl was stopped
                # before Scrapy closed it (the pipeline's own close never came).
                tracker.flush_all()
                if own_workers:
                    await workers.close()
        interrupted = stop is not None and stop.is_set()
        results = tracker.finish_all(interrupted=interrupted)
        with archive.write(db):
            record_results(db, sources, results, started_at)
        return results
    finally:
        db.close()


def _fail_unreadable(sources: list[Source], tracker: CrawlTracker) -> list[Source]:
    """The sources whose URL can be read; each other one is recorded as failed here (the
    config validator refuses such a URL, but a crawl may be given one): its failure is its
    own, the others are crawled."""
    readable = []
    for src in sources:
        try:
            _ = urlsplit(src.url).port  # a port out of range, an unbalanced [ ] raise
        except ValueError as e:
            tracker.begin(src.name)
            tracker.fail(src.name, "connection", f"the source URL cannot be read: {e}")
            tracker.end(src.name)
            continue
        readable.append(src)
    return readable


class _LazyAssigner:
    """The crawl's :class:`crawler.stories.StoryAssigner`, made when the first item is
    stored: a crawl whose sources are all unchanged never imports the near-duplicate
    machinery."""

    def __init__(self, db, dedupe: DedupeSettings | None, index: NearDuplicateIndex | None):
        self._args = (db, dedupe, index)
        self._assigner = None

    def __getattr__(self, name: str) -> Any:
        if self._assigner is None:
            from crawler.stories import StoryAssigner

            db, dedupe, index = self._args
            self._assigner = StoryAssigner(db, dedupe, index=index)
        return getattr(self._assigner, name)


async def _run_spiders(
    settings: CrawlSettings,
    sources: list[Source],
    context: CrawlContext,
    stop: asyncio.Event | None,
    robots: RobotsCache | None = None,
    permit: resolver.HostPermit | None = None,
    prefetched: Prefetched | None = None,
) -> None:
    """One Scrapy crawler per source kind in play, awaited until done, stopped, or past the
    outer time limit. The crawlers' components find ``context`` and ``robots`` in their
    settings."""
    from scrapy.crawler import AsyncCrawlerRunner

    runner = AsyncCrawlerRunner(
        {
            **scrapy_settings(settings),
            CONTEXT_SETTING: context,
            "NEWSWATCH_ROBOTS_CACHE": robots,
            resolver.SETTING: permit
            if permit is not None
            else resolver.permit_for_sources(sources, settings.allow_private_addresses),
            PREFETCHED_SETTING: prefetched,
        }
    )
    tasks = []
    for kind in _SPIDERS:
        group = [s for s in sources if s.kind == kind]
        if group:
            tasks.append(runner.crawl(_spider_class(kind), sources=group))
    # Scrapy's CLOSESPIDER_TIMEOUT stops the spiders at crawl_timeout; this outer
    # limit catches a shutdown that itself hangs.
    limit = settings.crawl_timeout.total_seconds() + settings.download_timeout.total_seconds() + 30
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    waiter = asyncio.ensure_future(stop.wait()) if stop is not None else None
    pending = set(tasks)
    try:
        while pending and not (waiter and waiter.done()):
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await asyncio.wait(
                pending | ({waiter} if waiter else set()),
                timeout=remaining,
                return_when=asyncio.FIRST_COMPLETED,
            )
            pending = {t for t in tasks if not t.done()}
    finally:
        if waiter is not None:
            waiter.cancel()
    if pending and waiter is not None and stop.is_set():
        # Scrapy closes a spider only when its last download ends, and a server holding
        # a response open would hold the shutdown until download_timeout: give the close
        # STOP_GRACE_S, then leave those downloads. What was read is stored by the caller
        # (context.tracker.flush_all), the unfinished sources are recorded as interrupted.
        logger.info("shutdown: closing the running crawl")
        closing = asyncio.ensure_future(runner.stop())
        await asyncio.wait(pending, timeout=STOP_GRACE_S)
        pending = {t for t in tasks if not t.done()}
        if pending:
            logger.warning(
                "shutdown: %d crawler(s) still waiting for downloads after %.0f s;"
                " keeping what was read and leaving them",
                len(pending),
                STOP_GRACE_S,
            )
            pending = set()  # left behind, not stopped again
        else:
            await closing
    if pending:
        logger.warning("crawl still running after %.0f s: stopping it", limit)
        await runner.stop()
        await asyncio.wait(pending, timeout=30)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            logger.error("a crawler failed: %r", task.exception())


class CrawlInterrupted(Interrupted):
    """The crawl was stopped by a signal; what it read was stored and recorded.
    ``results`` are the per-source results, ``signum`` the signal (exit 128 + signum)."""

    def __init__(self, results: list[SourceResult], signum: int):
        super().__init__(signum, results)
        self.results = results


def run_crawl(
    settings: CrawlSettings,
    sources: list[Source],
    archive_path: str,
    *,
    progress: Progress | None = None,
    dedupe: DedupeSettings | None = None,
) -> list[SourceResult]:
    """Blocking: install the asyncio reactor, run one crawl, stop the reactor.

    For a command-line process that crawls once; a long-running process awaits
    :func:`crawl_sources` on its own reactor instead. SIGINT or SIGTERM stops the crawl
    the way a daemon's shutdown does: what was fetched and parsed is stored, each source's
    outcome recorded (unfinished ones as ``interrupted``), then :class:`CrawlInterrupted`
    is raised; a second signal exits at once (status 128 + signal number).
    """
    install_asyncio_reactor()

    # What the imports built lives as long as the process: the cyclic collector need not
    # walk it again in every full collection of the crawl (measured: 0.50x -> 0.47x of the
    # feedparser baseline for a first `newswatch crawl`, three paired runs).
    gc.freeze()

    def work(stop: asyncio.Event):
        return crawl_sources(
            settings, sources, archive_path, progress=progress, dedupe=dedupe, stop=stop
        )

    try:
        return run_blocking(work, stopping="stopping; storing what was read")
    except Interrupted as e:
        raise CrawlInterrupted(e.result, e.signum) from None
