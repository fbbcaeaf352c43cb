"""The crawl of one cluster task, in a process of its own: ``python -m
crawler.cluster.crawl_job JOB.json RESULT.json``.

A Twisted reactor cannot be restarted in one process, and a Celery worker runs thousands
of tasks; so each task's crawl runs here, in a fresh process that exits after it (pattern
B of docs/architecture.md; a hung crawl is killed outright). The worker forks these
processes from a fork server that has imported Scrapy, Twisted, feedparser and trafilatura
once (:func:`run_in_child`), so a task does not pay the second of imports a fresh
interpreter would; ``python -m crawler.cluster.crawl_job`` runs one by hand. The crawl is the ordinary one, into a
scratch archive seeded with what the daemon sent (validators, robots.txt files, the
articles each source has); the items it stored there are what goes back.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
from pathlib import Path

from crawler import archive
from crawler.cluster.jobs import item_from_row
from crawler.config import CrawlSettings, Source

SEEDED = "seeded"  # matched_at of the seeded articles: a crawl that updates one clears it


def seed(db, job: dict) -> None:
    """Put what the daemon knows of the job's sources into the scratch archive."""
    with archive.write(db):
        for s in job["sources"]:
            st = job["state"].get(s["name"], {})
            db.execute(
                "INSERT INTO sources (name, kind, url, etag, last_modified, body_hash)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [s["name"], s["kind"], s["url"], st.get("etag"), st.get("last_modified"),
                 st.get("body_hash")],
            )  # fmt: skip
            for a in job["known"].get(s["name"], []):
                db.execute(
                    "INSERT OR IGNORE INTO articles (url, guid, source, fetched_at, updated_at,"
                    " fingerprint, content_hash, matched_at, entry_hash, entry_updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [a["url"], a["guid"], s["name"], a["fetched_at"], a["updated_at"],
                     a["fingerprint"], a["content_hash"], SEEDED, a.get("entry_hash"),
                     a.get("entry_updated_at")],
                )  # fmt: skip
        for r in job["robots"]:
            db.execute(
                "INSERT OR REPLACE INTO robots (netloc, status, body, fetched_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [r["netloc"], r["status"], r["body"].encode("latin-1"), r["fetched_at"],
                 r["expires_at"]],
            )  # fmt: skip


def collect(db, job: dict, results: list) -> dict:
    """What the crawl stored in the scratch archive, as the task's answer."""
    items: dict[str, list[dict]] = {}
    for row in db.query("SELECT * FROM articles WHERE matched_at IS NULL ORDER BY id"):
        items.setdefault(row["source"], []).append(item_from_row(row))
    # Known articles whose feed entry now says something else but whose text did not
    # change: the daemon keeps the new entry, or the next task fetches the page again.
    sent = {
        (name, a["url"]): (a.get("entry_hash"), a.get("entry_updated_at"))
        for name, known in job["known"].items()
        for a in known
    }
    entries: dict[str, list[dict]] = {}
    for row in db.query(
        "SELECT source, url, entry_hash, entry_updated_at FROM articles WHERE matched_at = ?",
        [SEEDED],
    ):
        now = (row["entry_hash"], row["entry_updated_at"])
        if row["entry_hash"] is not None and sent.get((row["source"], row["url"])) != now:
            entries.setdefault(row["source"], []).append(
                {"url": row["url"], "entry_hash": now[0], "entry_updated_at": now[1]}
            )
    seeded = {r["netloc"]: r["fetched_at"] for r in job["robots"]}
    robots = [
        {**r, "body": bytes(r["body"] or b"").decode("latin-1")}
        for r in db.query("SELECT netloc, status, body, fetched_at, expires_at FROM robots")
        if seeded.get(r["netloc"]) != r["fetched_at"]
    ]
    return {
        "results": [dataclasses.asdict(r) for r in results],
        "items": items,
        "entries": entries,
        "robots": robots,
    }


class ScratchStories:
    """The story assigner of a worker's scratch archive: it assigns no stories (the daemon,
    the only archive writer, assigns them again anyway) and keeps no versions; it only
    marks a known article whose words changed, so the answer carries it as an update."""

    def __init__(self, db):
        self.db = db

    def ended(self, committed: bool) -> None:
        """The writer's transaction ended: nothing is kept across crawls here."""

    def assign(self, article_id: int) -> None:
        """A new article: nothing to do here (its fingerprint is its content hash)."""
        self.db.execute("UPDATE articles SET fingerprint = content_hash WHERE id = ?", [article_id])

    def record_update(
        self, article_id: int, *, title: str | None, text: str | None, content_hash: str
    ) -> bool:
        """Store the new words of a known article and clear ``matched_at`` (so it goes
        back to the daemon); False when its content hash did not change."""
        row = self.db.execute(
            "SELECT content_hash FROM articles WHERE id = ?", [article_id]
        ).fetchone()
        if row is None or row[0] == content_hash:
            return False
        self.db.execute(
            "UPDATE articles SET title = ?, text = ?, content_hash = ?, fingerprint = ?,"
            " matched_at = NULL WHERE id = ?",
            [title, text, content_hash, content_hash, article_id],
        )
        return True


def run_job(job: dict, workdir: str) -> dict:
    """Crawl the job's sources into a scratch archive in ``workdir``; return the answer."""
    from crawler.runner import crawl_sources, install_asyncio_reactor
    from crawler.workers import ParseWorkers

    path = str(Path(workdir) / "scratch.db")
    db = archive.open_archive(path)
    seed(db, job)
    db.close()
    crawl = CrawlSettings(**job["crawl"])
    sources = [Source(**s) for s in job["sources"]]

    install_asyncio_reactor()
    from scrapy.utils.defer import deferred_from_coro
    from twisted.internet import reactor

    out: dict = {}

    async def main() -> None:
        # This process is the isolation: parse in place, no pool of its own.
        workers = ParseWorkers(1, min_bytes=1 << 62)
        # Stories are the daemon's: assigning them here cost about a sixth of a task's CPU.
        out["results"] = await crawl_sources(
            crawl, sources, path, workers=workers, make_assigner=ScratchStories
        )

    def finished(result):
        out["failure"] = result if hasattr(result, "raiseException") else None
        reactor.stop()

    reactor.callWhenRunning(lambda: deferred_from_coro(main()).addBoth(finished))
    reactor.run(installSignalHandlers=False)
    if out.get("failure") is not None:
        out["failure"].raiseException()
    db = archive.open_archive(path)
    try:
        return collect(db, job, out["results"])
    finally:
        db.close()


def main(argv: list[str]) -> int:
    """Read the job file, crawl, write the answer file; exit 0 (a failure: traceback, 1)."""
    job = json.loads(Path(argv[1]).read_text())
    with tempfile.TemporaryDirectory(prefix="newswatch-job-") as workdir:
        answer = run_job(job, workdir)
    tmp = Path(argv[2] + ".tmp")
    tmp.write_text(json.dumps(answer, ensure_ascii=False))
    tmp.replace(argv[2])
    return 0


def run_in_child(folder: str) -> None:
    """The body of a task's crawl process, forked by the worker's fork server (modules
    imported, no reactor yet): crawl ``folder``/job.json into ``folder``/answer.json, with
    this process's output in ``folder``/crawl.log; exit 0, or 1 after a traceback."""
    import logging
    import os
    import traceback

    os.chdir(folder)
    log = os.open(os.path.join(folder, "crawl.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(log, 1)
    os.dup2(log, 2)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, force=True)
    code = 1
    try:
        code = main(["", os.path.join(folder, "job.json"), os.path.join(folder, "answer.json")])
    except BaseException:
        traceback.print_exc()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # Scrapy and Twisted loaded: skip the slow teardown


if __name__ == "__main__":
    import logging
    import os

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    code = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # Scrapy and Twisted loaded: skip the slow teardown
