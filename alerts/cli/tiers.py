"""`newswatch tiers COUNTRY`: a country's TIP tier placements by year."""

from __future__ import annotations

import click

from crawler.cli import output
from crawler.cli.context import Context, config_option, json_option, pass_ctx


@click.command()
@click.argument("country")
@json_option
@config_option
@pass_ctx
def tiers(obj: Context, country: str, as_json: bool) -> None:
    """A country's TIP tier placements by year, with the articles that stated them.

    COUNTRY is an ISO code (AZ) or a name in any supported language (Azerbaijan). With
    --json, one line per statement: {"country", "year", "tier", "basis", "source", "title",
    "url", ...}; "basis" is "words" when the text names the tier, "formula" when only the
    report's minimum-standards formula gives it (listed only with [gazetteer] tier_formulas
    = true), null for statements stored before it was recorded.
    """
    from alerts import gazetteer, match_stage

    gaz = gazetteer.build(obj.config.gazetteer.aliases)
    code = gaz.lookup(country)
    if code is None:
        raise click.BadParameter(f"unknown country {country!r}", param_hint="COUNTRY")
    formulas = obj.config.gazetteer.tier_formulas
    rows = match_stage.tier_history(obj.open_archive(), code, formulas=formulas)
    if as_json:
        output.json_lines({"country": code, **r} for r in rows)
        return
    if not rows:
        output.line(f"no tier statements for {gaz.labels[code]} ({code})", err=True)
        return
    output.table(
        ("year", "tier", "basis", "source", "title", "url"),
        ((r["year"], r["tier"], r["basis"], r["source"], r["title"], r["url"]) for r in rows),
        title=f"{gaz.labels[code]} ({code})",
    )
