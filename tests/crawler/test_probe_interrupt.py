"""Ctrl-C during `sources test`, `sources add` and `sources discover` (issue 13 item 3): the
probe is stopped, the process ends with 130 and no traceback. Before, it printed
"Aborted!" and stayed alive: the reactor was left without its shutdown, so Twisted's
thread pool kept the process waiting. Real processes against a local server that accepts
the connection, reads the request and never answers; the signal goes to the process
group (as a terminal's Ctrl-C does) once the request has arrived, never after a wait."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading

import pytest
from conftest import REPO

pytestmark = pytest.mark.slow

CONFIG = """
[archive]
path = "{archive}"
[crawl]
allow_private_addresses = true
obey_robots = false
retries = 0
download_timeout = "300s"
"""


class SilentServer:
    """Accepts connections and reads requests; never answers. ``arrived`` is set when the
    first request's bytes came in."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.arrived = threading.Event()
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}{path}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        try:
            if conn.recv(4096):
                self.arrived.set()
        except OSError:
            pass

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def silent():
    server = SilentServer()
    yield server
    server.close()


@pytest.mark.parametrize(
    "command",
    [
        ("sources", "test", "{url}"),
        ("sources", "add", "--allow-private", "{url}"),
        ("sources", "discover", "{url}"),
    ],
    ids=["test", "add", "discover"],
)
def test_ctrl_c_ends_a_probe_with_130(silent, tmp_path, command):
    cfg = tmp_path / "newswatch.toml"
    cfg.write_text(CONFIG.replace("{archive}", str(tmp_path / "a.db")), encoding="utf-8")
    args = [a.replace("{url}", silent.url("/feed.xml")) for a in command]
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "scheduler.py"), *args, "--config", str(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=tmp_path,
        start_new_session=True,  # its own process group, as a terminal job has
    )
    try:
        assert silent.arrived.wait(60), "the probe never reached the server"
        os.killpg(proc.pid, signal.SIGINT)
        try:
            _out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("still running a minute after Ctrl-C")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err[-3000:]
    assert "Traceback" not in err and "Aborted!" not in err, err[-3000:]
    assert "interrupted by SIGINT" in err
    assert "[[sources]]" not in cfg.read_text(encoding="utf-8")  # nothing added


def test_ctrl_c_while_reading_input_exits_130(tmp_path):
    """Outside a reactor run, Ctrl-C was click's "Aborted!" and exit 1. `newswatch match`
    reads a FIFO: opening our end returns once the process opened its end to read."""
    cfg = tmp_path / "newswatch.toml"
    cfg.write_text(
        CONFIG.replace("{archive}", str(tmp_path / "a.db"))
        + '[[watches]]\nname = "w"\nquery = "trafficking"\n',
        encoding="utf-8",
    )
    fifo = tmp_path / "articles.jsonl"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "scheduler.py"), "match", str(fifo), "--config", str(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        start_new_session=True,
    )
    try:
        with open(fifo, "w"):  # returns when the process opened the FIFO: it is reading
            os.killpg(proc.pid, signal.SIGINT)
            _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err[-3000:]
    assert "Traceback" not in err and "Aborted!" not in err, err[-3000:]
