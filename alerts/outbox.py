"""The alerts table: one outbox row per (watch, story, target), its states and retries.

A row moves pending -> sending -> sent | failed, or pending -> merged: a first alert whose
story merged (crawler/story_merge.py) into one this watch and target were already sent is
settled without a message (:func:`superseded`, :func:`settle_merged`). A row is marked
``sending`` (with a lease in ``next_attempt_at``) before the message leaves and ``sent``
after Apprise confirms it, so a process killed in between leaves a ``sending`` row whose
lease runs out and which is sent again: delivery is at-least-once, a message may repeat
once and is never lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlite_utils import Database

from alerts import followups, story_links
from alerts.config import DeliverySettings, Target, Watch
from alerts.schema import ensure
from alerts.targets import route
from crawler.archive import write
from crawler.story_ids import FAMILY, LIVE_STORY

# utc and parse_iso are re-exported: alerts/source_alerts.py still uses them from here
from crawler.times import iso, parse_iso, utc  # noqa: F401 (parse_iso: re-exported)

STATUSES = ("pending", "sending", "sent", "failed", "merged")
#: Only matches this recent get alert rows, so adding a target does not mail the archive.
HORIZON = timedelta(days=2)
#: How long a row may stay ``sending`` before it counts as abandoned by a dead process.
LEASE = timedelta(minutes=10)


def status_counts(db: Database) -> dict[str, int]:
    """How many outbox rows are in each state."""
    ensure(db)
    counts = dict.fromkeys(STATUSES, 0)
    for r in db.query("SELECT status, count(*) AS n FROM alerts GROUP BY status"):
        counts[r["status"]] = r["n"]
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

    One row per (watch, story, target), routed by the watch's target names and tags; a story
    that another merged into (crawler/story_merge.py) counts the merged story's rows as its
    own, so a watch alerted on either is not alerted again. Matches
    older than ``horizon`` get no row, so a target added later starts with recent news, not
    the whole archive. Immediate rows are due at once; digest rows get their time on delivery.
    """
    ensure(db)
    now = utc(now)
    since = iso(now - horizon)
    created = 0
    with write(db):
        story_links.follow_merges(db)  # matches of merged stories name the live one
        for watch in watches:
            for target in route(targets, watch.targets):
                cur = db.execute(
                    f"""
                    INSERT OR IGNORE INTO alerts
                        (watch, story_id, target, article_id, mode, status, attempts,
                         next_attempt_at, created_at)
                    SELECT watch, story, ?, article_id, ?, 'pending', 0, ?, ? FROM (
                    -- the story's earliest published matched article names the alert (a
                    -- wire crawled first must not take the credit); SQLite takes the bare
                    -- columns from the row that gives min()
                    SELECT m.watch AS watch, COALESCE(m.story_id, a.story_id) AS story,
                           m.article_id AS article_id,
                           min(COALESCE(a.published_at, a.fetched_at) || printf('%012d', a.id))
                    FROM matches m JOIN articles a ON a.id = m.article_id
                    WHERE m.watch = ? AND m.matched_at >= ?
                      AND COALESCE(m.story_id, a.story_id) IS NOT NULL
                      -- a story that has its row already would be ignored: its matches are
                      -- left out before the join and the grouping (every run re-read all
                      -- recent matches: 40-140 ms for 5,400, now 5-7 ms); a match without
                      -- its own story_id stays in, and is ignored as before
                      -- nor one whose first alert went out for a story merged into it
                      -- since (crawler/story_ids.py): one immediate alert per story
                      AND NOT EXISTS (SELECT 1 FROM alerts al WHERE al.watch = m.watch
                          AND al.story_id IN {FAMILY.format(story="m.story_id")}
                          AND al.target = ? AND al.change_id = 0)
                    GROUP BY COALESCE(m.story_id, a.story_id))
                    """,
                    [
                        target.name,
                        watch.mode,
                        iso(now) if watch.mode == "immediate" else None,
                        iso(now),
                        watch.name,
                        since,
                        target.name,
                    ],
                )
                created += cur.rowcount
        # follow-ups of stories already sent (updates, growth), per the watches' settings
        created += followups.enqueue(db, watches, targets, now=now, horizon=horizon)
    return created


def due(db: Database, now: datetime) -> list[dict]:
    """Rows to look at now: pending and due, or ``sending`` with a lapsed lease."""
    where = "status IN ('pending', 'sending') AND (next_attempt_at IS NULL OR next_attempt_at <= ?)"
    return list(db["alerts"].rows_where(where, [iso(now)], order_by="id"))


def superseded(db: Database, rows: Sequence[dict]) -> dict[int, str]:
    """Of these waiting first-alert rows (``change_id`` 0), those whose story's live story
    (``merged_into`` followed) was already sent to the same watch and target by another
    row, immediate alert or digest: the watch was alerted on that story, so they are not
    sent again (one first alert per story, watch and target); their articles are the live
    story's later coverage ("+N outlets"). Each id maps to why, for ``last_error``.
    Read-only (the preview asks it too)."""
    ids = [r["id"] for r in rows if not r.get("change_id")]
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    live = LIVE_STORY.format(col="al.story_id")
    found = db.execute(
        f"""
        SELECT al.id, al.story_id, {live} AS live, min(x.id) AS sent_id, x.story_id
        FROM alerts al JOIN alerts x ON x.watch = al.watch AND x.target = al.target
            AND x.change_id = 0 AND x.status = 'sent' AND x.id != al.id
            AND x.story_id IN {FAMILY.format(story=live)}
        WHERE al.id IN ({marks}) AND al.change_id = 0
        GROUP BY al.id
        """,
        ids,
    ).fetchall()
    return {
        i: f"merged into story {live}, alerted as alert {a}"
        if own != live
        else f"story {other} merged into it, alerted as alert {a}"
        for i, own, live, a, other in found
    }


def settle_merged(db: Database, notes: dict[int, str]) -> None:
    """Settle rows :func:`superseded` found: status ``merged``, no message, the reason in
    ``last_error``."""
    with write(db):
        db.conn.executemany(
            "UPDATE alerts SET status = 'merged', next_attempt_at = NULL, last_error = ?"
            " WHERE id = ?",
            [(note, i) for i, note in notes.items()],
        )


def release_abandoned(db: Database, now: datetime | None = None) -> int:
    """Make every ``sending`` row due now: for a daemon starting up while it holds the
    archive lock, such rows were left by a process that died mid-send. They go out again
    (at-least-once); returns how many."""
    ensure(db)
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


def mark_sent(
    db: Database,
    ids: Sequence[int],
    now: datetime,
    deliveries: Sequence[tuple[str, str, str, int]] = (),
) -> None:
    """Apprise confirmed the message that carried these rows; ``deliveries`` (watch, target,
    kind, alerts) are recorded with them, as :func:`record_delivery` does, in the same
    transaction (one commit per message sent instead of two; call on an ensured archive)."""
    with write(db):
        db.conn.executemany(
            "UPDATE alerts SET status = 'sent', sent_at = ?, next_attempt_at = NULL,"
            " last_error = NULL WHERE id = ?",
            [(iso(now), i) for i in ids],
        )
        db.conn.executemany(
            "INSERT INTO deliveries (watch, target, kind, alerts, sent_at) VALUES (?, ?, ?, ?, ?)",
            [(*d, iso(now)) for d in deliveries],
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
    alerts = db["alerts"]
    with write(db):
        for i in ids:
            attempts = alerts.get(i)["attempts"]
            if attempts >= delivery.max_attempts:
                failed += 1
                alerts.update(i, {"status": "failed", "next_attempt_at": None, "last_error": error})
            else:
                retry_at = iso(now + backoff_delay(attempts, delivery))
                alerts.update(
                    i, {"status": "pending", "next_attempt_at": retry_at, "last_error": error}
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
    ensure(db)
    row = {"watch": watch, "target": target, "kind": kind, "alerts": alerts, "sent_at": iso(now)}
    with write(db):
        db["deliveries"].insert(row)


def messages_since(db: Database, watch: str, target: str, since: datetime) -> list[str]:
    """Send times of alert messages (single, summary) to a target for a watch since ``since``."""
    rows = db["deliveries"].rows_where(
        "watch = ? AND target = ? AND kind IN ('alert', 'summary') AND sent_at > ?",
        [watch, target, iso(since)],
        select="sent_at",
        order_by="sent_at",
    )
    return [r["sent_at"] for r in rows]


def last_digest(db: Database, watch: str, target: str) -> str | None:
    """When the last digest for this watch went to this target, if ever."""
    sql = "SELECT max(sent_at) AS last FROM deliveries WHERE watch = ? AND target = ?"
    return next(db.query(sql + " AND kind = 'digest'", [watch, target]))["last"]


def list_alerts(db: Database, *, status: str | None = None, limit: int = 100) -> list[dict]:
    """Outbox rows, newest first, with their story title."""
    ensure(db)
    where, params = "", []
    if status:
        where, params = "WHERE al.status = ?", [status]
    rows = db.query(
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
    return list(rows)


def statuses(db: Database, ids: Iterable[int]) -> dict[int, str]:
    """The status of each of these alert ids that exists."""
    ensure(db)
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = db["alerts"].rows_where(f"id IN ({marks})", ids, select="id, status")
    return {r["id"]: r["status"] for r in rows}


def retry(
    db: Database, ids: Sequence[int] = (), *, failed: bool = False, now: datetime | None = None
) -> int:
    """Make rows due again with a fresh attempt count; returns how many changed.

    ``ids`` picks rows (not already sent, nor settled as ``merged``); ``failed=True`` takes
    every failed row.
    """
    ensure(db)
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
                " WHERE id = ? AND status NOT IN ('sent', 'merged')",
                [stamp, i],
            )
            n += cur.rowcount
        return n
