"""`newswatch extract`: title, text, date and language from saved pages, as JSON Lines."""

from __future__ import annotations

from pathlib import Path

import click

from crawler.cli import output
from crawler.cli.context import config_option


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--url", metavar="URL", help="The address the page was saved from.")
@config_option
def extract(files: tuple[str, ...], url: str | None) -> None:
    """Extract title, text, date and language from saved pages; print JSON Lines."""
    from crawler.extract import extract_article

    for file in files:
        output.json_line(extract_article(Path(file).read_bytes(), url=url))
