"""The daemon's view of whether its archive can be used: one log line when a problem
(a permission taken away, damage) starts or changes, one when it is gone, and in between
the jobs wait instead of failing with a traceback every tick."""

from __future__ import annotations

import logging
import sqlite3

from alerts import schema
from crawler import liveness
from crawler.archive_access import ArchiveError, access_problem, explain, repair_side_files

log = logging.getLogger("newswatch")

#: How long the probe's write waits for another connection's write lock. The probe runs on
#: the daemon's event loop: at the archive's own busy timeout (30 s) a lock held by another
#: process (a `dedupe --rebuild`, a backup) froze every job and the shutdown signals for
#: that long on every tick. A still-locked archive now answers "busy" at once; the next job
#: probes again. It bounds the opening too, whose own writes (WAL mode, migrations, pending
#: full-text rows) wait for the same lock.
PROBE_BUSY_TIMEOUT_MS = 100


class ArchiveWatch:
    """Tracks the archive's usability for the daemon's jobs (see the module docstring)."""

    def __init__(self, path: str):
        self.path = path
        #: the problem last logged, None while the archive works
        self.problem: str | None = None

    def failed(self, error: BaseException) -> None:
        """A job met an archive error: logged when the problem is new, else kept quiet."""
        problem = str(explain(self.path, error))
        if problem != self.problem:
            log.error(
                "%s Collecting, matching and delivering wait until it is fixed.",
                problem,
                extra={"event": "archive_unusable", "archive": str(self.path)},
            )
        self.problem = problem

    def usable(self) -> bool:
        """Whether the jobs may run: no known problem, or the known one is gone (a
        permission given back, space freed: checked by writing the heartbeat). Recovery is
        logged once; while the problem lasts this costs a permission check or one write, which
        waits at most PROBE_BUSY_TIMEOUT_MS for another process's write lock."""
        if self.problem is None:
            return True
        repair_side_files(self.path)  # the -wal/-shm SQLite made read-only meanwhile
        if access_problem(self.path) is not None:
            # debug only: the problem was logged once when it started (see failed())
            log.debug(
                "archive %s still unusable: a job waits",
                self.path,
                extra={"event": "archive_wait", "archive": str(self.path)},
            )
            return False
        try:
            db = schema.open_archive(self.path, create=False, busy_timeout_ms=PROBE_BUSY_TIMEOUT_MS)
            try:
                liveness.heartbeat(db)  # a real write: only that proves the archive is back
            finally:
                db.close()
        except (OSError, sqlite3.Error, ArchiveError) as e:
            self.failed(e)
            return False
        log.info(
            "archive %s usable again: resuming",
            self.path,
            extra={"event": "archive_usable", "archive": str(self.path)},
        )
        self.problem = None
        return True
