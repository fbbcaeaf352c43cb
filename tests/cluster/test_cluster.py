"""Distributed collection (issue 19): a real redis-server, real `newswatch worker`
processes, `newswatch run --once` as the daemon, a local site on four loopback hosts.

Two workers storing every item once and the version checks run in `make test`; the fault
tests (kill -9, the broker restarted) and the status test take longer and are marked slow."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import redis
import sqlite_utils
from support.cluster import crawl_children, newswatch


def stored(config_dir) -> list[str]:
    db = sqlite_utils.Database(config_dir / "archive.db")
    return [r["url"] for r in db.query("SELECT url FROM articles")]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def test_two_workers_store_every_item_once(cluster_config, site, workers, tmp_path):
    workers.start()
    workers.start()
    daemon = newswatch(cluster_config, "run", "--once", stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)  # fmt: skip
    out, _ = daemon.communicate(timeout=240)
    assert daemon.returncode == 0, out.decode()
    urls = stored(tmp_path)
    assert sorted(urls) == sorted(site.expected)
    db = sqlite_utils.Database(tmp_path / "archive.db")
    health = {r["name"]: r for r in db.query("SELECT * FROM sources")}
    assert {r["consecutive_failures"] for r in health.values()} == {0}
    assert all(r["items_new"] == 5 for r in health.values())
    # a second cycle: every item is known, nothing is stored twice
    daemon = newswatch(cluster_config, "run", "--once", stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)  # fmt: skip
    out, _ = daemon.communicate(timeout=240)
    assert daemon.returncode == 0, out.decode()
    assert sorted(stored(tmp_path)) == sorted(site.expected)


@pytest.mark.slow
def test_worker_killed_mid_crawl_loses_and_duplicates_nothing(
    cluster_config, site, workers, tmp_path
):
    # the dead worker's task comes back after visibility_timeout: keep the wait short
    text = cluster_config.read_text()
    text = text.replace('task_timeout = "25s"', 'task_timeout = "15s"')
    cluster_config.write_text(
        text.replace('visibility_timeout = "30s"', 'visibility_timeout = "18s"')
    )
    pair = [workers.start(), workers.start()]
    daemon = newswatch(cluster_config, "run", "--once", stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)  # fmt: skip
    busy = wait_for(
        lambda: next((w for w in pair if crawl_children(w.pid)), None),
        120,
        "a worker to start a crawl",
    )
    os.killpg(busy.pid, signal.SIGKILL)  # the worker and its crawl process
    busy.wait(10)
    # the task the dead worker held goes back to the queue after visibility_timeout and
    # the other worker crawls it
    out, _ = daemon.communicate(timeout=300)
    assert daemon.returncode == 0, out.decode()
    urls = stored(tmp_path)
    assert len(urls) == len(set(urls))
    assert sorted(urls) == sorted(site.expected)
    db = sqlite_utils.Database(tmp_path / "archive.db")
    fetches = {r["source"]: r for r in db.query(
        "SELECT source, count(*) AS n, sum(items_new) AS new FROM fetches GROUP BY source"
    )}  # fmt: skip
    assert {r["n"] for r in fetches.values()} == {1}  # each source recorded once
    assert sum(r["new"] for r in fetches.values()) == len(site.expected)


def test_a_worker_on_another_version_is_refused(cluster_config, redis_url, tmp_path):
    redis.Redis.from_url(redis_url).set("newswatch:version", "0.0.1/0")
    proc = newswatch(cluster_config, "worker", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert b"refusing to start" in err and b"0.0.1/0" in err


def test_a_task_from_another_version_is_refused(cluster_config):
    from crawler.cluster.app import make_app
    from crawler.cluster.jobs import refusal
    from scheduler import load_config

    cfg = load_config(cluster_config)
    task = make_app(cfg.cluster).tasks["newswatch.crawl"]
    answer = task.run({"version": "0.0.1/0", "sources": []})
    error_class, message = refusal(answer)
    assert error_class == "worker_version"
    assert "0.0.1/0" in message
    # and the daemon refuses an answer from a worker on another version
    error_class, message = refusal({"results": [], "worker": {"version": "9.9/9"}})
    assert error_class == "worker_version" and "9.9/9" in message


@pytest.mark.slow
def test_daemon_and_workers_carry_on_after_the_broker_restarts(
    cluster_config, site, workers, redis_server, tmp_path
):
    from support.cluster import feed

    workers.start()
    daemon = newswatch(cluster_config, "run", "--once", stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)  # fmt: skip
    out, _ = daemon.communicate(timeout=240)
    assert daemon.returncode == 0, out.decode()
    redis_server.stop()
    redis_server.start()  # same port, empty: the worker must reconnect by itself
    site.servers[0].add(
        "/feed.xml", body=feed(2, 6, site.port, False), content_type="application/rss+xml"
    )
    daemon = newswatch(cluster_config, "run", "--once", stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)  # fmt: skip
    out, _ = daemon.communicate(timeout=240)
    assert daemon.returncode == 0, out.decode()
    urls = stored(tmp_path)
    logs = "\n".join(p.read_text()[-3000:] for p in sorted(tmp_path.glob("worker*.log")))
    assert sorted(urls) == sorted(site.expected | {f"http://127.0.0.2:{site.port}/a/5"}), (
        out.decode()[-3000:] + logs
    )


@pytest.mark.slow
def test_status_shows_the_workers_and_the_queue(cluster_config, workers):
    import json

    from alerts.schema import open_archive
    from crawler.cluster.app import TASK, make_app
    from scheduler import load_config

    def cluster_status() -> dict:
        proc = newswatch(cluster_config, "status", "--json", stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)  # fmt: skip
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
        rows = [json.loads(line) for line in out.splitlines()]
        (cluster,) = [r for r in rows if r["section"] == "cluster"]
        assert cluster["problem"] is None, cluster
        return cluster

    from crawler.cluster.status import cluster_status as ask

    cfg = load_config(cluster_config)
    open_archive(cfg.archive.path).close()  # status reads an archive; a daemon makes it
    make_app(cfg.cluster).send_task(TASK, args=[{"version": "0.0.1/0", "sources": []}])
    state = cluster_status()
    assert state["waiting"] == 1 and state["workers"] == []
    workers.start()
    workers.start()
    # both answer a ping (asked in this process: a `newswatch status` per poll costs seconds)
    wait_for(lambda: len(ask(cfg.cluster)["workers"]) == 2, 120, "two workers")
    state = cluster_status()
    assert {w["pid"] for w in state["workers"]} == {p.pid for p in workers.procs}
