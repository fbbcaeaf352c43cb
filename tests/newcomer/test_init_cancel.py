"""Ctrl-C at an `newswatch init` prompt: one line, exit 130, nothing written.

The prompt runs on a real pseudo-terminal that is the process's controlling terminal, so
the ^C typed into it is turned into SIGINT by the terminal, as for a person at a keyboard.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a real `newswatch` process on a terminal

REPO = Path(__file__).resolve().parents[2]


def _on_a_terminal(cwd: Path) -> tuple[subprocess.Popen, int]:
    master, slave = os.openpty()

    def controlling_terminal() -> None:  # in the child: a new session whose terminal is ours
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        [sys.executable, str(REPO / "scheduler.py"), "init", "--no-sources"],
        stdin=slave, stdout=slave, stderr=slave, cwd=cwd,
        env={**os.environ, "NEWSWATCH_CONFIG": ""},
        preexec_fn=controlling_terminal,
    )  # fmt: skip
    os.close(slave)
    return proc, master


def _read_until(master: int, wanted: bytes, seen: bytes = b"") -> bytes:
    deadline = time.monotonic() + 60
    while wanted not in seen and time.monotonic() < deadline:
        try:
            seen += os.read(master, 1024)
        except OSError:  # the child closed the terminal
            break
    return seen


def _type_when_waiting(proc: subprocess.Popen, master: int, keys: bytes) -> None:
    """Type ``keys`` once the process sleeps in its read of the terminal. A ^C typed between
    the prompt's last character and that read (microseconds: no person is that fast) trips
    Python's flag but interrupts no read, and input() then waits for a line: CPython's own
    race, not what this test is about."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with open(f"/proc/{proc.pid}/stat") as f:
            state = f.read().rpartition(")")[2].split()[0]
        if state == "S":
            break
        time.sleep(0.02)
    time.sleep(0.05)
    os.write(master, keys)


def test_ctrl_c_at_a_prompt_cancels_cleanly(tmp_path):
    proc, master = _on_a_terminal(tmp_path)
    try:
        seen = _read_until(master, b"e-mail address")
        assert b"e-mail address" in seen, seen
        os.write(master, b"json://127.0.0.1:9/hook\n")  # the first answer given...
        seen = _read_until(master, b"Countries")
        assert b"Countries" in seen, seen
        _type_when_waiting(proc, master, b"\x03")  # ...then ^C at the second prompt
        assert proc.wait(timeout=60) == 130
        out = _read_until(master, b"\n\n\n", seen).decode(errors="replace")  # the rest
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert "init cancelled; nothing written" in out
    assert "Aborted!" not in out and "Traceback" not in out
    assert list(tmp_path.iterdir()) == []  # no config, no draft


def test_end_of_input_at_a_prompt_is_a_usage_exit(tmp_path):
    proc, master = _on_a_terminal(tmp_path)
    try:
        seen = _read_until(master, b"e-mail address")
        assert b"e-mail address" in seen, seen
        _type_when_waiting(proc, master, b"\x04")  # ^D: the end of input, no answer
        assert proc.wait(timeout=60) == 2
        out = _read_until(master, b"\n\n\n", seen).decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert "init cancelled; nothing written" in out and "Aborted!" not in out
    assert list(tmp_path.iterdir()) == []
