"""`newswatch crawl`: collect only, the chosen sources into the archive."""

from __future__ import annotations

import sys

import click

from crawler.cli import exits
from crawler.cli.context import Context, config_option, pass_ctx


@click.command()
@click.option(
    "--source", "sources", multiple=True, metavar="NAME", help="Only this source (repeatable)."
)
@config_option
@pass_ctx
def crawl(obj: Context, sources: tuple[str, ...]) -> None:
    """Collect only: crawl the sources into the archive.

    Without --source, every enabled source is crawled; a named source is crawled even
    when disabled. Exit code 0 when every source worked, 1 when some failed, 3 when
    every one failed (the README's exit-code table).
    """
    from crawler.progress import ConsoleProgress
    from crawler.runner import CrawlInterrupted, run_crawl

    cfg = obj.config
    by_name = {s.name: s for s in cfg.sources}
    unknown = [n for n in sources if n not in by_name]
    if unknown:
        raise click.BadParameter(
            f"no source named {', '.join(map(repr, unknown))} in {obj.path}",
            param_hint="--source",
        )
    chosen = (
        [by_name[n] for n in dict.fromkeys(sources)]
        if sources
        else [s for s in cfg.sources if s.enabled]
    )
    if not chosen:
        click.echo("no sources to crawl", err=True)
        return
    # a bad archive path fails here, before any fetching; this command may create it
    obj.open_archive(create=True).close()
    interrupted = None
    with ConsoleProgress(len(chosen)) as progress:
        try:
            results = run_crawl(
                cfg.crawl, chosen, cfg.archive.path, progress=progress, dedupe=cfg.dedupe
            )
        except CrawlInterrupted as e:  # what was read is stored and recorded
            results, interrupted = e.results, e
    progress.summary(results)
    if interrupted is not None:  # Ctrl-C: 130, SIGTERM: 143
        click.echo(f"{interrupted}: what was fetched is stored; crawl again for the rest", err=True)
        sys.exit(128 + interrupted.signum)
    sys.exit(exits.crawl_code(results))
