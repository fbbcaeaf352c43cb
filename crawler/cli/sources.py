"""`newswatch sources ...`: find and check sources (`sources discover URL`)."""

from __future__ import annotations

import re
import sys

import click

from crawler.cli.context import Context, config_option, pass_ctx


@click.group()
def sources() -> None:
    """Find and check sources."""


@sources.command("discover")
@click.argument("url")
@config_option
@pass_ctx
def sources_discover(obj: Context, url: str) -> None:
    """Fetch a homepage; print its feeds and the sitemaps in its robots.txt as config."""
    from crawler.discover import format_sources, run_discover

    if not re.match(r"^https?://[^/\s]+", url, re.I):
        raise click.BadParameter("must be an http:// or https:// address", param_hint="URL")
    found = run_discover(url, obj.config.crawl)
    if found.error:
        click.echo(f"{url}: {found.error}", err=True)
    if not found.feeds and not found.sitemaps:
        click.echo(f"no feeds or sitemaps found at {url}", err=True)
        sys.exit(1)
    click.echo(format_sources(found))
