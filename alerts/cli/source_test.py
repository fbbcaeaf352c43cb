"""`newswatch sources test NAME|URL`: a dry run of one source: fetch, parse, show the items,
which are new to the archive and which watches they would fire. Writes nothing."""

from __future__ import annotations

import re
import sqlite3
import sys
from pathlib import Path

import click

from crawler import times
from crawler.cli import exits, output
from crawler.cli.context import Context, config_option, json_option, pass_ctx


def _known_urls(path: str, urls: list[str]) -> set[str]:
    """Which of ``urls`` the archive holds (read-only; no archive: none)."""
    if not Path(path).is_file():
        return set()
    db = sqlite3.connect(f"file:{Path(path).absolute()}?mode=ro", uri=True)
    try:
        marks = ",".join("?" * len(urls))
        return {r[0] for r in db.execute(f"SELECT url FROM articles WHERE url IN ({marks})", urls)}
    except sqlite3.Error:
        return set()
    finally:
        db.close()


@click.command("test")
@click.argument("source")
@click.option("--allow-private", is_flag=True, help="Allow a private or local address.")
@json_option
@config_option
@pass_ctx
def sources_test(obj: Context, source: str, allow_private: bool, as_json: bool) -> None:
    """Dry run of one source (a configured NAME, or a URL): fetch and parse it, show its
    items, which are new to the archive and which watches they would fire. Nothing is
    written: not the archive, not the source's health."""
    from alerts.stages import compile_matcher
    from crawler.probe import run_probe
    from crawler.suggest import did_you_mean

    cfg = obj.config
    by_name = {s.name: s for s in cfg.sources}
    crawl = cfg.crawl
    if allow_private:
        crawl = crawl.model_copy(update={"allow_private_addresses": True})
    if source in by_name:
        src = by_name[source]
        found = run_probe(src.url, crawl, source=src)
    elif re.match(r"^https?://[^/\s]+", source, re.I):
        found = run_probe(source, crawl, name="test")
    else:
        raise click.UsageError(
            f"no source named {source!r}{did_you_mean(source, by_name)}; give a name or a URL"
        )
    if not found.items:
        output.line(f"{source}: {found.error}", err=True)
        sys.exit(exits.FAILED)
    matcher = compile_matcher(cfg)
    known = _known_urls(cfg.archive.path, [i["url"] for i in found.items])
    rows = []
    for item in found.items:
        result = matcher.match(item["title"], item["text"], found.source.name)
        rows.append(
            {
                "url": item["url"],
                "title": item["title"],
                "published_at": item["published_at"],
                "new": item["url"] not in known,
                "countries": result.countries,
                "watches": result.watches,
            }
        )
    if as_json:
        output.json_lines(rows)
        return
    output.table(
        ("date", "new", "watches", "countries", "title"),
        (
            (
                times.day_of(r["published_at"]),
                "new" if r["new"] else "",
                ", ".join(r["watches"]),
                " ".join(r["countries"]),
                r["title"],
            )
            for r in rows
        ),
        title=f"{found.source.url} (dry run: nothing stored)",
    )
    n, new = len(rows), sum(r["new"] for r in rows)
    fire = sum(1 for r in rows if r["watches"] and r["new"])
    output.line(f"{n} item{'s' * (n != 1)}, {new} new; {fire} of the new would match a watch")
