"""The Celery side of the cluster: the app built from ``[cluster]``, the crawl task, the
per-source locks and the version check.

The task is acknowledged late (``acks_late``, ``reject_on_worker_lost``): a worker that
dies mid-task leaves its message unacknowledged and Redis gives it to another worker after
``visibility_timeout``; what the first one read never reached the archive, and what the
second one reads is stored once (the archive is idempotent by URL and GUID). A Redis lock
per source, which expires, keeps two workers from crawling one source at once (a task whose
sources are locked is retried later). The crawl runs in a fresh process per task
(``crawler.cluster.crawl_job``), forked from a fork server that imported the crawl's
modules once, so the worker process itself never starts a reactor and runs on Celery's
thread pool.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
import uuid
from functools import cache
from pathlib import Path

from celery import Celery

from crawler.cluster.jobs import version
from crawler.config import ClusterSettings

logger = logging.getLogger(__name__)

TASK = "newswatch.crawl"
VERSION_KEY = "newswatch:version"  # the daemon's version, read by a starting worker
LOCK_PREFIX = "newswatch:lock:"
LOCK_RETRY_S = 5  # a task whose sources are being crawled elsewhere tries again after this


class SourceLocks:
    """One Redis lock per source (``SET NX PX``), all or none, released only by its owner."""

    def __init__(self, client, names: list[str], ttl_s: float):
        self.client = client
        self.keys = [LOCK_PREFIX + n for n in names]
        self.ttl_ms = int(ttl_s * 1000)
        self.token = uuid.uuid4().hex
        self.held: list[str] = []

    def acquire(self) -> bool:
        """Take every lock, or none (and say False)."""
        for key in self.keys:
            if not self.client.set(key, self.token, nx=True, px=self.ttl_ms):
                self.release()
                return False
            self.held.append(key)
        return True

    def release(self) -> None:
        """Drop the locks this holder still owns (an expired one taken by another is kept)."""
        script = (
            "for i = 1, #KEYS do if redis.call('get', KEYS[i]) == ARGV[1] then"
            " redis.call('del', KEYS[i]) end end return 1"
        )
        if self.held:
            self.client.eval(script, len(self.held), *self.held, self.token)
        self.held = []


@cache
def make_app(cluster: ClusterSettings) -> Celery:
    """The Celery app for this ``[cluster]`` section (one per section and process)."""
    app = Celery("newswatch", broker=cluster.broker, backend=cluster.broker)
    visibility = cluster.visibility_timeout.total_seconds()
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a worker takes one more task than it runs, no more
        task_default_queue=cluster.queue,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_compression="gzip",
        result_compression="gzip",
        result_expires=24 * 3600,
        broker_transport_options={
            "visibility_timeout": visibility,
            # Look for the tasks of vanished workers every tenth of the timeout (kombu's
            # default scans every 100 s whatever the timeout).
            "unacked_restore_interval": max(1, min(60, int(visibility / 10))),
            "unacked_restore_throttle": 1,
        },
        result_backend_transport_options={"visibility_timeout": visibility},
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a restarted broker: keep trying
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    timeout = cluster.task_timeout.total_seconds()

    @app.task(name=TASK, bind=True, acks_late=True, reject_on_worker_lost=True)
    def crawl(self, job: dict) -> dict:
        mine = version()
        if job.get("version") != mine:
            message = (
                f"refused: this worker runs newswatch {mine}, the daemon {job.get('version')};"
                " install the same version on every machine"
            )
            logger.error("task %s %s", self.request.id, message)
            return {"refused": message, "worker": worker_identity()}
        names = [s["name"] for s in job["sources"]]
        locks = SourceLocks(self.app.backend.client, names, ttl_s=timeout + 5)
        if not locks.acquire():
            logger.info("sources %s are being crawled elsewhere: retrying later", names)
            raise self.retry(countdown=LOCK_RETRY_S, max_retries=None)
        try:
            answer = run_crawl_process(job, timeout)
        finally:
            locks.release()
        answer["worker"] = worker_identity()
        return answer

    return app


def worker_identity() -> dict:
    """Who answered: version, host and process (shown by ``newswatch worker --status``)."""
    return {"version": version(), "host": socket.gethostname(), "pid": os.getpid()}


# What the fork server imports once: every crawl process it forks has them (and no reactor).
PRELOAD = [
    "__main__",  # else each forked process would run the worker's main script again
    "crawler.cluster.crawl_job",
    "crawler.runner",
    "crawler.pipelines",
    "crawler.spiders.feed",
    "crawler.spiders.listing",
    "crawler.spiders.sitemap",
    "crawler.extract",
    "crawler.feeds",
    "scrapy.crawler",
]


@cache
def crawl_processes():
    """The multiprocessing context whose fork server forks the crawl processes."""
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def run_crawl_process(job: dict, timeout: float) -> dict:
    """Run the job's crawl in a fresh process; its answer, or every source failed."""
    from crawler.cluster.crawl_job import run_in_child

    with tempfile.TemporaryDirectory(prefix="newswatch-task-") as tmp:
        answer_file = Path(tmp, "answer.json")
        Path(tmp, "job.json").write_text(json.dumps(job, ensure_ascii=False))
        proc = crawl_processes().Process(target=run_in_child, args=(tmp,), daemon=False)
        proc.start()
        proc.join(timeout)
        if proc.is_alive():
            proc.kill()
            proc.join()
            return _failed_answer(job, "timeout", f"the task's crawl ran past {timeout:.0f} s")
        code = proc.exitcode
        proc.close()
        if code != 0 or not answer_file.exists():
            log = Path(tmp, "crawl.log")
            text = log.read_text("utf-8", "replace") if log.exists() else ""
            tail = text.strip().splitlines()[-3:]
            message = f"the crawl process exited {code}: {' | '.join(tail)}"
            logger.error("%s", message)
            return _failed_answer(job, "worker_error", message)
        return json.loads(answer_file.read_text())


def _failed_answer(job: dict, error_class: str, message: str) -> dict:
    results = [
        {"name": s["name"], "status": "error", "error_class": error_class, "error": message[:500]}
        for s in job["sources"]
    ]
    return {"results": results, "items": {}, "robots": []}


def redis_client(cluster: ClusterSettings):
    """A Redis client on the broker (for the version key, the queue depth, the locks)."""
    import redis

    return redis.Redis.from_url(cluster.broker, socket_timeout=5, socket_connect_timeout=5)


def queue_depth(cluster: ClusterSettings) -> int:
    """Tasks waiting in the queue (not those a worker holds)."""
    return int(redis_client(cluster).llen(cluster.queue))


def check_daemon_version(cluster: ClusterSettings) -> str | None:
    """Why this worker must not start (the daemon runs another version), or None."""
    theirs = redis_client(cluster).get(VERSION_KEY)
    if theirs is not None and theirs.decode() != version():
        return (
            f"the daemon using {cluster.queue!r} runs newswatch {theirs.decode()}, this worker"
            f" {version()}: install the same version on every machine"
        )
    return None
