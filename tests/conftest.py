"""Fixtures every test area shares: config files in tmp_path, the CLI in-process and as a process."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings as hypothesis_settings

REPO = Path(__file__).resolve().parent.parent

# The suite's property tests are deterministic: the same examples on every run and machine, so
# a red CI run is reproducible and a green one is not luck. Loaded here, before the test
# modules are imported, so their own @settings inherit it. Random exploration lives in
# bench/bench_fuzz.py (which does not load this profile).
hypothesis_settings.register_profile("suite", derandomize=True, database=None)
hypothesis_settings.load_profile("suite")


def pytest_configure(config):
    """Markers of the shared test set-up (``slow`` is registered in pyproject.toml), and the
    derived-data cache (alerts/cache.py) in the system's temporary folder instead of the
    user's home: the suite writes nothing outside temporary folders, and its in-process
    tests and the processes it launches (which inherit the environment) share one cache."""
    cache = Path(tempfile.gettempdir()) / f"newswatch-test-cache-{os.getuid()}"
    os.environ.setdefault("NEWSWATCH_CACHE", str(cache))
    config.addinivalue_line(
        "markers",
        "install: builds the wheel and installs it into a fresh venv (a minute; `make test` "
        "leaves it out, `make test-install` and .ci/run run it)",
    )


def pytest_collection_modifyitems(config, items):
    """A test that launches `newswatch` as a real process is slow (a second or more of start-up
    and a crawl each): it is marked so, wherever it lives, and runs in `make test-slow`."""
    slow = pytest.mark.slow
    for item in items:
        if "run_newswatch" in getattr(item, "fixturenames", ()):
            item.add_marker(slow)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (``CI`` set, as CI services do) a skipped test is a failure: the tests that
    skip without Chromium, redis-server or a mountable tmpfs would otherwise turn CI green
    without having run. `make test-slow` installs Chromium and redis-server when missing."""
    report = yield
    if report.skipped and not hasattr(report, "wasxfail") and _in_ci():
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {reason}"
    return report


@pytest.fixture(autouse=True)
def _no_remembered_env_secrets():
    """The ${VAR} values a config load remembers are process-wide (crawler/env_secrets.py):
    one test's SMTP_USER=analyst must not turn another test's "analyst" into ${SMTP_USER}."""
    from crawler import env_secrets

    env_secrets.forget()
    yield
    env_secrets.forget()


@pytest.fixture
def write_config(tmp_path):
    """Write a config file; ``{archive}`` in the text becomes a fresh archive path in tmp_path."""

    def write(text: str, name: str = "newswatch.toml") -> Path:
        path = tmp_path / name
        archive = tmp_path / "archive.db"
        path.write_text(textwrap.dedent(text).replace("{archive}", str(archive)), encoding="utf-8")
        return path

    return write


@pytest.fixture
def cli():
    """Run the `newswatch` CLI in-process: cli(args...) -> click Result."""
    from scheduler import cli as group

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, env: dict | None = None):
        return runner.invoke(group, list(args), input=input, env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def run_newswatch():
    """Run `python scheduler.py ...` as a real process: run_newswatch(args..., timeout=) -> CompletedProcess."""

    def run(
        *args: str,
        timeout: float = 120,
        env: dict | None = None,
        input: str | None = None,
        cwd=None,
    ):
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        return subprocess.run(
            [sys.executable, str(REPO / "scheduler.py"), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=full_env,
            input=input,
            cwd=cwd or REPO,
        )

    return run
