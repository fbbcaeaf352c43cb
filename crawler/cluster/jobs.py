"""What a cluster task carries and returns, and how the daemon stores what comes back.

Pure archive code (no Celery, no Scrapy). The daemon builds a job from its archive: the
sources (a batch), their conditional-GET validators, the robots.txt files it keeps for
their hosts and the articles each source already has (so a worker does not fetch known
article pages again). The worker returns each source's :class:`SourceResult` (with the
new validators), the normalized items it read (new and updated articles), what the feed
entries of known, unchanged articles now say, and the robots.txt files it fetched; the
daemon stores them as a crawl in its own process would (``store_items``, one savepoint
per item, then ``record_results``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import timedelta
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit

from sqlite_utils import Database

from crawler import archive
from crawler.config import CrawlSettings, Source
from crawler.fetch_outcomes import SourceResult
from crawler.normalize import ITEM_KEYS
from crawler.store import StoreResult, store_items

logger = logging.getLogger(__name__)

PROTOCOL = 2  # the job and result layout; a change here makes old workers refuse
KNOWN_PER_SOURCE = 2000  # the newest articles of a source sent with its job


def version() -> str:
    """This installation's newswatch version and job protocol, e.g. ``0.1.0/1``."""
    try:
        v = metadata.version("newswatch")
    except metadata.PackageNotFoundError:  # a source checkout that was never installed
        v = "unknown"
    return f"{v}/{PROTOCOL}"


def plain(model: Any) -> dict:
    """A config model as JSON-safe data its model accepts back (durations as seconds)."""
    out = {}
    for k, v in model.model_dump().items():
        out[k] = v.total_seconds() if isinstance(v, timedelta) else v
    return out


def build_job(db: Database, crawl: CrawlSettings, sources: list[Source]) -> dict:
    """The task for these sources, from what the daemon's archive knows of them."""
    names = [s.name for s in sources]
    marks = ",".join("?" * len(names))
    state = {
        r["name"]: {k: r[k] for k in ("etag", "last_modified", "body_hash")}
        for r in db.query(
            f"SELECT name, etag, last_modified, body_hash FROM sources WHERE name IN ({marks})",
            names,
        )
    }
    known = {
        s.name: list(
            db.query(
                "SELECT url, guid, fetched_at, updated_at, fingerprint, content_hash,"
                " entry_hash, entry_updated_at FROM articles WHERE source = ? ORDER BY id DESC LIMIT ?",
                [s.name, KNOWN_PER_SOURCE],
            )
        )
        for s in sources
    }
    netlocs = sorted({urlsplit(s.url).netloc.lower() for s in sources})
    marks = ",".join("?" * len(netlocs))
    robots = [
        {**r, "body": (bytes(r["body"]) if r["body"] is not None else b"").decode("latin-1")}
        for r in db.query(
            "SELECT netloc, status, body, fetched_at, expires_at FROM robots"
            f" WHERE netloc IN ({marks}) AND expires_at > strftime('%Y-%m-%dT%H:%M:%fZ','now')",
            netlocs,
        )
    ]
    return {
        "version": version(),
        "crawl": plain(crawl),
        "sources": [s.model_dump(mode="json", exclude_none=True) for s in sources],
        "state": state,
        "known": known,
        "robots": robots,
    }


def result_from(data: dict) -> SourceResult:
    """A SourceResult from its JSON form (unknown keys ignored)."""
    names = {f.name for f in dataclasses.fields(SourceResult)}
    return SourceResult(**{k: v for k, v in data.items() if k in names})


def failed(sources: list[Source], error_class: str, message: str) -> list[SourceResult]:
    """The same failure for every source of a task."""
    return [
        SourceResult(s.name, status="error", error_class=error_class, error=message[:500])
        for s in sources
    ]


def refusal(payload: Any) -> tuple[str, str] | None:
    """Why a task's answer cannot be stored here, as (error class, message), or None:
    the task failed, the worker refused it, or it runs another version."""
    if not isinstance(payload, dict):
        return "worker_error", f"the worker answered {type(payload).__name__}, not a result"
    if payload.get("failure"):
        return "worker_error", f"the task failed on the worker: {payload['failure']}"
    if payload.get("refused"):
        return "worker_version", str(payload["refused"])
    theirs = (payload.get("worker") or {}).get("version")
    if theirs != version():
        return "worker_version", (
            f"a worker running newswatch {theirs} answered this daemon's newswatch {version()}:"
            " its result is not stored; install the same version on every machine"
        )
    return None


def store_result(
    db: Database, sources: list[Source], payload: dict, assigner
) -> list[SourceResult]:
    """Store what a worker read for these sources (call inside ``archive.write(db)``);
    returns each source's result, with the counts of what this archive took."""
    out = []
    by_name = {r["name"]: r for r in payload.get("results", [])}
    items = payload.get("items", {})
    for s in sources:
        if s.name not in by_name:
            out.extend(failed([s], "worker_error", "the worker returned no result for it"))
            continue
        r = result_from(by_name[s.name])
        r.items_new = r.items_updated = 0
        total, refused, first = StoreResult(), 0, None
        for item in items.get(s.name, []):
            try:
                with archive.write(db):  # a savepoint: one refused item loses no other
                    one = store_items(db, s.name, [item], assigner)
            except Exception as e:
                refused += 1
                first = first or f"{item.get('url')!r:.100}: {type(e).__name__}: {e}"
                assigner.ended(committed=False)  # its story may be in a kept index only
                continue
            total.new += one.new
            total.updated += one.updated
        r.items_new, r.items_updated = total.new, total.updated
        if refused:
            logger.error("%d items from %s could not be stored: %s", refused, s.name, first)
            r.items_bad += refused
            r.incomplete = True
            if r.status != "error":
                r.status, r.error_class = "partial", r.error_class or "store_error"
                r.error = f"{refused} items could not be stored, the first {first}"[:500]
        keep_entries(db, s.name, payload.get("entries", {}).get(s.name, []))
        out.append(r)
    save_robots_rows(db, payload.get("robots", []))
    return out


def keep_entries(db: Database, source: str, entries: list[dict]) -> None:
    """Remember what the feed entries of known, unchanged articles now say (as the store
    does in a crawl of the daemon's own), so the same entry is not taken for an update
    again."""
    for e in entries:
        db.execute(
            "UPDATE articles SET entry_hash = ?, entry_updated_at = coalesce(?, entry_updated_at)"
            " WHERE url = ? AND source = ?",
            [e["entry_hash"], e.get("entry_updated_at"), e["url"], source],
        )


def save_robots_rows(db: Database, rows: list[dict]) -> None:
    """Keep the robots.txt files a worker fetched (newer ones win)."""
    for r in rows:
        db.execute(
            "INSERT INTO robots (netloc, status, body, fetched_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT(netloc) DO UPDATE SET status = excluded.status,"
            " body = excluded.body, fetched_at = excluded.fetched_at,"
            " expires_at = excluded.expires_at WHERE excluded.fetched_at > robots.fetched_at",
            [
                r["netloc"],
                r["status"],
                r["body"].encode("latin-1"),
                r["fetched_at"],
                r["expires_at"],
            ],
        )


def item_from_row(row: dict) -> dict:
    """An archived article (a worker's scratch archive) as a normalized item."""
    item = {k: row.get(k) for k in ITEM_KEYS}
    # An updated article's updated_at is when it was stored again; its item's is the date
    # the feed entry gave, which the daemon keeps as entry_updated_at.
    item["updated_at"] = row.get("entry_updated_at") or row.get("updated_at")
    try:
        item["categories"] = json.loads(row.get("categories") or "[]")
    except ValueError:
        item["categories"] = []
    return item
