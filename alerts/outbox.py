"""The alerts table: one outbox row per (watch, story, target), its states and retries.

A row moves pending -> sending -> sent | failed. It is marked ``sending`` (with a lease in
``next_attempt_at``) before the message leaves and ``sent`` after Apprise confirms it, so a
process killed in between leaves a ``sending`` row whose lease runs out and which is sent again:
delivery is at-least-once, a message may repeat once and is never lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlite_utils import Database

from alerts.config import DeliverySettings, Target, Watch
from alerts.targets import route
from crawler.archive import write
from crawler.times import iso, parse_iso, utc

# utc/iso/parse_iso stay importable from here until callers use crawler.times
__all__ = ["iso", "parse_iso", "utc"]

STATUSES = ("pending", "sending", "sent", "failed")
#: Only matches this recent get alert rows, so adding a target does not mail the archive.
HORIZON = timedelta(days=2)
#: How long a row may stay ``sending`` before it counts as abandoned by a dead process.
LEASE = timedelta(minutes=10)


def status_counts(db: Database) -> dict[str, int]:
    """How many outbox rows are in each state."""
    counts = dict.fromkeys(STATUSES, 0)
    for status, n in db.execute("SELECT status, count(*) FROM alerts GROUP BY status").fetchall():
        counts[status] = n
    return counts


def enqueue(
    db: Database,
    watches: Sequence[Watch],
    targets: Sequence[Target],
    *,
    now: datetime | None = None,
    horizon: timedelta = HORIZON,
) -> int:
    """Create the missing outbox rows for recent matches; returns how many were created.

    One row per (watch, story, target), routed by the watch's target names and tags. Matches
    older than ``horizon`` get no row, so a target added later starts with recent news, not
    the whole archive. Immediate rows are due at once; digest rows get their time on delivery.
    """
    now = utc(now)
    since = iso(now - horizon)
    created = 0
    with write(db):
        for watch in watches:
            for target in route(targets, watch.targets):
                cur = db.execute(
                    """
                    INSERT OR IGNORE INTO alerts
                        (watch, story_id, target, article_id, mode, status, attempts,
                         next_attempt_at, created_at)
                    SELECT m.watch, COALESCE(m.story_id, a.story_id), ?, min(m.article_id), ?,
                           'pending', 0, ?, ?
                    FROM matches m JOIN articles a ON a.id = m.article_id
                    WHERE m.watch = ? AND m.matched_at >= ?
                      AND COALESCE(m.story_id, a.story_id) IS NOT NULL
                    GROUP BY COALESCE(m.story_id, a.story_id)
                    """,
                    [
                        target.name,
                        watch.mode,
                        iso(now) if watch.mode == "immediate" else None,
                        iso(now),
                        watch.name,
                        since,
                    ],
                )
                created += cur.rowcount
    return created


def due(db: Database, now: datetime) -> list[dict]:
    """Rows to look at now: pending and due, or ``sending`` with a lapsed lease."""
    cur = db.execute(
        """
        SELECT * FROM alerts
        WHERE status IN ('pending', 'sending')
          AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
        ORDER BY id
        """,
        [iso(now)],
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def release_abandoned(db: Database, now: datetime | None = None) -> int:
    """Make every ``sending`` row due now: for a daemon starting up while it holds the
    archive lock, such rows were left by a process that died mid-send. They go out again
    (at-least-once); returns how many."""
    with write(db):
        cur = db.execute(
            "UPDATE alerts SET status = 'pending', next_attempt_at = ? WHERE status = 'sending'",
            [iso(utc(now))],
        )
    return cur.rowcount


def claim(db: Database, ids: Iterable[int], now: datetime) -> None:
    """Mark rows ``sending`` and count the attempt, before their message leaves."""
    with write(db):
        db.conn.executemany(
            "UPDATE alerts SET status = 'sending', attempts = attempts + 1,"
            " next_attempt_at = ? WHERE id = ?",
            [(iso(now + LEASE), i) for i in ids],
        )


def mark_sent(db: Database, ids: Sequence[int], now: datetime) -> None:
    """Apprise confirmed the message that carried these rows."""
    with write(db):
        db.conn.executemany(
            "UPDATE alerts SET status = 'sent', sent_at = ?, next_attempt_at = NULL,"
            " last_error = NULL WHERE id = ?",
            [(iso(now), i) for i in ids],
        )


def backoff_delay(attempts: int, delivery: DeliverySettings) -> timedelta:
    """Exponential backoff after ``attempts`` failed tries, capped at ``max_backoff``."""
    delay = delivery.backoff * (2 ** max(0, attempts - 1))
    return min(delay, delivery.max_backoff)


def mark_failure(
    db: Database, ids: Sequence[int], error: str, now: datetime, delivery: DeliverySettings
) -> int:
    """A send failed: retry later with backoff, or ``failed`` after max_attempts.

    Returns how many rows became ``failed``. ``error`` must already be redacted.
    """
    failed = 0
    with write(db):
        for i in ids:
            (attempts,) = db.execute("SELECT attempts FROM alerts WHERE id = ?", [i]).fetchone()
            if attempts >= delivery.max_attempts:
                failed += 1
                db.execute(
                    "UPDATE alerts SET status = 'failed', next_attempt_at = NULL,"
                    " last_error = ? WHERE id = ?",
                    [error, i],
                )
            else:
                db.execute(
                    "UPDATE alerts SET status = 'pending', next_attempt_at = ?, last_error = ?"
                    " WHERE id = ?",
                    [iso(now + backoff_delay(attempts, delivery)), error, i],
                )
    return failed


def hold(db: Database, ids: Iterable[int], until: datetime) -> None:
    """Keep rows pending until ``until`` (quiet hours, digest time, the hourly limit)."""
    with write(db):
        db.conn.executemany(
            "UPDATE alerts SET status = 'pending', next_attempt_at = ? WHERE id = ?",
            [(iso(until), i) for i in ids],
        )


def give_up(db: Database, ids: Iterable[int], error: str) -> None:
    """Fail rows that cannot be sent at all (their watch or target left the config)."""
    with write(db):
        db.conn.executemany(
            "UPDATE alerts SET status = 'failed', next_attempt_at = NULL, last_error = ?"
            " WHERE id = ?",
            [(error, i) for i in ids],
        )


def record_delivery(
    db: Database, watch: str, target: str, kind: str, alerts: int, now: datetime
) -> None:
    """Remember one message sent (alert, summary, digest, health, test)."""
    with write(db):
        db.execute(
            "INSERT INTO deliveries (watch, target, kind, alerts, sent_at) VALUES (?, ?, ?, ?, ?)",
            [watch, target, kind, alerts, iso(now)],
        )


def messages_since(db: Database, watch: str, target: str, since: datetime) -> list[str]:
    """Send times of alert messages (single, summary) to a target for a watch since ``since``."""
    rows = db.execute(
        "SELECT sent_at FROM deliveries WHERE watch = ? AND target = ?"
        " AND kind IN ('alert', 'summary') AND sent_at > ? ORDER BY sent_at",
        [watch, target, iso(since)],
    ).fetchall()
    return [r[0] for r in rows]


def last_digest(db: Database, watch: str, target: str) -> str | None:
    """When the last digest for this watch went to this target, if ever."""
    row = db.execute(
        "SELECT max(sent_at) FROM deliveries WHERE watch = ? AND target = ? AND kind = 'digest'",
        [watch, target],
    ).fetchone()
    return row[0]


def list_alerts(db: Database, *, status: str | None = None, limit: int = 100) -> list[dict]:
    """Outbox rows, newest first, with their story title."""
    where, params = "", []
    if status:
        where, params = "WHERE al.status = ?", [status]
    cur = db.execute(
        f"""
        SELECT al.id, al.watch, al.target, al.mode, al.status, al.attempts, al.next_attempt_at,
               al.created_at, al.sent_at, al.last_error, al.story_id,
               COALESCE(a.title, s.title) AS title
        FROM alerts al
        LEFT JOIN articles a ON a.id = al.article_id
        LEFT JOIN stories s ON s.id = al.story_id
        {where} ORDER BY al.id DESC LIMIT ?
        """,
        [*params, limit],
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def statuses(db: Database, ids: Iterable[int]) -> dict[int, str]:
    """The status of each of these alert ids that exists."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    return dict(db.execute(f"SELECT id, status FROM alerts WHERE id IN ({marks})", ids).fetchall())


def retry(
    db: Database, ids: Sequence[int] = (), *, failed: bool = False, now: datetime | None = None
) -> int:
    """Make rows due again with a fresh attempt count; returns how many changed.

    ``ids`` picks rows (not already sent); ``failed=True`` takes every failed row.
    """
    stamp = iso(utc(now))
    with write(db):
        if failed:
            cur = db.execute(
                "UPDATE alerts SET status = 'pending', attempts = 0, next_attempt_at = ?"
                " WHERE status = 'failed'",
                [stamp],
            )
            return cur.rowcount
        n = 0
        for i in ids:
            cur = db.execute(
                "UPDATE alerts SET status = 'pending', attempts = 0, next_attempt_at = ?"
                " WHERE id = ? AND status != 'sent'",
                [stamp, i],
            )
            n += cur.rowcount
        return n
