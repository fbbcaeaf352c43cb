"""Property-based fuzzing of the config loader (issue 13): any file, any TOML text and any
structure gives a Config or a ConfigError naming a key path (the CLI's exit 2), never
another exception. A small budget here; bench/bench_fuzz.py --target config
runs the same strategies and check for longer.

Inputs are mutations of a valid config (every section, the values that once crashed:
``interval = inf``, ``"999999999999w"``, a query 200 parentheses deep, ``NOT `` x 989,
``a NEAR/1 `` x 1000), random TOML text and random bytes.
"""

from __future__ import annotations

import atexit
import math
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.config_file import ConfigError
from scheduler import CONFIG, Config

_DIR = Path(tempfile.mkdtemp(prefix="newswatch-config-fuzz-"))
atexit.register(shutil.rmtree, _DIR, True)

BASE = {
    "archive": {"path": "data/fuzz.db"},
    "crawl": {"interval": "30m", "max_page_bytes": 10_000_000, "obey_robots": True},
    "sources": [
        {"name": "s1", "kind": "feed", "url": "https://example.org/feed.xml", "interval": "1h"},
        {"name": "s2", "kind": "html", "url": "https://example.org/", "links": "a.story"},
    ],
    "targets": [{"name": "t1", "url": "json://localhost/hook", "tags": ["team"]}],
    "watches": [
        {
            "name": "w1",
            "countries": ["AZ"],
            "query": 'trafficking OR "forced labor"',
            "targets": ["t1"],
            "mode": "immediate",
        }
    ],
    "term_sets": {"tip": ["Tier 2", "Watch List"]},
    "delivery": {},
    "daemon": {"tick": "5s", "process_interval": "30s"},
    "dedupe": {},
}
KEYS = sorted(
    {k for section in BASE.values() if isinstance(section, dict) for k in section}
    | {k for item in BASE["sources"] + BASE["targets"] + BASE["watches"] for k in item}
    | set(BASE)
    | {"enabled", "full_text", "format", "digest_at", "quiet_hours", "max_per_hour",
       "threshold", "num_perm", "timezone", "jitter", "retries", "download_timeout",
       "user_agent", "sources", "aliases", "cities", "base_url", "host", "port"}
)  # fmt: skip
HOSTILE = [
    "inf", "-inf", "nan", "0s", "-1s", "999999999999w", "1e309s", "30m", "1h", "P1D",
    "(" * 200 + "a" + ")" * 200, "NOT " * 989 + "a", "a NEAR/1 " * 1000 + "a",
    "a NEAR/999999999999 b", '"unclosed', "trafficking AND", "${NOT_SET_ANYWHERE}",
    "$${LITERAL}", "json://", "mailto://u:p#w@h?to=a@b.org", "slack://x", "http://[::1",
    "ftp://example.org/x", "feed", "html", "sitemap", "digest", "immediate", "AZ", "XX",
    "", " ", "\x00", "\u2028", "🙂" * 50, "a" * 10_000, "08:00", "25:61", "Europe/Nowhere",
]  # fmt: skip

scalars = st.one_of(
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(HOSTILE),
    st.datetimes(),
    st.dates(),
    st.times(),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


_ALL_PATHS = [p for p in _paths(BASE) if p]


@st.composite
def structures(draw):
    """The valid config with 1-4 places replaced, removed, or given an extra key."""
    import copy

    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(_ALL_PATHS))
        parent = data
        try:
            for step in path[:-1]:
                parent = parent[step]
            action = draw(st.sampled_from(["set", "set", "drop", "add"]))
            if action == "set":
                parent[path[-1]] = draw(values)
            elif action == "drop" and isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif isinstance(parent, dict):
                parent[draw(st.sampled_from(KEYS))] = draw(values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation changed the shape there
    return data


def _quote(text: str) -> str:
    """A TOML basic string: backslash, quote and control characters escaped."""
    out = []
    for c in str(text):
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return (
            "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
        )
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return _quote(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_quote(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    return v.isoformat()


def to_toml(data: dict) -> str:
    """A small TOML writer (inline tables are enough; the loader reads what tomllib reads)."""
    return "\n".join(f"{_quote(k)} = {_toml_value(v)}" for k, v in data.items()) + "\n"


texts = st.one_of(
    structures().map(to_toml),
    st.text(max_size=300),
    st.builds(
        lambda base, at, junk: base[:at] + junk + base[at:],
        structures().map(to_toml),
        st.integers(0, 400),
        st.text(max_size=10),
    ),
)
files = st.one_of(texts.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=200))


def check_config(data: dict | bytes) -> object:
    """Load one input as a config file; anything but a Config or a ConfigError whose every
    problem names a key path (or the file, for text that is no TOML) is a failure."""
    path = _DIR / "fuzz.toml"
    if isinstance(data, dict):
        data = to_toml(data).encode("utf-8", "surrogatepass")
    path.write_bytes(data)
    try:
        cfg = CONFIG.load(path)
    except ConfigError as e:
        assert e.problems, "a ConfigError without a problem"
        structural = [p for p, _ in e.problems if p]
        file_level = [m for p, m in e.problems if not p]
        assert structural or all(
            m.startswith(("not valid TOML", "not UTF-8", "file not found", "cannot read"))
            for m in file_level
        ), e.problems
        return e
    assert isinstance(cfg, Config)
    return cfg


@pytest.mark.parametrize(
    ("name", "strategy", "examples"),
    [("structure", structures(), 150), ("file", files, 150)],
)
def test_any_config_is_a_config_or_a_config_error(name, strategy, examples):
    # No time is asserted here (a loaded machine would fail it): a hang is caught by
    # pytest-timeout, and bench/bench_fuzz.py --target config reports the slowest input.
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def prop(data):
        check_config(data)

    prop()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (("crawl", "interval"), float("inf")),
        (("crawl", "interval"), "999999999999w"),
        (("watches", 0, "query"), "(" * 200 + "a" + ")" * 200),
        (("watches", 0, "query"), "NOT " * 989 + "a"),
        (("watches", 0, "query"), "a NEAR/1 " * 1000 + "a"),
    ],
)
def test_the_inputs_that_crashed_are_errors_with_their_key_path(key, value):
    import copy

    data = copy.deepcopy(BASE)
    parent = data
    for step in key[:-1]:
        parent = parent[step]
    parent[key[-1]] = value
    error = check_config(data)
    assert isinstance(error, ConfigError)
    shown = ".".join(str(k) for k in key).replace(".0.", "[0].")
    assert any(p == shown for p, _ in error.problems), error.problems
