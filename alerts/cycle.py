"""The daemon's jobs: one collection (crawl the due sources, plan their next runs, then
match and deliver), the match-and-deliver run on its own timer, and ``run --once``.

:class:`Cycle` is a collaborator of :class:`alerts.daemon.Daemon`: it keeps what the jobs
carry from one run to the next (the crawl in flight and its stop event, the lock that keeps
two match-and-deliver runs apart, robots.txt, the last delivery counts, whether new work is
refused) and is given everything else as arguments: the config, the matcher, the story
index and the plan, which the daemon owns and replaces on SIGHUP.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from alerts import outbox, schema
from alerts.archive_watch import ArchiveWatch
from alerts.stages import as_dict, process_stage
from crawler import archive, schedule, times
from crawler.archive_access import ArchiveError, explain, is_archive_error
from crawler.cli import exits
from crawler.words import counted

log = logging.getLogger("newswatch")


@dataclass
class OnceResult:
    """What ``run --once`` reports: its summary, its exit code, and the archive's problem
    when the archive could not be used."""

    summary: dict = field(default_factory=dict)
    exit_code: int = 0
    archive_error: ArchiveError | None = None


class Cycle:
    """Collect, process and once for one daemon (see the module docstring)."""

    def __init__(self, archive_watch: ArchiveWatch, robots: Any):
        self.archive = archive_watch  # the daemon's view of whether the archive is usable
        self.robots = robots  # robots.txt kept between collections, up to 24 hours
        self.stopping = False  # set by stop(): no new collection or process run starts
        self.crawl_task: asyncio.Task | None = None
        self.stop_crawl = asyncio.Event()
        self.process_lock = asyncio.Lock()
        self.delivery: dict = {}  # the last delivery stage's counts (for `run --once`)

    async def collect(
        self,
        cfg: Any,
        plan: dict,
        index: Any,
        names: list[str] | None = None,
        *,
        then: Callable[[], Awaitable[dict]],
    ) -> list:
        """Crawl the sources of ``cfg`` that ``plan`` says are due (or ``names``) with the
        story ``index``, update ``plan`` in place, then await ``then`` (match and deliver)
        unless stopping. Matching waits for the whole crawl: an alert names its story's
        earliest published article, which a source crawled later may hold."""
        due = names if names is not None else schedule.due_now(plan, times.clock())
        if not due or self.stopping or not self.archive.usable():
            return []
        by_name = {s.name: s for s in cfg.sources}
        sources = [by_name[n] for n in due if n in by_name]
        from crawler import runner

        crawl_sources = runner.crawl_sources
        if getattr(cfg, "cluster", None) is not None:  # workers crawl, we store
            from functools import partial

            from crawler.cluster.dispatch import crawl_sources_cluster

            crawl_sources = partial(crawl_sources_cluster, cfg.cluster)
        started = time.perf_counter()
        self.crawl_task = asyncio.get_running_loop().create_task(
            crawl_sources(
                cfg.crawl,
                sources,
                cfg.archive.path,
                stop=self.stop_crawl,
                dedupe=cfg.dedupe,
                index=index,
                robots=self.robots,
            )
        )
        try:
            # Shielded: a cancelled job must not cancel the crawl; shutdown closes it instead.
            results = await asyncio.shield(self.crawl_task)
        finally:
            if self.crawl_task.done():
                self.crawl_task = None
        crawl_s = time.perf_counter() - started
        plan_after_run(cfg, plan, sources)
        info = log.isEnabledFor(logging.INFO)  # else only failures make a line
        for r in results:
            if info or _failed(r):
                log_fetch(_fields(r))
        if not self.stopping:
            await then()
        total_s = time.perf_counter() - started
        log.info(
            "collection of %s: crawl %.2fs, whole cycle %.2fs",
            counted(len(sources), "source"),
            crawl_s,
            total_s,
            extra={
                "event": "collect",
                "sources": len(sources),
                "crawl_s": crawl_s,
                "cycle_s": total_s,
            },
        )
        return results

    async def process(self, cfg: Any, matcher: Any) -> dict:
        """Run the match and deliver stages in a worker thread, one run at a time (the
        timer and the end of a collection must never deliver the same rows twice). The
        timer waits while a collection crawls: its own run after the crawl matches what it
        stored, so an alert names the story's earliest published article even when a source
        crawled later holds it."""
        if self.stopping or not self.archive.usable():
            return {}
        if self.crawl_task is not None and not self.crawl_task.done():
            log.debug("match and deliver: the collection's crawl runs; its own run follows it")
            return {}
        async with self.process_lock:
            started = time.perf_counter()
            stats = await asyncio.to_thread(process_stage, cfg, matcher)
            stats["process_s"] = round(time.perf_counter() - started, 4)
            self.delivery = stats.get("delivered") or {}
        log.info("cycle: %s", json.dumps(stats, default=str), extra={"event": "cycle", **stats})
        return stats

    async def once(self, cfg: Any, matcher: Any, index: Any, plan: dict) -> OnceResult:
        """``run --once``: collect every enabled source (or, with none, match and deliver
        what the archive holds), then summarise what the archive and the outbox hold."""
        result = OnceResult()
        try:
            names = [s.name for s in cfg.sources if s.enabled]

            def process() -> Awaitable[dict]:
                return self.process(cfg, matcher)

            results = await self.collect(cfg, plan, index, names, then=process) if names else []
            if not names:
                await process()
            db = schema.open_archive(cfg.archive.path)
            try:
                result.summary = {
                    "sources": [as_dict(r) for r in results],
                    "delivery": self.delivery,
                    "counts": {**archive.counts(db), **schema.counts(db)},
                    "alerts": outbox.status_counts(db),
                }
            finally:
                db.close()
            result.exit_code = exits.cycle_code(result.summary)
        except Exception as e:
            if is_archive_error(e):
                result.archive_error = explain(cfg.archive.path, e)
                log.error("%s", result.archive_error)
                result.exit_code = exits.ARCHIVE
            else:
                log.exception("the cycle failed")
                result.exit_code = exits.PARTIAL
        return result

    def stop(self) -> None:
        """Take no new work: a collection or a process run that starts from now on returns
        at once (one in progress finishes)."""
        self.stopping = True

    async def close_crawl(self, timeout: float) -> bool:
        """Close the crawl in flight, waiting at most ``timeout`` seconds (what it read is
        stored). True when no crawl is left running."""
        if self.crawl_task is not None and not self.crawl_task.done():
            self.stop_crawl.set()
            try:
                await asyncio.wait_for(asyncio.shield(self.crawl_task), timeout)
            except (TimeoutError, asyncio.CancelledError, Exception) as e:
                log.warning("crawl did not close cleanly: %r", e)
        return self.crawl_task is None or self.crawl_task.done()


def plan_after_run(cfg: Any, plan: dict, sources: list) -> None:
    """When the sources just collected are next due, written into ``plan``: the rule a
    restart uses, from the finish times the crawl recorded (so sources that ran together
    drift apart)."""
    db = archive.open_archive(cfg.archive.path)
    try:
        plan.update(schedule.due_after_run(db, sources, cfg.crawl))
    finally:
        db.close()


def _failed(r: Any) -> bool:
    error_class = getattr(r, "error_class", None)
    return bool(error_class) and error_class != "interrupted"


def _fields(r: Any) -> dict:
    """A source's result as a flat dict for its log line (a shallow copy: dataclasses.asdict
    copied every nested value, a tenth of an unchanged cycle's own work)."""
    if dataclasses.is_dataclass(r) and not isinstance(r, type):
        return {f.name: getattr(r, f.name) for f in dataclasses.fields(r)}
    return as_dict(r)


def log_fetch(r: dict) -> None:
    """One line per source and collection: a warning, with the problem, when it failed
    (the spider does not log the failure again)."""
    failed = bool(r.get("error_class")) and r.get("error_class") != "interrupted"
    log.log(
        logging.WARNING if failed else logging.INFO,
        "source %s: %s, %s new of %s, %.1fs%s",
        r.get("name"),
        r.get("error_class") or r.get("status") or "ok",
        r.get("items_new"),
        r.get("items_seen"),
        r.get("duration_s") or 0.0,
        f" ({r.get('error')})" if failed and r.get("error") else "",
        extra={
            "event": "fetch",
            "source": r.get("name"),
            **{k: v for k, v in r.items() if k not in ("name", "message")},
        },
    )
