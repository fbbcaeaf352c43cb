"""Times in the archive: the one place that says how a time is written, read and rounded.

The archive stores every time as ISO 8601 UTC text with seconds and a ``Z``
(``2026-01-31T12:00:00Z``): it sorts as text, compares with ``<`` in SQL and reads well in
``sqlite-utils`` and Datasette. Every module formats and parses times through here, and
reads and writes spans of time (``7d`` ago, an interval shown as ``1h30m``) here too; the
config's duration syntax itself is ``crawler.config.parse_duration``.
"""

from __future__ import annotations

import calendar
import email.utils
import re
from datetime import UTC, datetime, timedelta

#: The archive's time format (strftime/strptime).
FORMAT = "%Y-%m-%dT%H:%M:%SZ"
#: Day precision, for labels such as a digest's date.
DATE_FORMAT = "%Y-%m-%d"
#: Log lines: the archive's format with microseconds, so lines of one second keep their order.
PRECISE_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
#: A page's own date with its own offset (what date extraction is asked for; read back with
#: :func:`parse_iso`).
OFFSET_FORMAT = "%Y-%m-%dT%H:%M:%S%z"

_AGE = re.compile(r"\s*(\d+)\s*([mhdw])\s*")
_AGE_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_SPAN_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def utc(value: datetime | None = None) -> datetime:
    """``value`` (or the current time) as an aware UTC datetime, to the second.

    A naive datetime is taken as UTC.
    """
    value = value or datetime.now(UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0)


def now() -> datetime:
    """The current time as an aware UTC datetime, to the second."""
    return utc()


def clock() -> datetime:
    """The current time as an aware UTC datetime to the microsecond: for comparing against
    a plan or handing to a timer, never for storing (store :func:`utcnow`)."""
    return datetime.now(UTC)


def from_timestamp(seconds: float) -> datetime:
    """A POSIX timestamp as an aware UTC datetime (to the microsecond)."""
    return datetime.fromtimestamp(seconds, UTC)


def from_struct(value) -> datetime:
    """A UTC ``time.struct_time`` (what feedparser gives) as an aware UTC datetime.

    Raises OverflowError, ValueError, OSError or TypeError for one that is not a time."""
    return from_timestamp(calendar.timegm(value))


def iso_precise(seconds: float) -> str:
    """A POSIX timestamp as ISO 8601 UTC with microseconds and a Z (log lines)."""
    return from_timestamp(seconds).strftime(PRECISE_FORMAT)


def rfc822(value: datetime | None = None) -> str:
    """``value`` (or now) as an RFC 5322 date in UTC (``Sat, 31 Jan 2026 12:00:05 +0000``):
    RSS ``pubDate``, OPML ``dateCreated``."""
    return email.utils.format_datetime(utc(value))


def parse_rfc822(text: str) -> datetime | None:
    """An RFC 5322 / HTTP date (``Retry-After``, ``Last-Modified``) as aware UTC; None when
    ``text`` is not one. A date without a zone (``-0000``) is taken as UTC."""
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def day_of(text: str | None) -> str:
    """The date part (``YYYY-MM-DD``) of an archive time, for a listing's date column; ""
    for none."""
    return (text or "")[:10]


def day(value: datetime) -> str:
    """``value``'s date as ``YYYY-MM-DD``, in its own zone (a naive value as it is)."""
    return value.strftime(DATE_FORMAT)


def iso(value: datetime) -> str:
    """``value`` in the archive's format: ISO 8601 UTC with seconds and a Z."""
    return utc(value).strftime(FORMAT)


def utcnow() -> str:
    """The current time in the archive's format."""
    return iso(datetime.now(UTC))


def parse_iso(text: str) -> datetime:
    """Read an ISO 8601 time (``Z`` or an offset; naive means UTC) as aware UTC.

    Raises ValueError naming the text when it is not a time.
    """
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    try:
        t = datetime.fromisoformat(s)  # fast (C), and it reads every offset
    except ValueError:
        try:  # the archive's format with single-digit fields, which only strptime reads
            t = datetime.strptime(text, FORMAT)
        except ValueError:
            raise ValueError(f"not an ISO 8601 time: {text!r}") from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def parse_time(text: str | None) -> datetime | None:
    """Like :func:`parse_iso`, but None for missing or unreadable values."""
    if not text:
        return None
    try:
        return parse_iso(text)
    except ValueError:
        return None


def shift(text: str, delta: timedelta) -> str:
    """An archive time ``delta`` later (negative: earlier), in the archive's format."""
    return iso(parse_iso(text) + delta)


def parse_age(text: str) -> timedelta | None:
    """An age such as ``30m``, ``12h``, ``7d`` or ``2w`` (minutes, hours, days, weeks) as a
    timedelta; None when ``text`` is not one."""
    m = _AGE.fullmatch(text)
    if not m:
        return None
    return timedelta(**{_AGE_UNITS[m.group(2)]: int(m.group(1))})


def span(delta: timedelta) -> str:
    """A span as the config writes one: ``30m``, ``1h``, ``1h30m``, ``2d`` (whole seconds;
    ``0s`` for none)."""
    seconds = int(delta.total_seconds())
    parts = []
    for unit, size in _SPAN_UNITS:
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"
