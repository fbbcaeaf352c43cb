"""`newswatch run`: the daemon (or, with --once, one full cycle and its summary)."""

from __future__ import annotations

import logging
import sys

import click

from alerts.daemon import Daemon, DaemonError
from alerts.logs import config_secrets, setup_logging
from crawler.advice import all_failed_alike
from crawler.archive_access import ArchiveError
from crawler.cli import exits, output
from crawler.cli.context import ArchiveProblem, Context, config_option, pass_ctx
from crawler.words import counted


@click.command()
@click.option(
    "--once", is_flag=True, help="Run one full cycle (collect, match, deliver), then exit."
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines as text or as JSON objects.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning"]),
    default="info",
    show_default=True,
    help="The least important log lines shown (debug adds e.g. each job that waits for an "
    "unusable archive).",
)
@config_option
@pass_ctx
def run(obj: Context, once: bool, log_format: str, log_level: str) -> None:
    """Run the daemon: collect each source on its interval, match, deliver.

    Stops cleanly on SIGTERM or SIGINT; SIGHUP reloads the config (a bad one is refused and
    the running one kept). With --once: one full cycle over every source, then a summary
    (one JSON object with --log-format json) and the exit code of the README's table: 0, 1
    when some sources failed or some alerts could not be delivered, 3 when every source
    failed, 4 when the archive cannot be used.
    """
    cfg = obj.config
    setup_logging(
        log_format, level=getattr(logging, log_level.upper()), secrets=config_secrets(cfg)
    )
    daemon = Daemon(obj.path, cfg, load_config=obj.loader.load, once=once)
    try:
        code = daemon.start()
    except ArchiveError as e:
        raise ArchiveProblem(e) from None
    except DaemonError as e:  # another daemon holds the archive
        held = click.ClickException(str(e))
        held.exit_code = exits.ARCHIVE
        raise held from None
    if once and daemon.archive_error is not None:
        raise ArchiveProblem(daemon.archive_error)
    if once:
        print_cycle_summary(daemon.summary, as_json=log_format == "json")
    sys.exit(code)


def print_cycle_summary(summary: dict, *, as_json: bool = False) -> None:
    """What `run --once` prints at the end: per-source results, archive counts, outbox."""
    if as_json:
        output.json_line(summary)
        return
    output.table(
        ("source", "result", "new", "seen", "time"),
        (
            (
                r["name"],
                r.get("error_class") or r.get("status"),
                r.get("items_new", 0),
                r.get("items_seen", 0),
                f"{r.get('duration_s') or 0:.1f}s",
            )
            for r in summary.get("sources", [])
        ),
    )
    alike = all_failed_alike(summary.get("sources", []))  # one line says what N rows would
    if alike:
        output.line(alike)
    c, a = summary.get("counts", {}), summary.get("alerts", {})
    output.line(
        f"{counted(c.get('articles', 0), 'article')} in {counted(c.get('stories', 0), 'story')}, "
        f"{counted(c.get('matches', 0), 'match')}, "
        f"{counted(c.get('tier_statements', 0), 'tier statement')}; "
        f"alerts: {a.get('sent', 0)} sent, {a.get('pending', 0)} pending, "
        f"{a.get('failed', 0)} failed"
        # settled without a message: their story merged into one already alerted
        + (f", {a['merged']} merged into alerted stories" if a.get("merged") else "")
    )
