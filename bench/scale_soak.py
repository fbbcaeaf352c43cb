"""The worker soak of bench_scale.py (``--soak K``): K one-source tasks through one
`newswatch worker`; its open files and resident memory, and its fork server's, every tenth
of the way (each task's crawl is a process forked from the fork server, so neither should
grow)."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from scale_web import Web

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]


def _proc_usage(pid: int) -> tuple[int, int]:
    """Open files and resident KB of one process."""
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    rss = next(
        int(x.split()[1])
        for x in Path(f"/proc/{pid}/status").read_text().splitlines()
        if x.startswith("VmRSS:")
    )
    return fds, rss


def _cpu_s(pid: int) -> float:
    """CPU seconds of a process and of its children it has reaped."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _fork_server(pid: int) -> int | None:
    """The worker's fork server (the parent of its crawl processes), once it runs."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"forkserver" in cmd:
                return int(entry.name)
    return None


def soak(tasks: int, corpora, concurrency: int, helpers) -> None:
    """K tasks of one source each through one worker: its open files and memory, and its
    fork server's, every tenth of the way."""
    Cluster, write_config = helpers
    from crawler.cluster.dispatch import crawl_sources_cluster
    from scheduler import load_config

    web = Web(10, 0.2, *corpora)
    with tempfile.TemporaryDirectory(prefix="bench-scale-soak-") as tmp:
        folder = Path(tmp)
        cluster = Cluster(folder)
        config = write_config(folder, web, cluster.broker, batch=1)  # a task per source
        cfg = load_config(config)
        cluster.start_workers(config, 1, "--concurrency", str(concurrency))
        pid = cluster.workers[0].pid
        done, step, statuses = 0, max(1, tasks // 10), {}
        print(f"\nsoak: {tasks} tasks of one source through one worker (pid {pid}),"
              f" {concurrency} crawls at once; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        started = time.perf_counter()
        try:
            while done < tasks:
                web.next_cycle()
                results = asyncio.run(
                    crawl_sources_cluster(cfg.cluster, cfg.crawl, cfg.sources, cfg.archive.path)
                )
                for r in results:
                    statuses[r.status] = statuses.get(r.status, 0) + 1
                done += len(cfg.sources)
                if done % step < len(cfg.sources) or done >= tasks:
                    server = _fork_server(pid)
                    fds, rss = _proc_usage(pid)
                    line = f"  after {done:5d} tasks ({time.perf_counter() - started:5.0f} s):"
                    line += f" worker: open files {fds}, RSS {rss / 1024:.0f} MB"
                    if server:
                        sfds, srss = _proc_usage(server)
                        line += f"; fork server: open files {sfds}, RSS {srss / 1024:.0f} MB"
                    print(line, flush=True)
            wall = time.perf_counter() - started
            server = _fork_server(pid)
            cpu = _cpu_s(pid) + (_cpu_s(server) if server else 0.0)
        finally:
            cluster.stop()
        print(
            f"  {done} tasks in {wall:.0f} s ({done / wall:.1f} tasks/s), outcomes {statuses};"
            f" CPU of the worker, its fork server and the crawls {cpu:.0f} s"
            f" ({cpu / max(done, 1) * 1000:.0f} ms a task); load average {os.getloadavg()[0]:.1f}"
        )
