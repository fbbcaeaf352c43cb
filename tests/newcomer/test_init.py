"""`newswatch init`: flags for scripts, prompts on a terminal, a config that loads."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scheduler import load_config

REPO = Path(__file__).resolve().parents[2]


def test_flags_write_a_commented_config_that_loads(run_newswatch, tmp_path):
    proc = run_newswatch(
        "init", "conf/watch.toml", "--email", "analyst@example.org", "--country", "AZE",
        "--country", "Georgia", "--query", "trafficking OR \"forced labour\"", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    path = tmp_path / "conf" / "watch.toml"
    text = path.read_text()
    assert "mailtos://analyst:${NEWSWATCH_SMTP_PASSWORD}@example.org?to=analyst@example.org" in text
    # not ./newswatch.toml: the next steps name the file; the password step comes first
    assert "newswatch --config conf/watch.toml sources add" in proc.stdout
    assert "export NEWSWATCH_SMTP_PASSWORD" in proc.stdout
    os.environ["NEWSWATCH_SMTP_PASSWORD"] = "pw"
    try:
        cfg = load_config(path)
    finally:
        del os.environ["NEWSWATCH_SMTP_PASSWORD"]
    assert cfg.watches[0].countries == ["AZ", "GE"]
    assert cfg.watches[0].query == 'trafficking OR "forced labour"'
    assert len(cfg.sources) == 3 and cfg.watches[0].targets == ["me"]
    # a second init does not replace it
    again = run_newswatch("init", "conf/watch.toml", "--email", "a@b.org", cwd=tmp_path)
    assert again.returncode == 2 and "exists" in again.stderr
    # without a target and without a terminal: say what is missing
    none = run_newswatch("init", "other.toml", cwd=tmp_path)
    assert none.returncode == 2 and "--email ADDRESS or --target URL" in none.stderr


@pytest.mark.slow  # a real process
def test_prompts_on_a_terminal(tmp_path):
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "scheduler.py"), "init", "--no-sources"],
        stdin=slave, stdout=slave, stderr=slave, cwd=tmp_path,
        env={**os.environ, "NEWSWATCH_CONFIG": ""},
    )  # fmt: skip
    os.close(slave)
    seen = b""

    def answer(prompt: bytes, text: str) -> None:
        nonlocal seen
        deadline = time.monotonic() + 60
        while prompt not in seen and time.monotonic() < deadline:
            seen += os.read(master, 1024)
        assert prompt in seen, seen
        seen = b""
        os.write(master, text.encode() + b"\n")

    answer(b"e-mail address", "json://127.0.0.1:9/hook")
    answer(b"Countries", "Azerbaijan")
    answer(b"query", "")  # the default
    assert proc.wait(timeout=60) == 0
    os.close(master)
    cfg = load_config(tmp_path / "newswatch.toml")
    assert cfg.targets[0].url == "json://127.0.0.1:9/hook"
    assert cfg.watches[0].countries == ["AZ"] and "trafficking" in cfg.watches[0].query
