"""The daemon's jobs: one collection (crawl the due sources, plan their next runs, then
match and deliver), the match-and-deliver run on its own timer, and ``run --once``.

A mixin of :class:`alerts.daemon.Daemon`, which owns the state these jobs read and set
(plan, index, robots, the stop flags, the archive watch, the summary); the lifecycle stays
there, one method per phase.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime

from alerts import outbox, schema
from alerts.stages import as_dict, process_stage
from crawler import archive, schedule
from crawler.archive_access import explain, is_archive_error
from crawler.cli import exits
from crawler.words import counted

log = logging.getLogger("newswatch")


class CycleJobs:
    """Collect, process and once, for the daemon."""

    async def collect(self, names: list[str] | None = None) -> list:
        """Crawl the sources that are due (or ``names``), then match and deliver."""
        now = datetime.now(UTC)
        due = names if names is not None else schedule.due_now(self.plan, now)
        if not due or self.stopping or not self.archive.usable():
            return []
        by_name = {s.name: s for s in self.cfg.sources}
        sources = [by_name[n] for n in due if n in by_name]
        from crawler import runner

        crawl_sources = runner.crawl_sources
        if getattr(self.cfg, "cluster", None) is not None:  # workers crawl, we store
            from functools import partial

            from crawler.cluster.dispatch import crawl_sources_cluster

            crawl_sources = partial(crawl_sources_cluster, self.cfg.cluster)
        started = time.perf_counter()
        self._crawl_task = self.loop.create_task(
            crawl_sources(
                self.cfg.crawl,
                sources,
                self.cfg.archive.path,
                stop=self._stop_crawl,
                dedupe=self.cfg.dedupe,
                index=self.index,
                robots=self.robots,
            )
        )
        try:
            # Shielded: a cancelled job must not cancel the crawl; shutdown closes it instead.
            results = await asyncio.shield(self._crawl_task)
        finally:
            if self._crawl_task.done():
                self._crawl_task = None
        crawl_s = time.perf_counter() - started
        self.plan_after_run(sources)
        for r in results:
            self._log_fetch(as_dict(r))
        if not self.stopping:
            await self.process()
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

    def plan_after_run(self, sources: list) -> None:
        """When the sources just collected are next due: the rule a restart uses, from the
        finish times the crawl recorded (so sources that ran together drift apart)."""
        db = archive.open_archive(self.cfg.archive.path)
        try:
            self.plan.update(schedule.due_after_run(db, sources, self.cfg.crawl))
        finally:
            db.close()

    @staticmethod
    def _log_fetch(r: dict) -> None:
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

    async def process(self) -> dict:
        """Run the match and deliver stages in a worker thread, one run at a time (the
        timer and the end of a collection must never deliver the same rows twice)."""
        if self.stopping or not self.archive.usable():
            return {}
        async with self._process_lock:
            cfg, matcher = self.cfg, self.matcher
            started = time.perf_counter()
            stats = await asyncio.to_thread(process_stage, cfg, matcher)
            stats["process_s"] = round(time.perf_counter() - started, 4)
            self.delivery = stats.get("delivered") or {}
        log.info("cycle: %s", json.dumps(stats, default=str), extra={"event": "cycle", **stats})
        return stats

    async def _once(self) -> None:
        try:
            names = [s.name for s in self.cfg.sources if s.enabled]
            results = await self.collect(names) if names else []
            if not names:
                await self.process()
            db = schema.open_archive(self.cfg.archive.path)
            try:
                self.summary = {
                    "sources": [as_dict(r) for r in results],
                    "delivery": self.delivery,
                    "counts": {**archive.counts(db), **schema.counts(db)},
                    "alerts": outbox.status_counts(db),
                }
            finally:
                db.close()
            self.exit_code = exits.cycle_code(self.summary)
        except Exception as e:
            if is_archive_error(e):
                self.archive_error = explain(self.cfg.archive.path, e)
                log.error("%s", self.archive_error)
                self.exit_code = exits.ARCHIVE
            else:
                log.exception("the cycle failed")
                self.exit_code = exits.PARTIAL
        finally:
            self.reactor.stop()
