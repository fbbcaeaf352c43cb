"""crawler/times.py: the one place that writes, reads and spans times; and the callers that
used to format times by hand (feed dates, --since, status, sources list, JSON logs) give
what they gave before, now through it."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler import times
from crawler.config import parse_duration

T = datetime(2026, 1, 31, 12, 0, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-31T12:00:05Z", T),
        ("2026-01-31T12:00:05z", T),
        (" 2026-01-31T12:00:05Z ", T),
        ("2026-01-31T14:00:05+02:00", T),
        ("2026-01-31T12:00:05", T),  # naive means UTC
        ("2026-01-31T12:00:05.250000Z", T.replace(microsecond=250000)),
        ("2026-1-31T12:0:5Z", T),  # the archive's format with single digits (strptime)
        ("2026-01-31", datetime(2026, 1, 31, tzinfo=UTC)),
    ],
)
def test_parse_iso_reads_every_form_as_aware_utc(text, expected):
    got = times.parse_iso(text)
    assert got == expected
    assert got.tzinfo is UTC


@pytest.mark.parametrize("text", ["", "yesterday", "2026-02-30", "2026-01-31T25:00:00Z", "7d"])
def test_parse_iso_refuses_what_is_not_a_time_and_names_it(text):
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        times.parse_iso(text)
    assert times.parse_time(text) is None


@settings(deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1000, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)
    )
)
def test_iso_and_parse_iso_round_trip_to_the_second(value):
    text = times.iso(value)
    assert len(text) == 20 and text.endswith("Z")
    assert times.parse_iso(text) == value.replace(microsecond=0)


def test_iso_converts_other_zones_and_takes_naive_as_utc():
    plus2 = timezone(timedelta(hours=2))
    assert times.iso(datetime(2026, 1, 31, 14, 0, 5, 999, tzinfo=plus2)) == "2026-01-31T12:00:05Z"
    assert times.iso(datetime(2026, 1, 31, 12, 0, 5)) == "2026-01-31T12:00:05Z"


def test_clock_keeps_microseconds_and_now_drops_them():
    # the two differ only in precision; both are aware UTC
    assert times.clock().tzinfo is UTC and times.now().tzinfo is UTC
    assert times.now().microsecond == 0


def test_from_struct_and_iso_precise():
    struct = time.gmtime(T.timestamp())
    assert times.from_struct(struct) == T
    assert times.iso_precise(T.timestamp() + 0.25) == "2026-01-31T12:00:05.250000Z"
    with pytest.raises((OverflowError, ValueError, OSError, TypeError)):
        times.from_struct("not a struct")


def test_day_keeps_the_wall_date():
    assert times.day(datetime(2026, 3, 1, 23, 30)) == "2026-03-01"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        (" 12h ", timedelta(hours=12)),
        ("7 d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("7s", None),  # seconds are not an age for --since
        ("2026-03-01", None),
        ("d", None),
        ("-3d", None),
    ],
)
def test_parse_age(text, expected):
    assert times.parse_age(text) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "0s"), (45, "45s"), (1800, "30m"), (3600, "1h"), (5400, "1h30m"), (2 * 86400, "2d")],
)
def test_span_writes_a_duration_as_the_config_does(seconds, expected):
    assert times.span(timedelta(seconds=seconds)) == expected


@settings(deadline=None)  # a shared, loaded machine
@given(st.integers(min_value=0, max_value=10**9))
def test_span_reads_back_through_the_config_parser(seconds):
    text = times.span(timedelta(seconds=seconds))
    if seconds:  # a zero duration is refused by the config, by design
        total = sum(parse_duration(part).total_seconds() for part in _parts(text))
        assert total == seconds


def _parts(text: str) -> list[str]:
    import re

    return re.findall(r"\d+[dhms]", text)


# -- the callers


def test_feed_dates_normalize_as_before():
    from crawler.normalize import iso_utc, struct_to_iso

    assert iso_utc("2026-01-31T14:00:05+02:00") == "2026-01-31T12:00:05Z"
    assert iso_utc("2026-01-31") == "2026-01-31T00:00:00Z"
    assert iso_utc(datetime(2026, 1, 31, 12, 0, 5, 700000)) == "2026-01-31T12:00:05Z"
    assert iso_utc("1970-01-01T00:00:00Z") is None  # a placeholder date
    assert iso_utc("2101-01-01T00:00:00Z") is None
    assert iso_utc("not a date") is None and iso_utc("") is None and iso_utc(None) is None
    assert struct_to_iso(time.gmtime(T.timestamp())) == "2026-01-31T12:00:05Z"
    assert struct_to_iso(None) is None and struct_to_iso("nonsense") is None


def test_search_since_takes_ages_dates_and_times():
    from crawler.search import since_time

    assert since_time("7d", T) == "2026-01-24T12:00:05Z"
    assert since_time("2026-03-01", T) == "2026-03-01T00:00:00Z"
    assert since_time("2026-03-01T10:00:00+01:00", T) == "2026-03-01T09:00:00Z"
    with pytest.raises(ValueError):
        since_time("last week", T)
    with pytest.raises(ValueError):  # an impossible date is refused, not searched from
        since_time("2026-02-30", T)


def test_match_since_is_a_day_prefix_or_a_utc_time():
    import click

    from alerts.cli.match import since_prefix

    assert since_prefix("2026-03-01") == "2026-03-01"
    assert since_prefix("2026-03-01T10:00:00+01:00") == "2026-03-01T09:00:00Z"
    assert since_prefix("2026-03-01T10:00:00Z") == "2026-03-01T10:00:00Z"
    assert since_prefix("2026-03-01T10:00:00") == "2026-03-01T10:00:00Z"
    with pytest.raises(click.BadParameter):
        since_prefix("March")


def test_json_log_lines_carry_a_precise_utc_time():
    from alerts.logs import JsonFormatter

    record = logging.LogRecord("newswatch", logging.INFO, __file__, 1, "hello", (), None)
    record.created = T.timestamp() + 0.5
    line = json.loads(JsonFormatter().format(record))
    assert line["time"] == "2026-01-31T12:00:05.500000Z"


def test_rfc822_dates_both_ways():
    assert times.rfc822(T) == "Sat, 31 Jan 2026 12:00:05 +0000"
    assert times.parse_rfc822("Sat, 31 Jan 2026 13:00:05 +0100") == T
    assert times.parse_rfc822("Sat, 31 Jan 2026 12:00:05 GMT") == T
    assert times.parse_rfc822("Sat, 31 Jan 2026 12:00:05 -0000") == T  # no zone: UTC
    assert times.parse_rfc822("soon") is None and times.parse_rfc822("") is None


def test_retry_after_reads_an_http_date_through_times():
    from crawler.middlewares import parse_retry_after

    assert parse_retry_after(b"Sat, 31 Jan 2026 12:01:05 GMT", now=T.timestamp()) == 60.0
    assert parse_retry_after("Sat, 31 Jan 2026 11:00:00 GMT", now=T.timestamp()) == 0.0
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("soon") is None


def test_day_of_an_archive_time():
    assert times.day_of("2026-01-31T12:00:05Z") == "2026-01-31"
    assert times.day_of(None) == "" and times.day_of("") == ""
