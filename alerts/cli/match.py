"""`newswatch match`: articles in, countries, watches and tiers out (or re-match the archive)."""

from __future__ import annotations

from typing import Any

import click

from crawler import times
from crawler.cli import output
from crawler.cli.context import BadInput, Context, config_option, pass_ctx


@click.command()
@click.argument("file", required=False, default="-", metavar="[FILE|-]")
@click.option(
    "--archive", "use_archive", is_flag=True, help="Re-match articles stored in the archive."
)
@click.option("--since", metavar="DATE", help="With --archive: only articles fetched since DATE.")
@click.option(
    "--watch", "watches", multiple=True, metavar="NAME", help="Only this watch (repeatable)."
)
@config_option
@pass_ctx
def match(
    obj: Context, file: str, use_archive: bool, since: str | None, watches: tuple[str, ...]
) -> None:
    """Match articles (JSON Lines or plain text) against the watchlist; print JSON Lines.

    Input is JSON Lines ({"id", "title", "text"}, other keys ignored) or plain text (one
    article, first line the title). Writes nothing. With --archive, re-runs the watches over
    stored articles, adds only matches and tier statements not already there, and prints the
    articles the watches match as JSON Lines ({"id", "title", "source", "url", "watches"}).
    """
    from alerts import match_stage

    if since and not use_archive:
        raise click.UsageError("--since only applies with --archive")
    if since:
        since = since_prefix(since)
    matcher = compile_watches(obj.config, watches)
    if use_archive:
        if file != "-":
            raise click.UsageError("give either FILE or --archive, not both")
        db = obj.open_archive()
        stats = match_stage.rematch_archive(db, matcher, since)
        output.line(
            f"{stats.articles} articles re-matched: {stats.matches} new matches, "
            f"{stats.tier_statements} new tier statements",
            err=True,
        )
        # which articles the watches match, one JSON line each
        names = [w.name for w in matcher.watches]
        output.json_lines(match_stage.matched_articles(db, names, since))
        return
    try:
        with click.open_file(file, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"cannot read {file}: {e}") from None
    try:
        records = list(match_stage.read_articles(text, None if file == "-" else file))
    except match_stage.InputError as e:
        raise BadInput(f"{file}: {e}") from None
    if not records:
        output.line(
            f"nothing to match: {'standard input' if file == '-' else file} is empty", err=True
        )
    output.json_lines(match_stage.match_records(matcher, records))


def since_prefix(value: str) -> str:
    """--since as an ISO prefix the archive's UTC timestamps compare against."""
    try:
        when = times.parse_iso(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date (use YYYY-MM-DD or an ISO 8601 time)", param_hint="--since"
        ) from None
    if len(value.strip()) <= 10:  # a bare date: the day's prefix, whatever the time
        return times.day(when)
    return times.iso(when)


def compile_watches(cfg: Any, only: tuple[str, ...] = ()):
    """The compiled watchlist of ``cfg`` (only the watches named in ``only``, when given)."""
    from alerts.gazetteer import GazetteerError
    from alerts.stages import compile_matcher

    chosen = cfg.watches
    if only:
        known = {w.name for w in cfg.watches}
        for name in only:
            if name not in known:
                raise click.BadParameter(
                    f"no watch named {name!r} (known: {', '.join(sorted(known)) or 'none'})",
                    param_hint="--watch",
                )
        chosen = [w for w in cfg.watches if w.name in only]
    try:
        return compile_matcher(cfg, chosen)  # every [gazetteer] setting, as the daemon
    except GazetteerError as e:
        raise click.ClickException(str(e)) from None
