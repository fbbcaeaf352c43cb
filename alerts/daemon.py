"""The long-running service: its settings and its lifecycle, one method per phase.

One asyncio reactor for the whole process (Twisted's AsyncioSelectorReactor, installed
before anything imports the reactor), APScheduler's AsyncIOScheduler on its loop, and the
crawler's async crawl API awaited once per collection. The match and deliver stages are
synchronous SQLite/SMTP work and run in a worker thread so the reactor stays responsive.

Start-up runs the phases in order: lock the archive, install the reactor, write the first
heartbeat, load the story index, release alerts a dead run left "sending", plan each
source's next run, freeze what start-up built (out of the garbage collector's way), shorten
the interpreter's thread switch interval, install the signal handlers, run, and mark the
daemon stopped.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from alerts import outbox, schema
from alerts.archive_watch import ArchiveWatch
from alerts.cycle import Cycle
from alerts.stages import compile_matcher
from crawler import liveness, schedule, times
from crawler.archive_access import ArchiveError, explain, is_archive_error
from crawler.config import Duration, StrictModel
from crawler.config_file import ConfigError

log = logging.getLogger("newswatch")
SWITCH_INTERVAL_S = 0.001  # see Daemon.share_the_interpreter


class DaemonSettings(StrictModel):
    """How the daemon paces itself."""

    tick: Duration = timedelta(seconds=5)
    process_interval: Duration = timedelta(seconds=30)
    shutdown_timeout: Duration = timedelta(seconds=25)
    startup_stagger: Duration = timedelta(seconds=30)


class DaemonError(Exception):
    """The daemon cannot start (another one holds the archive). An archive it cannot use
    (a permission, damage) is an ArchiveError instead."""


def stale_after(settings: DaemonSettings) -> timedelta:
    """How old a heartbeat may be before `status` calls the daemon dead: three missed
    match-and-deliver runs, plus a minute for a long collection."""
    return 3 * settings.process_interval + timedelta(minutes=1)


class Daemon:
    """Collect due sources, match, deliver, on an APScheduler loop (or one cycle: ``once``).

    ``load_config`` reads the config file again on SIGHUP; it raises ConfigError for a file
    that cannot be used, and the running config is kept. The jobs themselves are
    :class:`alerts.cycle.Cycle`, given the config, matcher, story index and plan each run.
    """

    def __init__(
        self,
        config_file: str,
        cfg: Any,
        *,
        load_config: Callable[[str], Any],
        once: bool = False,
    ):
        from crawler.robots import RobotsCache

        self.config_file = config_file
        self.cfg = cfg
        self.load_config = load_config
        self.once = once
        self.matcher = compile_matcher(cfg)
        self.plan: dict[str, datetime] = {}  # updated in place (a crawl in flight writes it)
        self.index = None  # the story index, loaded at start
        self.loop: asyncio.AbstractEventLoop | None = None
        self.reactor = None
        self.scheduler = None  # APScheduler, only when not ``once``
        self.exit_code = 0
        self.stopped_by: int | None = None  # the signal that stopped it, if one did
        self.summary: dict = {}
        self.archive_error: ArchiveError | None = None  # `run --once`: the archive failed
        self._lock = liveness.ArchiveLock(cfg.archive.path)
        self.archive = ArchiveWatch(cfg.archive.path)  # one log line per change of state
        self.cycle = Cycle(self.archive, RobotsCache())  # the jobs: collect, process, once
        self._last_error: str | None = None

    # -- lifecycle, in the order start() runs it

    def start(self) -> int:
        """Run until SIGTERM/SIGINT (or, with ``once``, one full cycle). Returns the exit code.
        Raises DaemonError when another daemon holds the archive, ArchiveError when the
        archive cannot be used (one message naming the path and the problem)."""
        self.lock()
        try:
            self.install_reactor()
            try:
                db = schema.open_archive(self.cfg.archive.path)
                try:
                    self.heartbeat(db)
                    self.load_story_index(db)
                    self.release_outbox(db)
                    self.plan_runs(db)
                finally:
                    db.close()
            except (OSError, sqlite3.Error) as e:
                raise explain(self.cfg.archive.path, e) from None
            self.freeze_startup()
            self.share_the_interpreter()
            self.install_signals()
            self.run()
            self.stop()
        finally:
            self._lock.release()
        if self.once and self.stopped_by is not None:
            return 128 + self.stopped_by  # interrupted: 130 for Ctrl-C, 143 for SIGTERM
        return self.exit_code

    def lock(self) -> None:
        """One daemon per archive."""
        try:
            self._lock.acquire()
        except liveness.ArchiveLocked as e:
            raise DaemonError(str(e)) from None
        except OSError as e:  # the lock file beside the archive: a read-only folder
            raise explain(self.cfg.archive.path, e) from None

    def install_reactor(self) -> None:
        """The asyncio reactor, and its loop for our own tasks."""
        from scrapy.utils.reactor import install_reactor

        install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
        from twisted.internet import reactor

        self.reactor = reactor
        self.loop = asyncio.get_event_loop()

    def heartbeat(self, db) -> None:
        """Tell `status` (and other processes) that a daemon started on this archive."""
        liveness.heartbeat(db, started_at=times.utcnow())

    def load_story_index(self, db) -> None:
        """The near-duplicate index the crawls assign stories with."""
        from crawler.stories import load_story_index

        self.index = load_story_index(db, self.cfg.dedupe)

    def release_outbox(self, db) -> None:
        """Alerts a dead run left "sending" go out again (at least once, never lost)."""
        abandoned = outbox.release_abandoned(db)
        if abandoned:
            log.warning(
                "%d alerts were being sent when the last run died: sending again", abandoned
            )

    def plan_runs(self, db) -> None:
        """When each source is next due, from the archive (the same plan a restart makes);
        overdue sources spread over ``[daemon] startup_stagger``. In place: a collection
        that started before a SIGHUP writes its sources' next runs into this same plan."""
        plan = schedule.next_runs(
            db,
            self.cfg.sources,
            self.cfg.crawl,
            now=times.clock(),
            stagger=self.cfg.daemon.startup_stagger,
        )
        self.plan.clear()
        self.plan.update(plan)

    def share_the_interpreter(self) -> None:
        """A shorter GIL switch interval (1 ms, Python's default is 5): during a crawl the
        reactor thread parses and stores, busy, while the delivery threads wait on mail
        servers; each reply then waited up to the interval for the interpreter. Sending with
        a busy thread beside it: 22-41 ms a message at 5 ms, 8 ms at 1 ms (11 ms alone)."""
        sys.setswitchinterval(SWITCH_INTERVAL_S)

    def freeze_startup(self) -> None:
        """What start-up built (imports, config, matcher, story index) lives as long as the
        process: the cyclic collector need not walk it again in every full collection (as
        in the CLI's crawl, crawler/runner.py). A reload collects, and freezes again when
        no crawl or delivery run is under way."""
        gc.freeze()

    def install_signals(self) -> None:
        """SIGTERM/SIGINT stop cleanly; SIGHUP reloads the config (not with ``once``)."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.loop.add_signal_handler(sig, self.request_stop, sig)
        if not self.once:
            self.loop.add_signal_handler(signal.SIGHUP, self.reload)

    def run(self) -> None:
        """Run the reactor until a stop: one cycle, or the scheduler's jobs."""
        if self.once:
            self.reactor.callWhenRunning(lambda: self.loop.create_task(self._once()))
        else:
            self.reactor.callWhenRunning(self.schedule_jobs)
        self.reactor.run(installSignalHandlers=False)

    def stop(self) -> None:
        """After the reactor stopped: tell `status` the daemon is gone."""
        try:
            db = schema.open_archive(self.cfg.archive.path)
            try:
                liveness.mark_stopped(db)
            finally:
                db.close()
        except (OSError, sqlite3.Error, ArchiveError) as e:
            log.warning("could not mark the daemon stopped: %s", explain(self.cfg.archive.path, e))
        log.info("newswatch stopped")

    # -- running

    async def collect(self, names: list[str] | None = None) -> list:
        """Crawl the sources that are due (or ``names``), then match and deliver."""
        return await self.cycle.collect(self.cfg, self.plan, self.index, names, then=self.process)

    async def process(self) -> dict:
        """Match and deliver, with the config and watches in force when it starts."""
        return await self.cycle.process(self.cfg, self.matcher)

    async def _once(self) -> None:
        """`run --once`: one cycle, its summary and exit code; then the reactor stops."""
        try:
            done = await self.cycle.once(self.cfg, self.matcher, self.index, self.plan)
            self.summary, self.exit_code = done.summary, done.exit_code
            self.archive_error = done.archive_error
        finally:
            self.reactor.stop()

    def schedule_jobs(self) -> None:
        """Collect every tick (what is due), match and deliver every process interval."""
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self.scheduler = AsyncIOScheduler(
            event_loop=self.loop,
            timezone="UTC",
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        )
        self.scheduler.add_listener(self._job_error, EVENT_JOB_ERROR)
        self.scheduler.add_listener(self._job_done, EVENT_JOB_EXECUTED)
        for job, every in (
            (self.collect, self.cfg.daemon.tick),
            (self.process, self.cfg.daemon.process_interval),
        ):
            self.scheduler.add_job(
                job,
                "interval",
                seconds=every.total_seconds(),
                id=job.__name__,
                next_run_time=times.clock(),
            )
        self.scheduler.start()
        log.info(
            "newswatch daemon started: %d sources, %d watches, %d targets, archive %s",
            len(self.cfg.sources),
            len(self.cfg.watches),
            len(self.cfg.targets),
            self.cfg.archive.path,
        )
        if not self.cfg.targets:
            log.info(
                "no alert targets configured: matches wait in the archive; add a "
                "[[targets]] entry with an Apprise URL to %s",
                self.config_file,
            )

    def _job_error(self, event) -> None:
        if self.cycle.stopping and isinstance(event.exception, asyncio.CancelledError):
            return  # our own shutdown
        if is_archive_error(event.exception):
            self.archive.failed(event.exception)
            return
        # One traceback per distinct error; the same error again is one short line.
        again = repr(event.exception) == self._last_error
        self._last_error = repr(event.exception)
        log.error(
            "job %s failed%s: %r%s",
            event.job_id,
            " again" if again else "",
            event.exception,
            "" if again else "\n" + (event.traceback or ""),
            extra={"event": "job_error", "job": event.job_id},
        )

    def _job_done(self, event) -> None:
        self._last_error = None

    def request_stop(self, sig: int | None = None) -> None:
        """SIGTERM/SIGINT: take no new work, close the running crawl (bounded: what it read
        is stored), then stop; with ``once``, exit 128 + the signal. A second signal exits
        at once."""
        if self.cycle.stopping:
            if sig is not None:  # the second one: the user does not want to wait
                name = signal.Signals(sig).name
                print(f"\n{name} again: exiting now", file=sys.stderr, flush=True)
                os._exit(128 + sig)
            return
        self.cycle.stop()
        self.stopped_by = sig
        log.info("stopping (%s)", signal.Signals(sig).name if sig else "requested")
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        self.loop.create_task(self._shutdown())

    async def _shutdown(self) -> None:
        idle = await self.cycle.close_crawl(self.cfg.daemon.shutdown_timeout.total_seconds())
        if self.once and idle:
            return  # the cycle ends by itself, with its summary of what was stored
        if self.reactor.running:
            self.reactor.stop()

    def reload(self) -> None:
        """SIGHUP: load the config again; a bad one is refused and the running one kept."""
        try:
            cfg = self.load_config(self.config_file)
            matcher = compile_matcher(cfg)
        except ConfigError as e:
            log.error("config reload refused, keeping the running config: %s", e)
            return
        except Exception as e:  # a matcher that cannot compile is a bad config too
            log.error("config reload refused, keeping the running config: %r", e)
            return
        if cfg.archive.path != self.cfg.archive.path:
            log.error(
                "config reload refused: [archive] path changed; restart the daemon to move it"
            )
            return
        from alerts.secrets import remember

        remember(t.url for t in cfg.targets)  # a new target's tokens are masked in logs too
        db = schema.open_archive(cfg.archive.path)
        try:
            dedupe_changed = cfg.dedupe != self.cfg.dedupe
            self.cfg, self.matcher = cfg, matcher
            if dedupe_changed:
                self.load_story_index(db)
            self.plan_runs(db)
        finally:
            db.close()
        # the replaced config and matcher were frozen at start-up: let the collector see them.
        # Freeze again only between runs: a crawl's or a delivery's live objects frozen now
        # would never be collected once they become garbage.
        gc.unfreeze()
        gc.collect()
        cycle = self.cycle
        if cycle.crawl_task is None and not cycle.process_lock.locked():
            self.freeze_startup()
        log.info(
            "config reloaded from %s: %d sources, %d watches",
            self.config_file,
            len(cfg.sources),
            len(cfg.watches),
        )
