"""`newswatch demo`: try newswatch offline against a bundled sample site."""

from __future__ import annotations

import logging

import click

from alerts.daemon import DaemonError
from alerts.logs import setup_logging
from crawler.cli.context import Context, pass_ctx
from crawler.config_file import ConfigError


@click.command()
@click.option("--keep", metavar="DIR", help="Keep the demo archive in DIR instead of deleting it.")
@pass_ctx
def demo(obj: Context, keep: str | None) -> None:
    """Try newswatch offline: crawl a bundled sample site, match, and mail a local server."""
    from alerts.demo import DemoError, run_demo  # its servers and mail parsing: only here

    setup_logging("text", level=logging.WARNING)
    try:
        run_demo(obj.loader, keep=keep)
    except ConfigError as e:  # the bundled defaults (data/newswatch.toml) were edited badly
        click.echo(str(e), err=True)
        raise SystemExit(2) from None
    except (DemoError, DaemonError) as e:
        raise click.ClickException(str(e)) from None
