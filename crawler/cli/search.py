"""`newswatch search`: full-text search over the archive, in the watch query language."""

from __future__ import annotations

import click

from crawler import times
from crawler.cli import output
from crawler.cli.context import Context, config_option, country_codes, json_option, pass_ctx


@click.command()
@click.argument("query")
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(1, 10_000), help="Most results."
)
@click.option(
    "--source", "sources", multiple=True, metavar="NAME", help="Only this source (repeat)."
)
@click.option(
    "--country",
    "countries",
    multiple=True,
    metavar="CODE",
    help="Only articles matched to this country (AZ or Azerbaijan; repeat).",
)
@click.option(
    "--watch",
    "watches",
    multiple=True,
    metavar="NAME",
    help="Only articles this watch matched (repeat).",
)
@click.option(
    "--since", metavar="WHEN", help="Published since: a date (2026-03-01) or an age (7d, 12h)."
)
@json_option
@config_option
@pass_ctx
def search(
    obj: Context,
    query: str,
    limit: int,
    sources: tuple[str, ...],
    countries: tuple[str, ...],
    watches: tuple[str, ...],
    since: str | None,
    as_json: bool,
) -> None:
    """Full-text search over archived article titles and text.

    QUERY is written as a watch query: words (all of them), "quoted phrases", AND, OR,
    NOT, parentheses, word* for a prefix, a NEAR/5 b for two words or phrases within 5
    words. What full-text search cannot do (NEAR/s, NEAR between groups, @term sets,
    lower-case operators) is an error saying so.

    With --json, one line per article: {"id", "url", "title", "source", "published_at",
    "fetched_at", "snippet", ...} as stored, and "other_outlets": how many other outlets
    carried its story (shown as "+N outlets" in the table).
    """
    from crawler import search as fts
    from crawler.suggest import did_you_mean

    cfg = obj.config
    for flag, names, known in (
        ("source", sources, [s.name for s in cfg.sources]),
        ("watch", watches, [w.name for w in getattr(cfg, "watches", [])]),
    ):
        for name in names:
            if known and name not in known:
                output.line(
                    f"warning: no {flag} named {name!r} in the config{did_you_mean(name, known)}",
                    err=True,
                )
    try:
        since_iso = fts.since_time(since, times.utc()) if since else None
    except ValueError:
        raise click.BadParameter(
            f"{since!r}: give a date (2026-03-01) or an age (7d, 12h)", param_hint="--since"
        ) from None
    try:
        rows = fts.search(
            obj.open_archive(),
            query,
            limit=limit,
            sources=list(sources),
            countries=country_codes(countries),
            watches=list(watches),
            since=since_iso,
        )
    except fts.SearchQueryError as e:
        raise click.BadParameter(str(e), param_hint="QUERY") from None
    if as_json:
        output.json_lines(rows)
        return
    if not rows:
        output.line("no articles match", err=True)
        return
    # here, not at the top: every command imports this module, and crawler.stories brings
    # the near-duplicate and event machinery a crawl of unchanged feeds never needs
    from crawler.stories import plus_outlets

    output.table(
        ("date", "source", "outlets", "title", "snippet", "url"),
        (
            (
                times.day_of(r["published_at"] or r["fetched_at"]),
                r["source"],
                plus_outlets(r["other_outlets"] or 0),
                r["title"],
                r["snippet"],
                r["url"],
            )
            for r in rows
        ),
    )
