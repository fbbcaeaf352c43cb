"""A `newswatch` process imports sqlite-utils without numpy (crawler/cli/startup.py): numpy
cost every command about 0.09 s of CPU, a tenth of a crawl of unchanged feeds; code that
needs numpy still imports it."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO


def imported(stderr: str) -> set[str]:
    """The modules named in ``python -X importtime`` output."""
    return {m.group(1) for m in re.finditer(r"^import time:.*\|\s*(\S+)\s*$", stderr, re.M)}


def test_the_cli_loads_sqlite_utils_without_numpy(run_newswatch):
    proc = run_newswatch("--help", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules = imported(proc.stderr)
    assert "sqlite_utils" in modules  # (the check reads the right output)
    assert not {m for m in modules if m.split(".")[0] == "numpy"}


def test_numpy_still_imports_for_the_code_that_needs_it():
    code = (
        "import sys, scheduler, sqlite_utils.db as db\n"
        "assert 'numpy' not in sys.modules and db.np is None\n"
        "import numpy, crawler.minhash\n"
        "print(numpy.uint32(7) + 1)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "8"
