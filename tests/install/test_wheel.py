"""A real install: the wheel built from this tree, installed (not editable) into a fresh venv
with pip and the same index as `make install`, runs `newswatch demo` from a folder that is not
the repository. Its data (gazetteer, tiers, templates, the demo site) must come as package data.

About a minute (pip installs every dependency), so `make test` leaves it out and .ci/run runs
it with `make test-install`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.install]

# What pip must not see: the developer's venv, caches, earlier builds, and what the wheel does
# not ship (tests, benchmarks). pip builds inside the folder it is given, so it gets a copy.
NOT_SOURCE = shutil.ignore_patterns(
    ".venv",
    ".git",
    "tests",
    "bench",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    "*.db",
    "*.db-*",
)


def _run(args: list, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kw)
    assert proc.returncode == 0, f"{args}: {proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc


def test_the_installed_wheel_runs_the_demo_from_another_folder(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=NOT_SOURCE)
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", tmp_path, src])
    (wheel,) = tmp_path.glob("newswatch-*.whl")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    # This venv's pip (and its index settings) installs into the new one: no ensurepip.
    _run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q", wheel])

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = _run(
        [
            venv / "bin" / "python",
            "-c",
            "import alerts, crawler, scheduler; print(alerts.__file__)",
        ],
        cwd=elsewhere,
        env=env,
    )
    assert str(venv) in where.stdout, "the installed package, not the repository, is imported"
    demo = _run([venv / "bin" / "newswatch", "demo"], cwd=elsewhere, env=env)
    out = demo.stdout
    for step in ("sources crawled", "articles stored", "matches per watch", "tier statements"):
        assert step in out
    # The gazetteer and tier data and the mail templates were found: the tier statement
    # reaches the mail (one mail: the story, naming both watches that matched it).
    assert "1 alert mail, exactly as received" in out
    assert "[trafficking, azerbaijan]" in out
    assert "Azerbaijan: Tier 2" in out
    assert list(elsewhere.iterdir()) == [], "the demo leaves nothing in the working folder"
