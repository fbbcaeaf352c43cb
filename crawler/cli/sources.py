"""`newswatch sources ...`: find, add, list, remove, import and export sources.

`sources add` and `sources import` edit the config file in place, keeping its comments
(crawler/config_edit.py); every edit is checked by the config loader before it replaces
the file. `sources test` (a dry run that also says what would match) needs the matcher and
lives in alerts/cli/source_test.py; the composition root adds it to this group.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

from crawler import times
from crawler.cli import exits, output
from crawler.cli.context import Context, config_option, json_option, pass_ctx
from crawler.config_file import ConfigError


def _http(url: str) -> str:
    if not re.match(r"^https?://[^/\s]+", url, re.I):
        raise click.BadParameter("must be an http:// or https:// address", param_hint="URL")
    return url


def _did_you_mean(name: str, known) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _edit(obj: Context, edit):
    """Run a config edit; a config the edit would break is refused, the file untouched."""
    from crawler.config_edit import EditError

    try:
        return edit(Path(obj.path), obj.loader.load)
    except EditError as e:
        raise click.UsageError(str(e)) from None
    except ConfigError as e:
        output.line(f"{obj.path} left unchanged: the edit would give\n{e}", err=True)
        sys.exit(exits.USAGE)


@click.group()
def sources() -> None:
    """Find, add, list, test, remove, import and export sources."""


@sources.command("discover")
@click.argument("url")
@config_option
@pass_ctx
def sources_discover(obj: Context, url: str) -> None:
    """Fetch a homepage; print its feeds and the sitemaps in its robots.txt as config.

    Each feed is fetched once to check it (nothing is stored): a feed that gives no item
    is printed commented out, with the reason."""
    from crawler.discover import format_sources
    from crawler.probe import check_discovered, run_blocking

    _http(url)
    found, checks = run_blocking(check_discovered(url, obj.config.crawl))
    if found.error:
        click.echo(f"{url}: {found.error}", err=True)
    if not found.feeds and not found.sitemaps:
        click.echo(f"no feeds or sitemaps found at {url}", err=True)
        sys.exit(1)
    text = format_sources(found)
    for feed, (n, error) in checks.items():
        # the block of this feed: annotate it, and comment it out when it gave nothing
        blocks = text.split("\n\n")
        for i, block in enumerate(blocks):
            if f"url = {json.dumps(feed)}" in block:
                if n:
                    blocks[i] = f"# checked: {n} item{'s' * (n != 1)}\n{block}"
                else:
                    body = "\n".join(
                        f"# {ln}" if ln and not ln.startswith("#") else ln
                        for ln in block.splitlines()
                    )
                    blocks[i] = f"# not working: {error}\n{body}"
        text = "\n\n".join(blocks)
    click.echo(text)


@sources.command("add")
@click.argument("url")
@click.option("--name", help="The source's name (default: from the site's host).")
@click.option(
    "--allow-private",
    is_flag=True,
    help="Allow a private or local address (sets allow_private_addresses on the source).",
)
@config_option
@pass_ctx
def sources_add(obj: Context, url: str, name: str | None, allow_private: bool) -> None:
    """Add the feed at URL, or the first working feed its page names, to the config.

    The feed is fetched once first (nothing is stored): a source that gives no item is
    not added."""
    from crawler.config_edit import add_sources
    from crawler.probe import run_probe, source_name

    _http(url)
    cfg = obj.config
    taken = {s.name for s in cfg.sources}
    if name and name in taken:
        raise click.UsageError(f"a source named {name!r} exists already")
    if any(s.url == url for s in cfg.sources):
        raise click.UsageError(f"{url} is a source already")
    name = name or source_name(url, taken)
    crawl = cfg.crawl
    if allow_private:
        crawl = crawl.model_copy(update={"allow_private_addresses": True})
    found = run_probe(url, crawl, name=name)
    if not found.ok:
        hint = " (--allow-private allows it)" if "private_address" in (found.error or "") else ""
        output.line(f"not added: {url}: {found.error}{hint}", err=True)
        sys.exit(exits.FAILED)
    src = found.source
    values = {"name": name, "kind": "feed", "url": src.url}
    if allow_private:
        values["allow_private_addresses"] = True
    _edit(obj, lambda path, check: add_sources(path, [values], check))
    n = len(found.items)
    output.line(
        f"added {name}: {src.url} ({n} item{'s' * (n != 1)} now, e.g. {found.items[0]['title']!r})"
    )


@sources.command("list")
@json_option
@config_option
@pass_ctx
def sources_list(obj: Context, as_json: bool) -> None:
    """The configured sources."""
    rows = [
        {
            "name": s.name,
            "kind": s.kind,
            "url": s.url,
            "interval": times.span(s.effective_interval(obj.config.crawl)),
            "enabled": s.enabled,
        }
        for s in obj.config.sources
    ]
    if as_json:
        output.json_lines(rows)
        return
    if not rows:
        output.line("no sources: add one with `newswatch sources add URL`", err=True)
        return
    output.table(
        ("name", "kind", "interval", "enabled", "url"),
        (
            (r["name"], r["kind"], r["interval"], "yes" if r["enabled"] else "no", r["url"])
            for r in rows
        ),
    )


@sources.command("remove")
@click.argument("name")
@config_option
@pass_ctx
def sources_remove(obj: Context, name: str) -> None:
    """Remove the source NAME from the config (its articles stay in the archive)."""
    from crawler.config_edit import remove_source

    known = [s.name for s in obj.config.sources]
    if name not in known:
        raise click.UsageError(f"no source named {name!r}{_did_you_mean(name, known)}")
    removed = _edit(obj, lambda path, check: remove_source(path, name, check))
    output.line(f"removed {name}: {removed.get('url')}")


@sources.command("import")
@click.argument("file", type=click.File("rb"))
@config_option
@pass_ctx
def sources_import(obj: Context, file) -> None:
    """Add the feeds of an OPML file (a feed reader's export) to the config.

    Feeds whose URL is a source already are skipped; none is fetched (`sources test NAME`
    tries one)."""
    from crawler import opml
    from crawler.config_edit import add_sources

    try:
        feeds = opml.read(file.read())
    except opml.OPMLError as e:
        raise click.BadParameter(str(e), param_hint="FILE") from None
    have = {s.url for s in obj.config.sources}
    taken = {s.name for s in obj.config.sources}
    new, bad = [], []
    for f in feeds:
        if f.url in have:
            continue
        if not re.match(r"^https?://[^/\s]+", f.url, re.I):
            bad.append(f.url)
            continue
        base = opml.slug(f.title) or "feed"
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name)
        have.add(f.url)
        new.append({"name": name, "kind": "feed", "url": f.url})
    for url in bad:
        output.line(f"skipped {url}: not an http:// or https:// address", err=True)
    if new:
        _edit(obj, lambda path, check: add_sources(path, new, check))
    skipped = len(feeds) - len(new) - len(bad)
    output.line(
        f"imported {len(new)} source{'s' * (len(new) != 1)} of {len(feeds)} in the file"
        + (f" ({skipped} already configured)" if skipped else "")
    )


@sources.command("export")
@click.argument("file", type=click.File("w"), default="-")
@config_option
@pass_ctx
def sources_export(obj: Context, file) -> None:
    """Write the feed sources as OPML 2.0 (to FILE, default standard output), for any
    feed reader. HTML and sitemap sources are no feeds: they are left out, and named."""
    from crawler import opml
    from crawler.env_secrets import conceal

    # a value from the environment is written back as its ${VAR}, never the secret itself
    feeds = [
        {"name": s.name, "url": conceal(s.url)} for s in obj.config.sources if s.kind == "feed"
    ]
    others = [s.name for s in obj.config.sources if s.kind != "feed"]
    file.write(opml.write(feeds))
    if others:
        output.line(f"left out (not feeds): {', '.join(others)}", err=True)
