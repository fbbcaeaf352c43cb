"""`newswatch dedupe`: the story clustering, reported or rebuilt (keeping the stories alerts
point at, so it lives with the alerts package)."""

from __future__ import annotations

import click

from crawler.cli import output
from crawler.cli.context import Context, config_option, json_option, pass_ctx


@click.command()
@click.option(
    "--rebuild",
    is_flag=True,
    help=(
        "Recompute every story over the archive with the current [dedupe] settings "
        "(a running daemon loads its story index again before its next article)."
    ),
)
@json_option
@config_option
@pass_ctx
def dedupe(obj: Context, rebuild: bool, as_json: bool) -> None:
    """Story clustering: report it, or recompute it after a threshold change (--rebuild).

    With --json, one line per section, each naming itself in "section":
    {"section": "rebuild", "articles", "stories_before", "stories_after", "kept", "merged",
    "bridged"} (bridged: stories merged into another by a report that agrees with both)
    (with --rebuild only), then {"section": "stories", "articles", "stories",
    "stories_with_copies", "stories_with_several_sources", "largest_story"}.
    """
    from alerts.story_links import rebuild_stories
    from crawler.stories import dedupe_report

    db = obj.open_archive()
    rebuilt = vars(rebuild_stories(db, obj.config.dedupe)) if rebuild else None
    report = dedupe_report(db)
    if as_json:
        if rebuilt is not None:
            output.json_line({"section": "rebuild", **rebuilt})
        output.json_line({"section": "stories", **report})
        return
    if rebuilt is not None:
        r = rebuilt
        output.line(
            f"rebuilt stories over {r['articles']} articles: {r['stories_before']} -> "
            f"{r['stories_after']} stories ({r['kept']} kept their id, {r['merged']} merged "
            "but kept for the alerts that point at them; "
            f"{r['bridged']} merged into another by a report that agrees with both)"
        )
    output.line(
        f"{report['articles']} articles in {report['stories']} stories; "
        f"{report['stories_with_copies']} with copies, "
        f"{report['stories_with_several_sources']} carried by several sources "
        f"(largest: {report['largest_story']} articles)"
    )
