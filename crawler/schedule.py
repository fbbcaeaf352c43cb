"""When each source is due: computed from the archive, so restarts lose no schedule.

A source is due one interval after its last fetch attempt (an attempt, not a success, so a
failing source is not hammered every tick), shifted by a per-source jitter so that sources
with the same interval do not all fire together. A source never fetched, or overdue when the
daemon starts, is due at start-up, staggered over a short window.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlite_utils import Database

from crawler.config import CrawlSettings, Source

# parse_time is re-exported: crawler/liveness.py still imports it from here
from crawler.times import parse_time as parse_time


def jitter(source: Source, crawl: CrawlSettings) -> timedelta:
    """A stable offset in [0, jitter x interval) for this source: the same at every start."""
    interval = source.effective_interval(crawl).total_seconds()
    h = int.from_bytes(hashlib.sha1(source.name.encode()).digest()[:4], "big") / 2**32
    return timedelta(seconds=h * crawl.jitter * interval)


def last_attempts(db: Database) -> dict[str, datetime]:
    """Last fetch attempt per source name, from the archive."""
    out = {}
    for name, attempt in db.execute("SELECT name, last_attempt_at FROM sources").fetchall():
        t = parse_time(attempt)
        if t is not None:
            out[name] = t
    return out


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
    attempts = last_attempts(db)
    planned: dict[str, datetime] = {}
    overdue: list[str] = []
    for s in sources:
        if not s.enabled:
            continue
        last = attempts.get(s.name)
        if last is None:
            overdue.append(s.name)
            continue
        due = last + s.effective_interval(crawl) + jitter(s, crawl)
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
