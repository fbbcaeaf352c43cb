"""The hourly limit (a watch's ``max_per_hour``): how it splits one (watch, target)'s
immediate outbox rows into alerts, one summary, or a wait. Delivery (alerts/deliver.py)
acts on the decision; the preview (alerts/preview.py) shows it."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from alerts import outbox
from alerts.config import Watch
from crawler.times import parse_iso


@dataclass
class HourlyLimit:
    """What ``max_per_hour`` lets out now of one (watch, target)'s immediate rows."""

    singles: list[dict]  # one message per story (deliver.story_message)
    rolled: list[dict]  # one summary message for them all (deliver.grouped_message)
    held_until: datetime | None = None  # the limit is reached: every row waits until then


def hourly_limit(
    db: Database,
    watch: Watch,
    target: str,
    rows: list[dict],
    now: datetime,
    key: Callable[[dict], Hashable] | None = None,
) -> HourlyLimit:
    """How ``watch.max_per_hour`` splits the immediate ``rows`` (in outbox order) due for
    ``target`` at ``now``: alert messages sent in the last hour count against it; when the
    rows need more messages than are left, the first ones go out one by one and the rest
    as one summary (the last message allowed); with none left, all wait until the oldest
    message of the hour is an hour old. The decision deliver_due acts on and the preview
    shows. ``key``: which rows make one message (deliver.message_key: rows of two stories
    merged since are one); default: each row its own."""
    if not watch.max_per_hour:
        return HourlyLimit(list(rows), [])
    window = outbox.messages_since(db, watch.name, target, now - timedelta(hours=1))
    allowance = watch.max_per_hour - len(window)
    if allowance <= 0:
        return HourlyLimit([], [], parse_iso(window[0]) + timedelta(hours=1))
    keys = [key(r) if key else r["id"] for r in rows]
    units = list(dict.fromkeys(keys))
    if len(units) > allowance:
        alone = set(units[: allowance - 1])
        return HourlyLimit(
            [r for r, k in zip(rows, keys, strict=True) if k in alone],
            [r for r, k in zip(rows, keys, strict=True) if k not in alone],
        )
    return HourlyLimit(list(rows), [])


def first_release(
    db: Database,
    watch: Watch,
    target: str,
    rows: list[dict],
    now: datetime,
    key: Callable[[dict], Hashable] | None = None,
) -> tuple[HourlyLimit, datetime]:
    """How the hourly limit splits these rows, and when: now, or, when the hour's messages
    are used up, at the first delivery that lets some out (as deliver_due holds them until
    the oldest message of the hour is an hour old, then decides again)."""
    at = now
    split = hourly_limit(db, watch, target, rows, at, key)
    while split.held_until is not None:  # each step drops a message from the window
        at = split.held_until
        split = hourly_limit(db, watch, target, rows, at, key)
    return split, at
