"""The CLI's one output layer: JSON Lines, tables, and plain lines for people.

- ``--json`` on a listing command prints JSON Lines: one object per line, always.
- A table is rich on a terminal and plain aligned text otherwise (a pipe, a file, a log):
  full width, no wrapping and no 80-column squeeze, so ``| grep`` and ``| cut`` keep rows.
- Untrusted text (titles, errors) is never read as rich markup.
- A value the config took from the environment (``${VAR}``, a secret) is never printed: it
  shows as ``${VAR}`` in every line, cell and JSON value (crawler/env_secrets.py).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import click

from crawler.env_secrets import conceal, conceal_value

_BREAKS = re.compile(r"[\r\n\t\x0b\x0c]+")


def is_terminal() -> bool:
    """Whether standard output is a terminal (rich output) or not (plain text)."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def json_line(obj: Any) -> None:
    """Print one object as one line of JSON (non-ASCII kept, dates as strings)."""
    click.echo(json.dumps(conceal_value(obj), ensure_ascii=False, default=str))


def json_lines(rows: Iterable[Any]) -> None:
    """Print each row as one line of JSON."""
    for row in rows:
        json_line(row)


def line(text: str = "", *, err: bool = False) -> None:
    """Print one plain line (never read as markup)."""
    click.echo(conceal(text), err=err)


def cell(value: Any) -> str:
    """A table cell: None is empty, line breaks and tabs become one space."""
    if value is None:
        return ""
    return _BREAKS.sub(" ", conceal(str(value)))


def plain_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """Aligned text: a header, a rule of dashes, one line per row, columns two spaces apart."""
    body = [[cell(v) for v in row] for row in rows]
    widths = [len(h) for h in header]
    for row in body:
        for i, v in enumerate(row):
            widths[i] = max(widths[i], len(v))

    def fmt(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    return [fmt(header), fmt(["-" * w for w in widths]), *(fmt(r) for r in body)]


def table(
    header: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None
) -> None:
    """Draw a table: rich on a terminal, plain aligned text otherwise."""
    if not is_terminal():
        if title:
            click.echo(conceal(title))
        for text in plain_table(header, rows):
            click.echo(text)
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    t = Table(*header, title=title and conceal(title))
    for row in rows:
        t.add_row(*(Text(cell(v)) for v in row))
    Console().print(t)


def rule(title: str = "") -> None:
    """A section divider: a rich rule on a terminal, ``-- title ----`` otherwise."""
    if is_terminal():
        from rich.console import Console
        from rich.text import Text

        Console().rule(Text(title))
        return
    click.echo(f"-- {cell(title)} " + "-" * max(4, 76 - len(title)) if title else "-" * 80)
