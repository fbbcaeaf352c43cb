"""When each source is due: computed from the archive, so restarts lose no schedule.

A source is due one interval after its last fetch attempt finished (an attempt, not a
success, so a failing source is not hammered every tick), shifted by a stable per-source
jitter so that sources with the same interval do not all fire together: :func:`due_at` is
that rule, and both the start-up plan (:func:`next_runs`) and the running daemon
(:func:`due_after_run`) use it, so sources that ran together drift apart by their jitter and
a restart plans the times the running daemon would have. A source never fetched, or overdue when the
daemon starts, is due at start-up, staggered over a short window.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlite_utils import Database

from crawler.config import CrawlSettings, Source

# parse_time is re-exported: crawler/liveness.py still imports it from here
from crawler.times import parse_time as parse_time


def jitter(source: Source, crawl: CrawlSettings) -> timedelta:
    """A stable offset in [0, schedule_jitter x interval) for this source, from its name: the
    same in the running daemon and after a restart."""
    interval = source.effective_interval(crawl).total_seconds()
    h = int.from_bytes(hashlib.sha1(source.name.encode()).digest()[:4], "big") / 2**32
    return timedelta(seconds=h * crawl.schedule_jitter * interval)


def due_at(source: Source, crawl: CrawlSettings, finished: datetime) -> datetime:
    """When a source whose last fetch attempt finished at ``finished`` is next due: one
    interval later, plus its jitter. The one rule, used at start-up (:func:`next_runs`) and by
    the running daemon after each run (:func:`due_after_run`)."""
    return finished + source.effective_interval(crawl) + jitter(source, crawl)


def last_finished(db: Database, names: Iterable[str] | None = None) -> dict[str, datetime]:
    """When each source's last fetch attempt finished, from the archive: the newest
    ``fetches`` row, else ``sources.last_attempt_at`` (a source with no fetch rows)."""
    rows = db.query("SELECT name, last_attempt_at FROM sources")
    attempts = {r["name"]: r["last_attempt_at"] for r in rows}
    wanted = list(attempts) if names is None else list(names)
    out = {}
    for name in wanted:
        # one indexed look-up per source (fetches_source_started): the table grows for months
        last = next(
            db.query(
                "SELECT finished_at, started_at FROM fetches WHERE source = ?"
                " ORDER BY started_at DESC, id DESC LIMIT 1",
                [name],
            ),
            None,
        )
        t = parse_time(last["finished_at"] or last["started_at"]) if last else None
        t = t or parse_time(attempts.get(name))
        if t is not None:
            out[name] = t
    return out


def due_after_run(db: Database, sources: list[Source], crawl: CrawlSettings) -> dict[str, datetime]:
    """When each of ``sources``, just collected, is next due: :func:`due_at` of the finish
    time the crawl recorded, so the running daemon plans what a restart would."""
    finished = last_finished(db, [s.name for s in sources])
    return {s.name: due_at(s, crawl, finished[s.name]) for s in sources if s.name in finished}


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
    finished = last_finished(db, [s.name for s in sources if s.enabled])
    planned: dict[str, datetime] = {}
    overdue: list[str] = []
    for s in sources:
        if not s.enabled:
            continue
        last = finished.get(s.name)
        if last is None:
            overdue.append(s.name)
            continue
        due = due_at(s, crawl, last)
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
