"""While the archive is known to be unusable, each daemon job probes it with a real write on
the event loop. When another process holds the archive's write lock, that probe must answer
"busy" at once instead of waiting SQLite's busy timeout (30 s, every job and the shutdown
signals frozen meanwhile), and "usable" once the lock is gone; so must opening the archive
when that itself writes (WAL mode for a file not in it, full-text rows another program left
pending). Real archive file, a real second connection holding BEGIN IMMEDIATE in another
thread."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from alerts import schema
from alerts.archive_watch import ArchiveWatch
from crawler import fulltext, liveness, times
from crawler.archive_access import is_busy

# The holder lets go by itself after this long: without a short probe timeout the probe
# would wait for it (and then succeed), which the order of events below shows.
HOLDER_FALLBACK_S = 8.0


def _busy_error(path) -> sqlite3.OperationalError:
    """The error a job meets on a locked archive (a real one, from a real lock)."""
    holder = sqlite3.connect(path, timeout=0, isolation_level=None)
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as e:
        return e
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        other.close()
    raise AssertionError("the second BEGIN IMMEDIATE was not refused")


def _leave_pending_text(path) -> None:
    """Another program's insert, noted by the trigger for the next write to index."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"INSERT INTO {fulltext.PENDING} (id) VALUES (1)")
    conn.close()


def _leave_wal_mode(path) -> None:
    """A file another tool switched back to a rollback journal (a copy, a restore). SQLite
    refuses the switch to WAL at once while another connection holds the write lock (no
    busy wait): this case holds even with the long timeout, and guards the order."""
    conn = sqlite3.connect(path, isolation_level=None)
    assert conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete"
    conn.close()


@pytest.mark.parametrize(
    "opening",
    [None, _leave_pending_text, _leave_wal_mode],
    ids=["opening-reads-only", "opening-indexes-pending-text", "opening-enables-wal"],
)
def test_a_locked_archive_answers_busy_before_the_lock_is_released(tmp_path, opening):
    path = tmp_path / "archive.db"
    db = schema.open_archive(path)
    liveness.heartbeat(db, started_at=times.utcnow())
    db.close()
    if opening is not None:
        opening(path)  # opening the archive now writes, and waits for the lock to do it

    error = _busy_error(path)
    assert is_busy(error)
    watch = ArchiveWatch(str(path))
    watch.failed(error)  # a job met the lock: the jobs now wait and probe
    assert watch.problem is not None

    events: list[str] = []
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        holder = sqlite3.connect(path, timeout=0, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process's `dedupe --rebuild`
        locked.set()
        release.wait(HOLDER_FALLBACK_S)
        events.append("lock released")
        holder.execute("COMMIT")
        holder.close()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert locked.wait(30)
        usable = watch.usable()
        events.append(f"probe answered {usable}")
    finally:
        release.set()
        thread.join()
    # the probe said busy while the lock was still held, instead of waiting it out
    assert events == ["probe answered False", "lock released"]
    assert watch.problem is not None and "busy" in watch.problem

    assert watch.usable() is True  # the lock is gone: the jobs resume
    assert watch.problem is None
    db = schema.open_archive(path)
    try:
        beat = db.execute("SELECT heartbeat_at FROM daemon WHERE id = 1").fetchone()[0]
    finally:
        db.close()
    assert beat is not None
    if opening is _leave_pending_text:
        conn = sqlite3.connect(path)
        assert not fulltext.has_pending(conn)  # the probe's opening indexed it at last
        conn.close()
