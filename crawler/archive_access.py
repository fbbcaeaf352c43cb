"""Why an archive cannot be opened or used, said once and plainly: missing, a permission,
damage. Every command and the daemon turn SQLite's and the OS's errors into an
:class:`ArchiveError` here, whose message names the path, what is wrong and what to do.

Also the one repair newswatch makes by itself: SQLite creates ``-wal`` and ``-shm`` with
the archive file's permissions, so an archive that was read-only for a while leaves a
read-only ``-shm`` behind, and after ``chmod 644`` every open still failed. When the archive
file is writable and we own a narrower side file, it gets the archive's permissions back.
"""

from __future__ import annotations

import getpass
import os
import sqlite3
from pathlib import Path

#: What SQLite says when the file is not (or no longer) a database it can read.
DAMAGE = ("file is not a database", "malformed", "disk image", "database corrupt")
#: What SQLite says when a file or folder cannot be opened or written.
ACCESS = (
    "unable to open database file",
    "readonly",
    "read-only",
    "disk i/o error",
    "disk is full",
)

#: What SQLite says when another connection held the write lock past the busy timeout.
BUSY = ("database is locked",)
#: Why a write found the archive locked, and what that costs (nothing: see crawler/pipelines.py).
BUSY_REASON = (
    "archive busy: another process (a `newswatch dedupe --rebuild`, a backup, another crawl?)"
    " held the write lock past the busy timeout"
)

RECOVERY = (
    "stop the daemon, keep the damaged file, and restore your latest backup "
    "(`newswatch backup PATH` makes one), or save what is readable with "
    "`sqlite3 {path} .recover | sqlite3 recovered.db` and point [archive] path at "
    "recovered.db (README: 'A damaged archive')"
)


class ArchiveError(Exception):
    """The archive cannot be used; the message names the path, the problem and the way out.

    ``kind`` is ``missing``, ``permission``, ``full``, ``damaged`` or ``busy`` (``error`` for anything
    else)."""

    def __init__(self, path: str | os.PathLike, kind: str, message: str):
        self.path = str(path)
        self.kind = kind
        super().__init__(message)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no name for this uid (a container): the number says it
        return f"uid {os.geteuid()}"


def missing(path: str | os.PathLike) -> ArchiveError:
    """No archive at ``path`` (a read command never creates one)."""
    p = Path(path)
    where = (
        f"the folder {p.parent} does not exist"
        if not p.parent.exists()
        else "there is no such file"
    )
    return ArchiveError(
        path,
        "missing",
        f"no archive at {p}: {where}. Check [archive] path in the config; "
        "`newswatch run` or `newswatch crawl` creates the archive.",
    )


def access_problem(path: str | os.PathLike, *, write: bool = True) -> str | None:
    """What stops this user from reading (and, with ``write``, writing) the archive, or None."""
    p = Path(path)
    folder = p.parent
    user = _user()
    if not folder.exists():
        return f"the folder {folder} does not exist"
    if not os.access(folder, os.X_OK):
        return f"the folder {folder} cannot be entered by {user} (no execute permission)"
    if p.exists() and not os.access(p, os.R_OK):
        return f"{p} is not readable by {user} (no read permission)"
    if not write:
        return None
    if p.exists() and not os.access(p, os.W_OK):
        return f"{p} is read-only for {user} (no write permission on the file)"
    for side in (Path(f"{p}-wal"), Path(f"{p}-shm")):
        if side.exists() and not os.access(side, os.W_OK):
            return f"{side} is read-only for {user} (no write permission on SQLite's side file)"
    if not os.access(folder, os.W_OK):
        return (
            f"the folder {folder} is not writable by {user} (no write permission: "
            f"SQLite creates {p.name}-wal and {p.name}-shm beside the archive, and the "
            f"daemon {p.name}.lock)"
        )
    return None


def explain(path: str | os.PathLike, error: BaseException, *, write: bool = True) -> ArchiveError:
    """The :class:`ArchiveError` for an error met opening or using the archive at ``path``."""
    if isinstance(error, ArchiveError):
        return error
    text = str(error).lower()
    if isinstance(error, sqlite3.DatabaseError) and any(d in text for d in DAMAGE):
        return ArchiveError(
            path,
            "damaged",
            f"the archive {path} is damaged (SQLite: {error}). What to do: "
            + RECOVERY.format(path=path),
        )
    if "disk is full" in text or getattr(error, "errno", None) == 28:  # SQLITE_FULL, ENOSPC
        return ArchiveError(
            path,
            "full",
            f"cannot write the archive {path}: the disk holding it is full. Free some space "
            "there; nothing stored so far is lost.",
        )
    if is_busy(error):
        return ArchiveError(
            path,
            "busy",
            f"cannot {'write' if write else 'use'} the archive {path}: {BUSY_REASON}. "
            "Nothing stored so far is lost "
            "and nothing this run could not write counts as done: run it again once that "
            "process has finished (a running daemon waits and resumes by itself).",
        )
    problem = None
    if isinstance(error, PermissionError | sqlite3.OperationalError | OSError):
        if isinstance(error, FileNotFoundError) and not Path(path).exists():
            return missing(path)
        if isinstance(error, PermissionError) or any(a in text for a in ACCESS):
            problem = access_problem(path, write=write)
    if problem:
        return ArchiveError(
            path,
            "permission",
            f"cannot use the archive {path}: {problem}. "
            "Give the permission back (chmod/chown), or choose another [archive] path.",
        )
    return ArchiveError(path, "error", f"cannot use the archive {path}: {error}")


def is_archive_error(error: BaseException) -> bool:
    """Whether ``error`` is about the archive itself (access or damage), not about a query."""
    if isinstance(error, ArchiveError | PermissionError):
        return True
    if isinstance(error, OSError) and error.errno == 28:  # no space left on the device
        return True
    if isinstance(error, sqlite3.DatabaseError):
        text = str(error).lower()
        return any(s in text for s in DAMAGE + ACCESS + BUSY)
    return False


def is_busy(error: BaseException) -> bool:
    """Whether ``error`` is another connection holding the write lock past the busy timeout."""
    return isinstance(error, sqlite3.OperationalError) and any(
        s in str(error).lower() for s in BUSY
    )


def repair_side_files(path: str | os.PathLike) -> None:
    """Give ``-wal``/``-shm`` back the archive file's permissions when they are narrower and
    ours (SQLite made them while the archive was read-only; see the module docstring)."""
    p = Path(path)
    try:
        mode = p.stat().st_mode & 0o666
    except OSError:
        return
    if not os.access(p, os.W_OK):
        return
    for side in (Path(f"{p}-wal"), Path(f"{p}-shm")):
        try:
            st = side.stat()
            if st.st_uid == os.geteuid() and (st.st_mode & 0o666) != mode | (st.st_mode & 0o666):
                os.chmod(side, mode | (st.st_mode & 0o666))
        except OSError:
            continue
