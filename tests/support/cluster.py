"""A real redis-server, real `newswatch worker` processes and a local multi-host site for
the cluster tests (free ports, everything in tmp_path: xdist-safe)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.httpserver import LocalServer, Reply

REPO = Path(__file__).resolve().parents[2]
HOSTS = 4  # 127.0.0.2 .. 127.0.0.5
FULL_TEXT = {3, 5}  # these hosts' feeds are followed to their article pages


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server of our own on a free port in ``folder``, without persistence."""

    def __init__(self, folder: Path):
        self.exe = shutil.which("redis-server")
        self.folder = folder
        self.port = 0
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        import redis

        for _ in range(5):
            self.port = self.port or _free_port()
            self.proc = subprocess.Popen(
                [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(self.folder)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            client = redis.Redis(port=self.port)
            for _ in range(200):
                try:
                    client.ping()
                    return self
                except redis.ConnectionError:
                    if self.proc.poll() is not None:
                        break
                    time.sleep(0.05)
            self.stop()
            self.port = 0  # the port was taken meanwhile: another one
        pytest.fail("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def redis_server(tmp_path):
    """A running :class:`RedisServer` (``stop()``/``start()`` restart it on its port)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (make redis)")
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    """The URL of :func:`redis_server`."""
    return redis_server.url


def feed(host: int, n: int, port: int, full_text: bool) -> str:
    items = "".join(
        f"<item><title>Host {host} story {i}</title>"
        f"<link>http://127.0.0.{host}:{port}/a/{i}</link><guid>h{host}-{i}</guid>"
        f"<description>Report {i} from host {host} about the harbour and the fleet."
        "</description></item>"
        for i in range(n)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>H{host}</title>{items}</channel></rss>'


def article(host: int, i: int) -> str:
    body = "".join(
        f"<p>Paragraph {k} of story {i} on host {host}: the council met on Tuesday to discuss"
        f" the budget for the harbour, the schools and the roads of district {k}.</p>"
        for k in range(6)
    )
    return (
        f"<html><head><title>Host {host} story {i}</title></head><body><article>"
        f"<h1>Host {host} story {i}</h1>{body}</article></body></html>"
    )


@pytest.fixture
def site():
    """One server per loopback address 127.0.0.2-5, each with a feed of 5 items; two are
    full-text sources whose article pages answer after 0.4 s. ``site.expected`` is the set
    of article URLs a full crawl stores."""
    port = _free_port()
    servers, expected = [], set()
    for host in range(2, 2 + HOSTS):
        server = LocalServer(host=f"127.0.0.{host}", port=port).start()
        full = host in FULL_TEXT
        server.add("/feed.xml", body=feed(host, 5, port, full), content_type="application/rss+xml")
        for i in range(5):
            server.add(f"/a/{i}", Reply(body=article(host, i), content_type="text/html", delay=0.4))
            expected.add(f"http://127.0.0.{host}:{port}/a/{i}")
        servers.append(server)

    class Site:
        pass

    s = Site()
    s.port, s.servers, s.expected = port, servers, expected
    yield s
    for server in servers:
        server.stop()


CONFIG = """
[archive]
path = "{archive}"
[crawl]
allow_private_addresses = true
obey_robots = false
autothrottle = false
retries = 0
download_timeout = "20s"
crawl_timeout = "30s"
[cluster]
broker = "{broker}"
batch = 1
task_timeout = "25s"
visibility_timeout = "30s"
worker_concurrency = 1
"""


@pytest.fixture
def cluster_config(tmp_path, redis_url, site):
    """A config with [cluster] on our Redis and one source per host of ``site``."""
    text = CONFIG.replace("{archive}", str(tmp_path / "archive.db")).replace("{broker}", redis_url)
    for host in range(2, 2 + HOSTS):
        text += (
            f'[[sources]]\nname = "host{host}"\nkind = "feed"\n'
            f'url = "http://127.0.0.{host}:{site.port}/feed.xml"\n'
            f"full_text = {'true' if host in FULL_TEXT else 'false'}\n"
        )
    path = tmp_path / "newswatch.toml"
    path.write_text(text)
    return path


def newswatch(config: Path, *args: str, **kw) -> subprocess.Popen:
    """A `newswatch` process in its own process group (so kill -9 takes its crawl too)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, str(REPO / "scheduler.py"), "--config", str(config), *args],
        cwd=REPO, env=env, start_new_session=True, **kw,
    )  # fmt: skip


@pytest.fixture
def workers(cluster_config, tmp_path):
    """Start `newswatch worker` processes: ``workers.start()`` returns one; all are killed
    at the end."""
    procs = []

    class Workers:
        def start(self, *args: str) -> subprocess.Popen:
            log = open(tmp_path / f"worker{len(procs)}.log", "wb")  # noqa: SIM115
            p = newswatch(cluster_config, "worker", *args, stdout=log, stderr=subprocess.STDOUT)
            procs.append(p)
            return p

    w = Workers()
    w.procs = procs
    yield w
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(10)


def children(pid: int) -> list[tuple[int, bytes]]:
    """(pid, command line) of the processes whose parent is ``pid``."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append((int(entry.name), cmdline))
    return out


def crawl_children(pid: int) -> list[int]:
    """Process ids of the crawl processes a worker runs now (its fork server's children)."""
    servers = [p for p, cmd in children(pid) if b"multiprocessing.forkserver" in cmd]
    return [p for server in servers for p, _ in children(server)]
