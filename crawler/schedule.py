"""When each source is due: computed from the archive, so restarts lose no schedule.

A source is due one interval after its last fetch attempt finished (an attempt, not a
success, so a failing source is not hammered every tick), shifted by a stable per-source
jitter so that sources with the same interval do not all fire together: :func:`due_at` is
that rule, and both the start-up plan (:func:`next_runs`) and the running daemon
(:func:`due_after_run`) use it, so sources that ran together drift apart by their jitter and
a restart plans the times the running daemon would have. A source never fetched, or overdue when the
daemon starts, is due at start-up, staggered over a short window.

A source whose last attempt failed for a passing reason (:data:`TRANSIENT`: DNS, connection,
timeout, 5xx, 429, or its items met an archive locked by another writer: ``archive_busy``,
which does not count as the source's failure) is tried again sooner: ``failure_retry`` (1 minute) after the failure,
doubling with each consecutive failure, never later than its interval, and never before the
time the server asked for with Retry-After. A permanent failure (a 404, not a feed, refused
by robots.txt) waits its interval.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from crawler.config import CrawlSettings, Source
from crawler.times import parse_time


def jitter(source: Source, crawl: CrawlSettings) -> timedelta:
    """A stable offset in [0, schedule_jitter x interval) for this source, from its name: the
    same in the running daemon and after a restart."""
    interval = source.effective_interval(crawl).total_seconds()
    h = int.from_bytes(hashlib.sha1(source.name.encode()).digest()[:4], "big") / 2**32
    return timedelta(seconds=h * crawl.schedule_jitter * interval)


#: Error classes worth an early retry: the source may well answer in a minute.
TRANSIENT = frozenset({"dns", "connection", "timeout", "http_5xx", "archive_busy"})
#: Failures that are not the source's: not counted in ``consecutive_failures``
#: (crawler/fetch_outcomes.py), yet retried early (a store that met a locked archive).
NOT_COUNTED = frozenset({"archive_busy"})


@dataclass(frozen=True)
class LastAttempt:
    """What the archive says of a source's last fetch attempt."""

    finished: datetime
    failures: int = 0  # consecutive failed attempts, this one included
    error_class: str | None = None
    status: int | None = None  # its HTTP status, when it had one
    retry_at: datetime | None = None  # the server's Retry-After, as a time

    @property
    def transient(self) -> bool:
        """Whether it failed for a passing reason (a 429 is one: the server is busy)."""
        if self.error_class in NOT_COUNTED:
            return True
        if self.failures <= 0:
            return False
        return self.error_class in TRANSIENT or self.status == 429 or self.retry_at is not None


def due_at(
    source: Source, crawl: CrawlSettings, finished: datetime, last: LastAttempt | None = None
) -> datetime:
    """When a source whose last fetch attempt finished at ``finished`` is next due: one
    interval later, plus its jitter; after a transient failure (``last``), the backoff
    instead: ``failure_retry`` x 2^(failures - 1), at most the interval, plus the same share
    of it as jitter, and not before the server's Retry-After. The one rule, used at start-up
    (:func:`next_runs`) and by the running daemon after each run (:func:`due_after_run`)."""
    interval = source.effective_interval(crawl)
    if last is None or not last.transient:
        return finished + interval + jitter(source, crawl)
    steps = min(max(last.failures - 1, 0), 30)  # 2^30 minutes is past any interval
    backoff = min(crawl.failure_retry * (2**steps), interval)
    share = jitter(source, crawl) / interval if interval else 0
    due = finished + backoff + backoff * share
    if last.retry_at is not None and last.retry_at > due:
        due = last.retry_at
    return due


def last_attempts(db: Database, names: Iterable[str] | None = None) -> dict[str, LastAttempt]:
    """Each source's last fetch attempt, from the archive: when it finished (the newest
    ``fetches`` row, else ``sources.last_attempt_at``), and how it failed, if it did."""
    # One statement for every source: the newest fetches row of each is one indexed look-up
    # (fetches_source_started; the table grows for months) inside SQLite, not a query per
    # source from Python (200 sources: about 3 ms of each daemon collection's CPU).
    rows = {
        r["name"]: r
        for r in db.query(
            "SELECT s.name, s.last_attempt_at, s.consecutive_failures, s.last_error_class,"
            " s.last_status, s.retry_at, f.finished_at, f.started_at FROM sources s"
            " LEFT JOIN fetches f ON f.id = (SELECT id FROM fetches WHERE source = s.name"
            " ORDER BY started_at DESC, id DESC LIMIT 1)"
        )
    }
    wanted = list(rows) if names is None else list(names)
    out = {}
    for name in wanted:
        row = rows.get(name)
        if row is None:  # fetches of a source the sources table does not hold
            row = {}
            last = next(
                db.query(
                    "SELECT finished_at, started_at FROM fetches WHERE source = ?"
                    " ORDER BY started_at DESC, id DESC LIMIT 1",
                    [name],
                ),
                None,
            )
        else:
            last = row if row["started_at"] is not None else None
        t = parse_time(last["finished_at"] or last["started_at"]) if last else None
        t = t or parse_time(row.get("last_attempt_at"))
        if t is not None:
            out[name] = LastAttempt(
                finished=t,
                failures=row.get("consecutive_failures") or 0,
                error_class=row.get("last_error_class"),
                status=row.get("last_status"),
                retry_at=parse_time(row.get("retry_at")),
            )
    return out


def last_finished(db: Database, names: Iterable[str] | None = None) -> dict[str, datetime]:
    """When each source's last fetch attempt finished (see :func:`last_attempts`)."""
    return {name: a.finished for name, a in last_attempts(db, names).items()}


def due_after_run(db: Database, sources: list[Source], crawl: CrawlSettings) -> dict[str, datetime]:
    """When each of ``sources``, just collected, is next due: :func:`due_at` of the attempt
    the crawl recorded, so the running daemon plans what a restart would."""
    last = last_attempts(db, [s.name for s in sources])
    return {
        s.name: due_at(s, crawl, last[s.name].finished, last[s.name])
        for s in sources
        if s.name in last
    }


def next_runs(
    db: Database,
    sources: list[Source],
    crawl: CrawlSettings,
    *,
    now: datetime,
    stagger: timedelta = timedelta(seconds=30),
) -> dict[str, datetime]:
    """When each enabled source should next be fetched.

    Sources that are overdue at ``now`` (never fetched, or down past their interval) are
    spread evenly over ``stagger`` from ``now`` so a restart does not fire them all at once.
    """
    attempts = last_attempts(db, [s.name for s in sources if s.enabled])
    planned: dict[str, datetime] = {}
    overdue: list[str] = []
    for s in sources:
        if not s.enabled:
            continue
        last = attempts.get(s.name)
        if last is None:
            overdue.append(s.name)
            continue
        due = due_at(s, crawl, last.finished, last)
        if due <= now:
            overdue.append(s.name)
        else:
            planned[s.name] = due
    step = stagger / max(len(overdue), 1)
    for i, name in enumerate(overdue):
        planned[name] = now + step * i
    return planned


def due_now(plan: dict[str, datetime], now: datetime) -> list[str]:
    """Names whose planned time has come, earliest first."""
    return [name for name, t in sorted(plan.items(), key=lambda kv: kv[1]) if t <= now]
