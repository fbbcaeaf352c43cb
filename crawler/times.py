"""Times in the archive: the one place that says how a time is written, read and rounded.

The archive stores every time as ISO 8601 UTC text with seconds and a ``Z``
(``2026-01-31T12:00:00Z``): it sorts as text, compares with ``<`` in SQL and reads well in
``sqlite-utils`` and Datasette. Every module formats and parses times through here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

#: The archive's time format (strftime/strptime).
FORMAT = "%Y-%m-%dT%H:%M:%SZ"
#: Day precision, for labels such as a digest's date.
DATE_FORMAT = "%Y-%m-%d"


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
    try:
        t = datetime.strptime(text, FORMAT)  # the archive's own format: the fast path
    except ValueError:
        s = text.strip()
        if s.endswith(("Z", "z")):
            s = s[:-1] + "+00:00"
        try:
            t = datetime.fromisoformat(s)
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
