"""A store refused because another process held the archive's write lock (a long
`newswatch dedupe --rebuild`) is not the source's failure: the source is tried again within
minutes (not after its interval), its consecutive_failures stand (no source-health alert for
a healthy source), and `status` names the class with a hint. Real archive file, a real second
connection holding BEGIN IMMEDIATE, the real ArchivePipeline, tracker and schedule."""

from __future__ import annotations

import sqlite3

from scrapy.utils.test import get_crawler

from crawler import archive, schedule, times
from crawler.advice import all_failed_alike
from crawler.config import CrawlSettings, Source
from crawler.crawl_context import CrawlContext
from crawler.fetch_outcomes import CrawlTracker, SourceResult, record_results
from crawler.pipelines import ArchivePipeline
from crawler.stories import StoryAssigner


def _item(n: int) -> dict:
    return {
        "url": f"https://slow.example/{n}",
        "guid": None,
        "title": f"Harbour council report {n}",
        "text": f"The harbour council met on day {n} and voted on the ferry timetable.",
        "summary": None,
        "author": None,
        "language": "en",
        "categories": [],
        "published_at": None,
        "updated_at": None,
    }


def test_a_store_refused_by_a_locked_archive_is_retried_soon_and_not_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "BUSY_TIMEOUT_MS", 200)  # the lock outlasts it at once
    path = tmp_path / "archive.db"
    db = archive.open_archive(path)
    crawl = CrawlSettings(schedule_jitter=0)
    sources = [
        Source(name=n, kind="feed", url=f"https://{n}.example/feed", interval="6h")
        for n in ("slow", "other")
    ]
    with archive.write(db):  # two earlier attempts: a success, then one timeout for "other"
        record_results(
            db,
            sources,
            [SourceResult("slow", status="ok"), SourceResult("other", status="ok")],
            times.utcnow(),
        )
        record_results(
            db,
            sources[1:],
            [SourceResult("other", status="timeout", error_class="timeout")],
            times.utcnow(),
        )
    before = dict(db.execute("SELECT name, consecutive_failures FROM sources").fetchall())
    assert before == {"slow": 0, "other": 1}

    tracker = CrawlTracker(["slow", "other"], {})
    for n in ("slow", "other"):
        tracker.result(n).status = "ok"  # both feeds were read
        tracker.result(n).etag = '"v2"'
    pipeline = ArchivePipeline(
        CrawlContext(db, tracker, StoryAssigner(db), None), get_crawler().stats
    )
    pipeline.buffers["slow"].extend(_item(n) for n in range(3))
    pipeline.buffers["other"].append(_item(9))
    holder = sqlite3.connect(path, timeout=0, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # `dedupe --rebuild` in another process
    try:
        pipeline.flush()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    results = [tracker.result(n) for n in ("slow", "other")]
    assert [(r.status, r.error_class) for r in results] == [("error", "archive_busy")] * 2
    assert "busy" in results[0].error and "read again" in results[0].error
    hint = all_failed_alike(results)
    assert "archive_busy" in hint and "lock" in hint

    with archive.write(db):
        record_results(db, sources, results, times.utcnow())
    rows = {
        r[0]: r[1:]
        for r in db.execute(
            "SELECT name, consecutive_failures, last_error_class, etag FROM sources"
        )
    }
    # not counted as the sources' failures; the validators of unstored items are not saved
    assert rows == {"slow": (0, "archive_busy", None), "other": (1, "archive_busy", None)}
    last = schedule.last_attempts(db)
    for s in sources:
        due = schedule.due_at(s, crawl, last[s.name].finished, last[s.name])
        wait = due - last[s.name].finished
        assert wait <= 5 * crawl.failure_retry < s.effective_interval(crawl), (s.name, wait)
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 0
    db.close()
