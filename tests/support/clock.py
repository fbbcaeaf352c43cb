"""Test times taken from the real clock that must stay on one side of a digest slot."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from alerts.deliver import next_slot


def later_before_slot(
    now: datetime, slots: list[str], tz: tzinfo, by: timedelta = timedelta(hours=2)
) -> datetime:
    """``now + by``, but a minute before the next of the digest ``slots`` after ``now`` when
    that comes first (never before ``now``): a second delivery later than ``now`` that no
    digest falls due at, whatever the time of day the test runs."""
    return max(now, min(now + by, next_slot(slots, now, tz) - timedelta(minutes=1)))
