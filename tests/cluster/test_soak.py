"""A short soak of a cluster worker: task after task, its open files and memory stay flat,
and its fork server's (each crawl runs in a process of its own, forked from the fork
server, so no reactor is ever restarted). The long soak is
``python bench/bench_scale.py --sizes '' --workers 1 --soak 1000``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from support.cluster import HOSTS, children, crawl_children

pytestmark = pytest.mark.slow


def fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_a_worker_runs_task_after_task_with_flat_files_and_memory(cluster_config, site, workers):
    from crawler.cluster.dispatch import crawl_sources_cluster
    from scheduler import load_config

    cfg = load_config(cluster_config)
    worker = workers.start("--concurrency", "2")

    def cycle() -> list:
        return asyncio.run(
            crawl_sources_cluster(cfg.cluster, cfg.crawl, cfg.sources, cfg.archive.path)
        )

    results = cycle()  # warm-up: the first tasks load what the worker keeps
    assert {r.status for r in results} == {"ok"}
    assert not crawl_children(worker.pid)
    (server,) = [p for p, cmd in children(worker.pid) if b"multiprocessing.forkserver" in cmd]
    files, memory = fds(worker.pid), rss_kb(worker.pid)
    server_files, server_memory = fds(server), rss_kb(server)
    for _ in range(3):  # 12 more tasks
        results = cycle()
        assert len(results) == HOSTS
        assert {r.status for r in results} <= {"ok", "not_modified"}
    assert worker.poll() is None
    assert fds(worker.pid) <= files + 2
    assert rss_kb(worker.pid) - memory < 20_000
    assert fds(server) <= server_files
    assert rss_kb(server) - server_memory < 5_000
    assert not crawl_children(worker.pid)  # every crawl process ended
