"""Editing the config file in place: adding and removing sources, keeping its comments.

tomlkit keeps the file as written (comments, blank lines, key order); a new source is
appended at the end of the ``[[sources]]`` entries. The edited text is checked by the
caller's loader before it replaces the file, so a failed edit leaves the file as it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT


class EditError(Exception):
    """An edit that cannot be made (no such source, a name taken)."""


def _read(path: Path) -> tomlkit.TOMLDocument:
    return tomlkit.parse(path.read_text(encoding="utf-8"))


def _write(path: Path, doc: tomlkit.TOMLDocument, check: Callable[[Path], Any] | None) -> None:
    """Write ``doc`` to ``path`` atomically, once ``check`` (a config loader) accepts it."""
    draft = path.with_name(f".{path.name}.edit")
    draft.write_text(tomlkit.dumps(doc), encoding="utf-8")
    try:
        if check is not None:
            check(draft)
    except BaseException:
        draft.unlink(missing_ok=True)
        raise
    os.replace(draft, path)


def _table(values: dict[str, Any]) -> tomlkit.items.Table:
    table = tomlkit.table()
    for key, value in values.items():
        if value is not None:
            table.add(key, value)
    return table


def add_sources(
    path: str | os.PathLike,
    sources: Iterable[dict[str, Any]],
    check: Callable[[Path], Any] | None = None,
) -> list[str]:
    """Append ``[[sources]]`` entries (dicts of keys, None left out); returns their names.
    A name already in the file is an EditError."""
    path = Path(path)
    doc = _read(path)
    existing = doc.get("sources")
    if existing is None:
        existing = AoT([])
        doc.append("sources", existing)
    taken = {s.get("name") for s in existing}
    names = []
    for values in sources:
        if values["name"] in taken:
            raise EditError(f"a source named {values['name']!r} exists already")
        taken.add(values["name"])
        existing.append(_table(values))
        names.append(values["name"])
    _write(path, doc, check)
    return names


def remove_source(
    path: str | os.PathLike, name: str, check: Callable[[Path], Any] | None = None
) -> dict[str, Any]:
    """Remove the source ``name``; returns its keys. No such source: EditError."""
    path = Path(path)
    doc = _read(path)
    existing = doc.get("sources") or []
    for i, s in enumerate(existing):
        if s.get("name") == name:
            removed = s.unwrap()
            del existing[i]
            _write(path, doc, check)
            return removed
    raise EditError(f"no source named {name!r}")
