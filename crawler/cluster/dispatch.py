"""The daemon's side of the cluster: send the due sources as tasks, receive the answers,
store them (the daemon is the only archive writer) and record each source's outcome.

:func:`crawl_sources_cluster` is a drop-in for :func:`crawler.runner.crawl_sources`: it
takes and returns the same things, so the daemon's cycle (match, deliver, planning) does
not know where the crawl ran.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from crawler import archive, times
from crawler.cluster.jobs import build_job, failed, refusal, store_result, version
from crawler.config import ClusterSettings, CrawlSettings, DedupeSettings, Source
from crawler.fetch_outcomes import SourceResult, record_results

if TYPE_CHECKING:
    from crawler.neardup import NearDuplicateIndex

logger = logging.getLogger(__name__)

POLL_S = 0.5  # how often the daemon asks Redis which tasks are done
BROKER_RETRY_S = 5.0  # after a broker error, try again after this long


async def crawl_sources_cluster(
    cluster: ClusterSettings,
    settings: CrawlSettings,
    sources: list[Source],
    archive_path: str,
    *,
    progress: Any = None,
    stop: asyncio.Event | None = None,
    dedupe: DedupeSettings | None = None,
    index: NearDuplicateIndex | None = None,
    **_: Any,
) -> list[SourceResult]:
    """Crawl these sources on the cluster's workers; store what they read; record each
    source's health. Returns one result per source, in order. Sources whose task did not
    come back within ``visibility_timeout`` plus ``task_timeout`` are recorded as
    ``timeout``; a stop (shutdown) leaves the queued tasks to be answered to nobody, and
    the sources are recorded as ``interrupted``."""
    from crawler.cluster.app import TASK, VERSION_KEY, make_app, redis_client
    from crawler.stories import StoryAssigner

    app = make_app(cluster)
    db = archive.open_archive(archive_path)
    started_at = times.utcnow()
    by_name: dict[str, SourceResult] = {}
    assigner = None
    try:
        pending: dict[str, tuple[Any, list[Source]]] = {}
        await asyncio.to_thread(redis_client(cluster).set, VERSION_KEY, version())
        for i in range(0, len(sources), cluster.batch):
            batch = sources[i : i + cluster.batch]
            job = build_job(db, settings, batch)
            res = await asyncio.to_thread(
                app.send_task, TASK, args=[job], queue=cluster.queue,
                headers={"newswatch_version": version()},
            )  # fmt: skip
            pending[res.id] = (res, batch)
        loop = asyncio.get_running_loop()
        limit = (cluster.visibility_timeout + cluster.task_timeout).total_seconds() + 60
        deadline = loop.time() + limit
        while pending and not (stop and stop.is_set()) and loop.time() < deadline:
            try:
                ready = await asyncio.to_thread(_ready, pending)
            except Exception as e:  # the broker is down or restarting: keep waiting
                logger.warning("cluster: cannot reach the result store (%s); retrying", e)
                await _sleep(stop, BROKER_RETRY_S)
                continue
            for task_id, payload in ready:
                _, batch = pending.pop(task_id)
                why = refusal(payload)
                if why:
                    logger.error("cluster: %s", why[1])
                    results = failed(batch, *why)
                else:
                    if assigner is None:
                        assigner = StoryAssigner(db, dedupe, index=index)
                    with archive.write(db):
                        results = store_result(db, batch, payload, assigner)
                    assigner.ended(committed=True)  # its stories count as this process's
                for r in results:
                    by_name[r.name] = r
                    if progress:
                        progress(r, len(by_name), len(sources))
            if pending:
                await _sleep(stop, POLL_S)
        interrupted = stop is not None and stop.is_set()
        for _, batch in pending.values():
            for s in batch:
                if interrupted:
                    r = SourceResult(s.name, status="interrupted", error_class="interrupted")
                    r.error = "the daemon stopped before a worker answered"
                else:
                    r = failed([s], "timeout", "no worker answered in time")[0]
                by_name[s.name] = r
        results = [by_name[s.name] for s in sources]
        with archive.write(db):
            record_results(db, sources, results, started_at)
        return results
    finally:
        db.close()


def _ready(pending: dict[str, tuple[Any, list[Source]]]) -> list[tuple[str, Any]]:
    """The tasks that are done, with their answers (a failed task's answer: its error)."""
    out = []
    for task_id, (res, _) in pending.items():
        state = res.state
        if state in ("SUCCESS", "FAILURE"):
            value = res.get(propagate=False, disable_sync_subtasks=False)
            res.forget()
            out.append((task_id, value if state == "SUCCESS" else {"failure": repr(value)}))
    return out


async def _sleep(stop: asyncio.Event | None, seconds: float) -> None:
    if stop is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
