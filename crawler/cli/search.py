"""`newswatch search`: full-text search over the archive."""

from __future__ import annotations

import click

from crawler import archive
from crawler.cli import output
from crawler.cli.context import Context, config_option, json_option, pass_ctx
from crawler.stories import plus_outlets


@click.command()
@click.argument("query")
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(1, 10_000), help="Most results."
)
@json_option
@config_option
@pass_ctx
def search(obj: Context, query: str, limit: int, as_json: bool) -> None:
    """Full-text search over archived article titles and text.

    With --json, one line per article: {"id", "url", "title", "source", "published_at",
    "fetched_at", ...} as stored, and "other_outlets": how many other outlets carried its
    story (shown as "+N outlets" in the table).
    """
    rows = archive.search(obj.open_archive(), query, limit=limit)
    if as_json:
        output.json_lines(rows)
        return
    if not rows:
        output.line("no articles match", err=True)
        return
    output.table(
        ("date", "source", "outlets", "title", "url"),
        (
            (
                (r["published_at"] or r["fetched_at"] or "")[:10],
                r["source"],
                plus_outlets(r["other_outlets"] or 0),
                r["title"],
                r["url"],
            )
            for r in rows
        ),
    )
