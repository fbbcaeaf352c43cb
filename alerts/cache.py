"""The user's cache folder: data derived from shipped files and packages, kept between
processes so that a short command does not derive it again.

The folder is ``$NEWSWATCH_CACHE``, else ``$XDG_CACHE_HOME/newswatch``, else
``~/.cache/newswatch``; ``NEWSWATCH_CACHE=off`` turns the cache off. Every entry is named
by a hash of everything it was derived from (file stamps, package versions), so an edited
data file or an upgraded package makes a new entry; nothing is ever read stale. An entry
carries a checksum of its bytes and its name, so a damaged or foreign file is derived again,
never read as data. A cache that cannot be read or written is no error: the data is derived
as without it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TypeVar

T = TypeVar("T")
KEEP = 4  # entries of one kind: the shipped data, the tests' languages, an edit or two
#: The head of every entry; a new layout changes it (and the entries' names, see remembered).
MAGIC = b"newswatch-cache 2\n"


def folder() -> Path | None:
    """The cache folder, or None when the cache is off."""
    env = os.environ.get("NEWSWATCH_CACHE", "").strip()
    if env.lower() == "off":
        return None
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "newswatch"


def source_stamp(*modules: ModuleType) -> tuple:
    """What the code of ``modules`` is, as far as a cache entry needs: file, size, mtime."""
    out = []
    for m in modules:
        st = os.stat(m.__file__)
        out.append((m.__name__, st.st_size, st.st_mtime_ns))
    return tuple(out)


def remembered(
    kind: str,
    key: tuple,
    build: Callable[[], T],
    dump: Callable[[T], bytes],
    load: Callable[[bytes], T],
) -> T:
    """``build()``, kept in the cache folder as ``dump`` writes it under ``kind`` and a hash
    of ``key`` (with the Python version) and read back with ``load`` by later processes."""
    where = folder()
    name = f"{kind}-" + hashlib.sha256(repr((key, sys.version, MAGIC)).encode()).hexdigest()[:24]
    path = where / name if where is not None else None
    if path is not None:
        try:
            data = unseal(name, path.read_bytes())
        except OSError:
            data = None  # absent or unreadable
        if data is not None:
            try:
                return load(data)
            except Exception:  # noqa: BLE001 - the checksum held, the format did not: derive
                pass
    value = build()
    if path is not None:
        write(path, seal(name, dump(value)))
    return value


def _checksum(name: str, data: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\0" + data).digest()


def seal(name: str, data: bytes) -> bytes:
    """``data`` as the entry ``name`` stores it: a head and a checksum of name and data."""
    return MAGIC + _checksum(name, data) + data


def unseal(name: str, blob: bytes) -> bytes | None:
    """The data of the entry ``name`` written by :func:`seal`, or None when ``blob`` is not
    that (damaged, cut short, another entry's, or not an entry at all)."""
    head = len(MAGIC) + 32
    if not blob.startswith(MAGIC) or len(blob) < head:
        return None
    data = blob[head:]
    return data if blob[len(MAGIC) : head] == _checksum(name, data) else None


def write(path: Path, data: bytes, keep: int = KEEP) -> None:
    """Write ``data`` to ``path`` whole or not at all (written aside, then renamed: another
    process may be writing the same entry); a failure leaves no entry. Of the entries of the
    same kind (the name up to its last "-"), the ``keep`` newest stay."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)
            raise
        prune(path.parent, path.name.rsplit("-", 1)[0] + "-", keep)
    except OSError:
        pass  # a read-only home, a full disk: the next process derives it again


def prune(where: Path, prefix: str, keep: int) -> None:
    """Remove all but the ``keep`` newest entries (files or folders) named ``prefix``...:
    every edit of a data file makes a new entry, and the old ones are never read again."""
    entries = []
    for p in where.glob(f"{prefix}*"):
        try:
            entries.append((p.stat().st_mtime_ns, p))
        except OSError:
            continue  # removed by another process meanwhile
    for _, p in sorted(entries, reverse=True)[keep:]:
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
