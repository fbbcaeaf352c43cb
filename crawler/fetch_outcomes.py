"""Fetch outcomes: classifying fetch failures, tracking each source through a crawl, and
recording the outcome in the ``sources`` and ``fetches`` tables (source health)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from sqlite_utils import Database
from twisted.internet import error as tx_error
from twisted.python.failure import Failure
from twisted.web.client import ResponseFailed, ResponseNeverReceived

from crawler.env_secrets import conceal
from crawler.schedule import NOT_COUNTED
from crawler.times import shift, utcnow

_MAX_RETRY_AT_S = 7 * 86400  # a Retry-After further away than a week is not believed

logger = logging.getLogger(__name__)


class PrivateAddressRefused(IgnoreRequest):
    """A request (or a redirect) to a loopback, private or link-local address."""


class RetryAfterTooLong(IgnoreRequest):
    """The server asked us to come back later than ``max_retry_after``."""


def classify(error: BaseException | Failure) -> tuple[str, str, int | None]:
    """An exception from a fetch -> (error class, message, HTTP status or None)."""
    exc = error.value if isinstance(error, Failure) else error
    msg = f"{type(exc).__name__}: {exc}".strip()
    if isinstance(exc, HttpError):
        status = exc.response.status
        if 300 <= status < 400:  # a redirect Scrapy did not follow: not http(s), or no Location
            to = (exc.response.headers.get("Location") or b"").decode("latin-1")[:200]
            return (
                "redirect_refused",
                f"HTTP {status} to {to or '(no Location)'}: not followed"
                " (only http and https addresses are fetched)",
                status,
            )
        return ("http_5xx" if status >= 500 else "http_4xx"), f"HTTP {status}", status
    if isinstance(exc, PrivateAddressRefused):
        return "private_address_refused", str(exc), None
    if isinstance(exc, RetryAfterTooLong):
        return "http_4xx" if "429" in str(exc) else "http_5xx", str(exc), None
    if isinstance(exc, IgnoreRequest):
        text = str(exc)
        if "robots.txt" in text:
            return "robots_denied", "forbidden by robots.txt", None
        if "max redirections" in text or "redirect" in text.lower():
            return "too_many_redirects", text, None
        if "DOWNLOAD_MAXSIZE" in text or "max size" in text.lower():
            return "too_large", text, None
        return "connection", text, None
    name = type(exc).__name__
    if isinstance(exc, tx_error.DNSLookupError) or name == "CannotResolveHostError":
        return "dns", msg, None
    if isinstance(exc, tx_error.TimeoutError | tx_error.TCPTimedOutError):
        return "timeout", msg, None
    if name in ("DownloadTimeoutError", "UserTimeoutError"):
        return "timeout", msg, None
    if name == "DownloadCancelledError" or "maxsize" in msg.lower() or "max size" in msg.lower():
        return "too_large", str(exc) or "the response was larger than max_page_bytes", None
    if isinstance(exc, ResponseFailed | ResponseNeverReceived):
        inner = " ".join(str(r.value) for r in getattr(exc, "reasons", []) or [])
        if "maxsize" in inner.lower() or "cancel" in inner.lower():
            return "too_large", msg, None
        return "connection", msg, None
    return "connection", msg, None


@dataclass
class SourceResult:
    """How one source did in one crawl."""

    name: str
    status: str = "pending"  # ok | partial | not_modified | error | timeout | interrupted
    error_class: str | None = None
    error: str | None = None
    items_seen: int = 0
    items_new: int = 0
    items_updated: int = 0
    not_modified: bool = False
    duration_s: float = 0.0
    http_status: int | None = None
    pages_failed: int = 0
    capped: bool = False  # max_articles_per_source left links for the next crawl
    items_bad: int = 0  # items that could not be read or stored (left out, counted)
    incomplete: bool = False  # something read was not stored: read the body again next time
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    retry_after: float | None = None  # seconds the server asked us to wait (Retry-After)


@dataclass
class _Track:
    result: SourceResult
    started: float = field(default_factory=time.monotonic)
    pending: int = 0
    done: bool = False
    previous: dict = field(default_factory=dict)


class CrawlTracker:
    """Counts each source's requests in flight, so we know when a source is done, and
    collects what it gave. One per crawl; shared by the spiders and the pipeline."""

    def __init__(
        self,
        names: list[str],
        previous: dict[str, dict],
        on_done: Callable[[SourceResult], None] | None = None,
    ):
        self._t = {n: _Track(SourceResult(n), previous=previous.get(n, {})) for n in names}
        self.on_done = on_done
        self.flushers: list[Callable[[str], None]] = []

    def previous(self, name: str) -> dict:
        """What the archive remembers of this source (etag, last_modified, body_hash)."""
        return self._t[name].previous

    def result(self, name: str) -> SourceResult:
        return self._t[name].result

    def begin(self, name: str) -> None:
        self._t[name].pending += 1

    def end(self, name: str) -> None:
        t = self._t[name]
        t.pending -= 1
        if t.pending <= 0 and not t.done:
            self._finish(t)

    def _finish(self, t: _Track) -> None:
        t.done = True
        for flush in self.flushers:
            flush(t.result.name)
        r = t.result
        r.duration_s = round(time.monotonic() - t.started, 3)
        if r.status == "pending":
            r.status = "not_modified" if r.not_modified else "ok"
        if self.on_done:
            try:
                self.on_done(r)
            except Exception:  # a broken progress display must not break the crawl
                logger.exception("progress callback failed")

    def fail(self, name: str, error_class: str, message: str, status: int | None = None) -> None:
        r = self._t[name].result
        r.status, r.error_class, r.error = "error", error_class, message
        if status is not None:
            r.http_status = status

    def problem(self, name: str, error_class: str, message: str) -> None:
        """Something was wrong but the source still gave items (a bozo feed, items left
        out). The first problem's class stands; later messages are added to it; a source
        that failed stays failed."""
        r = self._t[name].result
        if r.status == "error":
            return
        if r.status == "partial" and r.error:
            r.error = f"{r.error}; {error_class}: {message}"[:500]
            return
        r.status, r.error_class, r.error = "partial", error_class, message

    def flush_all(self) -> None:
        """Store every item the pipeline still holds (a crawl stopped before its end)."""
        for name in self._t:
            for flush in self.flushers:
                flush(name)

    def finish_all(self, *, interrupted: bool = False) -> list[SourceResult]:
        """End of crawl: sources still in flight ran out of time (or, ``interrupted``,
        were stopped by a shutdown: not the source's failure)."""
        out = []
        for t in self._t.values():
            if not t.done:
                r = t.result
                if interrupted and r.status != "error":
                    r.status, r.error_class = "interrupted", "interrupted"
                    r.error = "the crawl was stopped (a shutdown) before this source finished"
                elif r.status in ("pending", "ok", "partial", "not_modified"):
                    r.status, r.error_class = "timeout", "timeout"
                    r.error = "the crawl ran past crawl_timeout before this source finished"
                t.done = True
                r.duration_s = round(time.monotonic() - t.started, 3)
            out.append(t.result)
        return out


def load_state(db: Database, names: list[str]) -> dict[str, dict]:
    """The conditional-GET validators the archive keeps for these sources."""
    out: dict[str, dict] = {}
    for i in range(0, len(names), 500):
        chunk = names[i : i + 500]
        marks = ",".join("?" * len(chunk))
        for name, etag, last_modified, body_hash in db.execute(
            f"SELECT name, etag, last_modified, body_hash FROM sources WHERE name IN ({marks})",
            chunk,
        ):
            out[name] = {"etag": etag, "last_modified": last_modified, "body_hash": body_hash}
    return out


def record_results(db: Database, sources: list, results: list[SourceResult], started_at: str):
    """Write each source's outcome to ``sources`` and one ``fetches`` row per source.
    Call inside ``archive.write(db)``."""
    by_name = {s.name: s for s in sources}
    finished = utcnow()
    for r in results:
        src = by_name[r.name]
        ok = r.status in ("ok", "partial", "not_modified")
        db.execute(
            "INSERT INTO sources (name, kind, url) VALUES (?, ?, ?)"
            " ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, url = excluded.url",
            [src.name, src.kind, conceal(src.url)],  # ${VAR} values stay out of the archive
        )
        sets = {
            "last_attempt_at": started_at,
            "last_status": r.http_status,
            "last_error_class": r.error_class,
            "last_error": conceal(r.error),
            "items_seen": r.items_seen,
            "items_new": r.items_new,
            # when the server asked us to come back (Retry-After): the schedule honours it
            "retry_at": None
            if ok or not r.retry_after
            else shift(finished, timedelta(seconds=min(r.retry_after, _MAX_RETRY_AT_S))),
        }
        if ok:
            sets["last_success_at"] = finished
            if not r.not_modified:
                # Keep re-reading a body whose article pages did not all arrive, whose
                # links passed the per-crawl cap, or whose items were not all stored:
                # forget the validators that would skip it.
                incomplete = bool(r.pages_failed or r.capped or r.incomplete)
                sets["etag"] = None if incomplete else r.etag
                sets["last_modified"] = None if incomplete else r.last_modified
                sets["body_hash"] = None if incomplete else r.body_hash
        assign = ", ".join(f"{k} = ?" for k in sets)
        if r.not_modified and r.error_class is None:
            # The body is the one read last time: a problem it had (a malformed feed whose
            # good items were kept) still stands, unless that last attempt failed outright.
            del sets["last_error_class"], sets["last_error"]
            assign = ", ".join(f"{k} = ?" for k in sets) + (
                ", last_error_class = CASE WHEN consecutive_failures = 0"
                " THEN last_error_class END,"
                " last_error = CASE WHEN consecutive_failures = 0 THEN last_error END"
            )
        if r.status == "interrupted" or r.error_class in NOT_COUNTED:
            # not the source's failure (a stopped daemon, a locked archive), nor a success
            counter = "consecutive_failures"
        else:
            counter = "0" if ok else "consecutive_failures + 1"
        db.execute(
            f"UPDATE sources SET {assign}, consecutive_failures = {counter} WHERE name = ?",
            [*sets.values(), src.name],
        )
        db.execute(
            "INSERT INTO fetches (source, started_at, finished_at, status, error_class, error,"
            " not_modified, items_seen, items_new, items_updated, duration_s)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [
                r.name,
                started_at,
                finished,
                r.http_status,
                r.error_class,
                conceal(r.error),
                int(r.not_modified),
                r.items_seen,
                r.items_new,
                r.items_updated,
                r.duration_s,
            ],
        )
