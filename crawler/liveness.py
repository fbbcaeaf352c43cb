"""The daemon's presence on an archive: an OS lock beside it and a heartbeat row in it.

The lock makes one daemon per archive; the ``daemon`` row lets ``newswatch status`` (another
process) tell whether that daemon is alive.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from pathlib import Path

from sqlite_utils import Database

from crawler import archive, times


class ArchiveLocked(Exception):
    """Another daemon holds this archive's lock."""


class ArchiveLock:
    """An exclusive lock beside the archive, so two daemons never share one archive.

    It is an OS file lock: it is released when the process dies, even by ``kill -9``.
    """

    def __init__(self, archive_path: str):
        self.path = Path(str(archive_path) + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise ArchiveLocked(
                f"another newswatch daemon (pid {holder}) is already running on "
                f"{self.path.with_suffix('')}; stop it first, or give this one its own "
                "[archive] path"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def holder(self) -> int | None:
        """The pid of the daemon holding this lock (seen from another process), or None.
        Asked of the OS lock, so it is right even when the daemon cannot write its
        heartbeat (a read-only archive)."""
        import fcntl

        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 64, 0).decode(errors="replace").strip()
            return int(text) if text.isdigit() else -1
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def heartbeat(db: Database, *, started_at: str | None = None, cycle: bool = False) -> None:
    """Record that the daemon is alive (and, with ``cycle``, that it finished a cycle)."""
    now = times.utcnow()
    with archive.write(db):
        if started_at:
            db.execute(
                "INSERT INTO daemon (id, pid, host, started_at, heartbeat_at, cycles)"
                " VALUES (1, ?, ?, ?, ?, 0) ON CONFLICT(id) DO UPDATE SET pid = excluded.pid,"
                " host = excluded.host, started_at = excluded.started_at,"
                " heartbeat_at = excluded.heartbeat_at, cycles = 0",
                [os.getpid(), socket.gethostname(), started_at, now],
            )
        else:
            db.execute(
                "UPDATE daemon SET heartbeat_at = ?, cycles = cycles + ? WHERE id = 1",
                [now, 1 if cycle else 0],
            )


def mark_stopped(db: Database) -> None:
    """A clean exit: the daemon row keeps its last heartbeat but no longer names a process."""
    with archive.write(db):
        db.execute("UPDATE daemon SET pid = NULL, heartbeat_at = ? WHERE id = 1", [times.utcnow()])


def daemon_state(db: Database, stale_after: timedelta, *, now: datetime | None = None) -> dict:
    """Whether a daemon is alive on this archive: a heartbeat newer than ``stale_after``
    from a process that (on this host) still exists."""
    row = db.execute("SELECT pid, host, started_at, heartbeat_at, cycles FROM daemon").fetchone()
    if row is None:
        return {"alive": False, "seen": False}

    pid, host, started, beat, cycles = row
    now = now or times.now()
    last = times.parse_time(beat)
    fresh = pid is not None and last is not None and now - last < stale_after
    if fresh and host == socket.gethostname():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            fresh = False  # killed without a chance to say so
        except PermissionError:
            pass
    return {
        "alive": fresh,
        "seen": True,
        "pid": pid,
        "host": host,
        "started_at": started,
        "heartbeat_at": beat,
        "cycles": cycles,
    }
