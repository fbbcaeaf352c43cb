"""The alerts table: one outbox row per (watch, story, target), its states and retries."""

from __future__ import annotations

from sqlite_utils import Database

STATUSES = ("pending", "sending", "sent", "failed")


def status_counts(db: Database) -> dict[str, int]:
    """How many outbox rows are in each state."""
    counts = dict.fromkeys(STATUSES, 0)
    for status, n in db.execute("SELECT status, count(*) FROM alerts GROUP BY status").fetchall():
        counts[status] = n
    return counts
