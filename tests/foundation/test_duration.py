"""The duration parser at its edges: infinite, huge and vanishing values are config errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.config import parse_duration
from scheduler import ConfigError, load_config


@pytest.mark.parametrize(
    "value",
    [
        float("inf"),
        float("-inf"),
        float("nan"),
        "999999999999w",
        "99999999999999999999999999999999d",
        10**400,
        -(10**400),
        1e300,
        "0.0000001s",
        "௭௯s",  # Tamil digits: \d and float() take them, a config should not
        "١٠m",
    ],
)
def test_out_of_range_durations_are_value_errors(value):
    # OverflowError (or any other exception) would escape pydantic and crash the loader
    with pytest.raises(ValueError):
        parse_duration(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("90s", 90), ("15m", 900), ("1h", 3600), ("1.5d", 129600), ("2w", 1209600), (45, 45)],
)
def test_ordinary_durations(value, expected):
    assert parse_duration(value) == timedelta(seconds=expected)


@pytest.mark.parametrize(
    ("toml", "path"),
    [
        ("[crawl]\ninterval = inf\n", "crawl.interval"),
        ("[crawl]\ninterval = nan\n", "crawl.interval"),
        (
            '[[sources]]\nname = "a"\nkind = "feed"\nurl = "https://example.org/a.xml"\n'
            'interval = "999999999999w"\n',
            "sources[0].interval",
        ),
    ],
)
def test_config_names_the_key_of_an_impossible_duration(write_config, toml, path):
    with pytest.raises(ConfigError) as e:
        load_config(write_config(toml))
    assert path in dict(e.value.problems)


def test_infinite_interval_exits_2_with_one_line(write_config, run_newswatch):
    path = write_config('[archive]\npath = "{archive}"\n[crawl]\ninterval = inf\n')
    proc = run_newswatch("--config", str(path), "status")
    assert proc.returncode == 2, proc.stderr
    assert "crawl.interval" in proc.stderr
    assert "Traceback" not in proc.stderr


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(),
        st.text(max_size=30),
        st.from_regex(r"\A\s*\d{1,30}(\.\d{0,12})?\s*(ms|s|m|h|d|w)?\s*\Z"),
    )
)
def test_fuzz_parse_duration_gives_a_timedelta_or_a_value_error(value):
    try:
        got = parse_duration(value)
    except ValueError:
        return
    assert timedelta(0) < got <= timedelta(days=36_500)
