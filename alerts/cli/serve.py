"""`newswatch serve`: browse the archive in Datasette, with canned queries and charts."""

from __future__ import annotations

import click

from crawler.cli import output
from crawler.cli.context import Context, config_option, pass_ctx


@click.command()
@click.option(
    "--host", metavar="HOST", help="Address to listen on (default: [serve] host, 127.0.0.1)."
)
@click.option(
    "--port", type=int, metavar="PORT", help="Port (default: [serve] port, 8001; 0: any free one)."
)
@click.option(
    "--archive",
    "archive_path",
    metavar="PATH",
    help="Serve this archive (a file, or a directory holding one *.db such as "
    "`newswatch demo --keep DIR` leaves) instead of the config's.",
)
@config_option
@pass_ctx
def serve(obj: Context, host: str | None, port: int | None, archive_path: str | None) -> None:
    """Browse the archive in Datasette: tables, full-text search, canned queries and a
    dashboard of charts, all served from this machine.

    Read-only: the daemon may keep writing while you browse. Stop with Ctrl-C.
    """
    from alerts import serve as serving

    cfg = obj.config
    settings = cfg.serve
    try:
        ds = serving.build(
            archive_path or cfg.archive.path,
            sources=cfg.sources,
            crawl=cfg.crawl,
            base_url=settings.base_url,
            tier_formulas=cfg.gazetteer.tier_formulas,
        )
        sock = serving.listen(host or settings.host, settings.port if port is None else port)
    except serving.ServeError as e:
        raise click.ClickException(str(e)) from None
    prefix = serving.base_path(settings.base_url)
    output.line(f"newswatch archive at {serving.url_of(sock, prefix)}")
    output.line(f"dashboard: {serving.url_of(sock, prefix + '-/dashboards/' + serving.DB_NAME)}")
    try:
        serving.serve(ds, sock)
    finally:
        sock.close()
