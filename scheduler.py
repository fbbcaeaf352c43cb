"""The composition root: config loading, the `newswatch` CLI, and the daemon's jobs.

Only this module imports both `crawler` and `alerts`. Commands are thin: they parse options
and call library functions.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from alerts import outbox
from alerts.config import (
    DeliverySettings,
    GazetteerSettings,
    HealthSettings,
    Target,
    Watch,
)
from alerts.secrets import redact_url
from alerts.targets import check_targets
from crawler import archive
from crawler.config import ArchiveSettings, CrawlSettings, DedupeSettings, Source, StrictModel

DEFAULT_CONFIG = "data/newswatch.toml"
_VAR = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}")


# --------------------------------------------------------------------------- config


class Config(StrictModel):
    """The whole configuration file."""

    archive: ArchiveSettings = ArchiveSettings()
    crawl: CrawlSettings = CrawlSettings()
    sources: list[Source] = []
    targets: list[Target] = []
    watches: list[Watch] = []
    term_sets: dict[str, list[str]] = {}
    gazetteer: GazetteerSettings = GazetteerSettings()
    delivery: DeliverySettings = DeliverySettings()
    health: HealthSettings = HealthSettings()
    dedupe: DedupeSettings = DedupeSettings()


class ConfigError(Exception):
    """A config file that cannot be used; says which file, which key, and what is wrong."""

    def __init__(self, file: str, problems: list[tuple[str, str]]):
        self.file = file
        self.problems = problems
        lines = [f"{path}: {msg}" if path else msg for path, msg in problems]
        super().__init__(f"config error in {file}:\n  " + "\n  ".join(lines))


def _loc(parts: tuple) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def _interpolate(value: Any, path: str, problems: list[tuple[str, str]]) -> Any:
    """Replace ``${VAR}`` in every string from the environment; ``$${VAR}`` stays literal."""
    if isinstance(value, str):

        def sub(m: re.Match) -> str:
            if m.group(1):
                return "${" + m.group(2) + "}"
            name = m.group(2)
            if name not in os.environ:
                problems.append((path, f"environment variable {name} is not set"))
                return ""
            return os.environ[name]

        return _VAR.sub(sub, value)
    if isinstance(value, list):
        return [_interpolate(v, f"{path}[{i}]", problems) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {
            k: _interpolate(v, f"{path}.{k}" if path else k, problems) for k, v in value.items()
        }
    return value


def config_path(explicit: str | None = None) -> str:
    """``--config``, else ``$NEWSWATCH_CONFIG``, else ``data/newswatch.toml``."""
    return explicit or os.environ.get("NEWSWATCH_CONFIG") or DEFAULT_CONFIG


def load_config(path: str | os.PathLike) -> Config:
    """Read, interpolate and validate a config file. Raises ConfigError; writes nothing."""
    file = str(path)
    try:
        raw = Path(file).read_bytes()
    except FileNotFoundError:
        raise ConfigError(file, [("", "file not found")]) from None
    except OSError as e:
        raise ConfigError(file, [("", f"cannot read: {e.strerror}")]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(file, [("", "not UTF-8 text")]) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(file, [("", f"not valid TOML: {e}")]) from None
    problems: list[tuple[str, str]] = []
    data = _interpolate(data, "", problems)
    if problems:
        raise ConfigError(file, problems)
    try:
        cfg = Config.model_validate(data)
    except ValidationError as e:
        for err in e.errors(include_url=False, include_input=False):
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling)"
            elif err["type"] == "missing":
                msg = "required key is missing"
            problems.append((_loc(err["loc"]), msg))
        raise ConfigError(file, problems) from None
    problems.extend(cross_check(cfg))
    if problems:
        raise ConfigError(file, problems)
    return cfg


def cross_check(cfg: Config) -> list[tuple[str, str]]:
    """Checks that span sections: unique names, and references between them."""
    problems: list[tuple[str, str]] = []
    for section, items in (
        ("sources", cfg.sources),
        ("targets", cfg.targets),
        ("watches", cfg.watches),
    ):
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.name in seen:
                problems.append((f"{section}[{i}].name", f"duplicate name {item.name!r}"))
            seen.add(item.name)
    routes = {t.name for t in cfg.targets} | {tag for t in cfg.targets for tag in t.tags}
    sources = {s.name for s in cfg.sources}
    for i, w in enumerate(cfg.watches):
        for j, t in enumerate(w.targets):
            if t not in routes:
                problems.append((f"watches[{i}].targets[{j}]", f"no target or tag named {t!r}"))
        for j, s in enumerate(w.sources):
            if s not in sources:
                problems.append((f"watches[{i}].sources[{j}]", f"no source named {s!r}"))
    for j, t in enumerate(cfg.health.targets):
        if t not in routes:
            problems.append((f"health.targets[{j}]", f"no target or tag named {t!r}"))
    problems.extend(check_targets(cfg.targets))
    from alerts.matching import check_watches

    problems.extend(check_watches(cfg.watches, cfg.term_sets))
    return problems


# --------------------------------------------------------------------------- CLI


class Context:
    """What every command gets: the config path, loaded on first use."""

    def __init__(self, path: str):
        self.path = path
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            try:
                self._config = load_config(self.path)
            except ConfigError as e:
                click.echo(str(e), err=True)
                sys.exit(2)
        return self._config

    def open_archive(self):
        try:
            return archive.open_archive(self.config.archive.path)
        except Exception as e:  # the archive path is user input: say what went wrong
            raise click.ClickException(
                f"cannot open archive {self.config.archive.path}: {e}"
            ) from e


pass_ctx = click.make_pass_decorator(Context)


def console():
    """A rich console; when output is not a terminal, wide enough that rows do not wrap."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=220, soft_wrap=True)


def _not_yet(what: str) -> None:
    click.echo(f"newswatch {what}: not available yet", err=True)
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config",
    metavar="PATH",
    default=None,
    help=f"Config file (default: $NEWSWATCH_CONFIG, else {DEFAULT_CONFIG}).",
)
@click.version_option(package_name="newswatch")
@click.pass_context
def cli(ctx: click.Context, config: str | None) -> None:
    """newswatch: collect news, keep one deduplicated archive, alert once per story."""
    ctx.obj = Context(config_path(config))


def config_option(f):
    """Let --config also follow the sub-command (``newswatch status --config x.toml``)."""

    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
        if value:
            ctx.find_object(Context).path = value

    return click.option(
        "--config",
        metavar="PATH",
        expose_value=False,
        is_eager=True,
        callback=callback,
        help="Config file (default: $NEWSWATCH_CONFIG, else data/newswatch.toml).",
    )(f)


@cli.command()
@click.option(
    "--once", is_flag=True, help="Run one full cycle (collect, match, deliver), then exit."
)
@config_option
@pass_ctx
def run(obj: Context, once: bool) -> None:
    """Run the daemon: collect each source on its interval, match, deliver."""
    obj.config  # noqa: B018 - validate before anything else
    _not_yet("run")


@cli.command()
@click.option(
    "--source", "sources", multiple=True, metavar="NAME", help="Only this source (repeatable)."
)
@config_option
@pass_ctx
def crawl(obj: Context, sources: tuple[str, ...]) -> None:
    """Collect only: crawl the sources into the archive.

    Without --source, every enabled source is crawled; a named source is crawled even
    when disabled. Exit code 1 when every crawled source failed.
    """
    from crawler.runner import ConsoleProgress, run_crawl

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
    obj.open_archive().close()  # a bad archive path fails here, before any fetching
    with ConsoleProgress(len(chosen)) as progress:
        results = run_crawl(cfg.crawl, chosen, cfg.archive.path, progress=progress)
    progress.summary(results)
    if all(r.status in ("error", "timeout") for r in results):
        sys.exit(1)


@cli.command()
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
    stored articles and adds only matches and tier statements not already there.
    """
    from alerts import matching

    if since and not use_archive:
        raise click.UsageError("--since only applies with --archive")
    if since:
        since = _since(since)
    matcher = _matcher(obj.config, watches)
    if use_archive:
        if file != "-":
            raise click.UsageError("give either FILE or --archive, not both")
        stats = matching.rematch_archive(obj.open_archive(), matcher, since)
        click.echo(
            f"{stats.articles} articles re-matched: {stats.matches} new matches, "
            f"{stats.tier_statements} new tier statements",
            err=True,
        )
        return
    try:
        with click.open_file(file, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise click.ClickException(f"cannot read {file}: {e}") from None
    try:
        records = list(matching.read_articles(text, None if file == "-" else file))
    except matching.InputError as e:
        raise click.ClickException(f"{file}: {e}") from None
    for out in matching.match_records(matcher, records):
        click.echo(json.dumps(out, ensure_ascii=False))


# ------------------------------------------------------------------ matching (issue 5)


def _since(value: str) -> str:
    """--since as an ISO prefix the archive's UTC timestamps compare against."""
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date (use YYYY-MM-DD or an ISO 8601 time)", param_hint="--since"
        ) from None
    if when.tzinfo is None and len(value) <= 10:
        return when.strftime("%Y-%m-%d")
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _matcher(cfg: Config, only: tuple[str, ...] = ()):
    """The compiled watchlist of ``cfg`` (only the watches named in ``only``, when given)."""
    from alerts.gazetteer import GazetteerError
    from alerts.matcher import Matcher

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
        return Matcher.compile(chosen, cfg.term_sets, cfg.gazetteer.aliases)
    except GazetteerError as e:
        raise click.ClickException(str(e)) from None


@cli.command()
@click.argument("country")
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines instead of a table.")
@config_option
@pass_ctx
def tiers(obj: Context, country: str, as_json: bool) -> None:
    """A country's TIP tier placements by year, with the articles that stated them.

    COUNTRY is an ISO code (AZ) or a name in any supported language (Azerbaijan).
    """
    from alerts import gazetteer, matching

    gaz = gazetteer.build(obj.config.gazetteer.aliases)
    code = gaz.lookup(country)
    if code is None:
        raise click.BadParameter(f"unknown country {country!r}", param_hint="COUNTRY")
    rows = matching.tier_history(obj.open_archive(), code)
    if as_json:
        for r in rows:
            click.echo(json.dumps({"country": code, **r}, ensure_ascii=False))
        return
    if not rows:
        click.echo(f"no tier statements for {gaz.labels[code]} ({code})", err=True)
        return
    from rich.table import Table

    table = Table("year", "tier", "source", "title", "url", title=f"{gaz.labels[code]} ({code})")
    for r in rows:
        table.add_row(
            str(r["year"] or ""), r["tier"], r["source"] or "", r["title"] or "", r["url"] or ""
        )
    console().print(table)


# ------------------------------------------------------------------ end of matching


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--url", metavar="URL", help="The address the page was saved from.")
@config_option
@pass_ctx
def extract(obj: Context, files: tuple[str, ...], url: str | None) -> None:
    """Extract title, text, date and language from saved pages; print JSON Lines."""
    from crawler.extract import extract_article

    for file in files:
        page = extract_article(Path(file).read_bytes(), url=url)
        click.echo(json.dumps(page, ensure_ascii=False))


@cli.command()
@click.argument("query")
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(1, 10_000), help="Most results."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines instead of a table.")
@config_option
@pass_ctx
def search(obj: Context, query: str, limit: int, as_json: bool) -> None:
    """Full-text search over archived article titles and text."""
    db = obj.open_archive()
    rows = archive.search(db, query, limit=limit)
    if as_json:
        for r in rows:
            click.echo(json.dumps(r, ensure_ascii=False))
        return
    if not rows:
        click.echo("no articles match", err=True)
        return
    from rich.table import Table

    table = Table("date", "source", "title", "url")
    for r in rows:
        table.add_row(
            (r["published_at"] or r["fetched_at"] or "")[:10],
            r["source"],
            r["title"] or "",
            r["url"],
        )
    console().print(table)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@config_option
@pass_ctx
def status(obj: Context, as_json: bool) -> None:
    """Sources and their last fetch, article counts, pending and failed alerts."""
    report = status_report(obj.config, obj.open_archive(), config_file=obj.path)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    print_status(report)


def status_report(cfg: Config, db, *, config_file: str = "") -> dict:
    """Everything `newswatch status` shows, as plain data."""
    health = {row["name"]: row for row in archive.source_health(db)}
    sources = []
    for s in cfg.sources:
        row = health.pop(s.name, None) or {"name": s.name, "kind": s.kind, "url": s.url}
        row["enabled"] = s.enabled
        row["interval_s"] = int(s.effective_interval(cfg.crawl).total_seconds())
        sources.append(row)
    for row in health.values():  # in the archive but no longer configured
        row["enabled"] = False
        sources.append(row)
    return {
        "config": config_file,
        "archive": cfg.archive.path,
        "counts": archive.counts(db),
        "alerts": outbox.status_counts(db),
        "targets": [
            {"name": t.name, "url": redact_url(t.url), "tags": t.tags} for t in cfg.targets
        ],
        "sources": sources,
    }


def print_status(report: dict) -> None:
    from rich.table import Table

    out = console()
    table = Table(
        "source", "kind", "last attempt", "last success", "result", "new/seen", "fails", "articles"
    )
    for s in report["sources"]:
        result = s.get("last_error_class") or (
            str(s["last_status"]) if s.get("last_status") else ""
        )
        if not s.get("last_attempt_at"):
            result = "never fetched"
        table.add_row(
            s["name"] + ("" if s.get("enabled", True) else " (off)"),
            s.get("kind") or "",
            s.get("last_attempt_at") or "",
            s.get("last_success_at") or "",
            result,
            f"{s.get('items_new') or 0}/{s.get('items_seen') or 0}",
            str(s.get("consecutive_failures") or 0),
            str(s.get("articles") or 0),
        )
    out.print(table)
    c = report["counts"]
    out.print(
        f"archive {report['archive']}: {c['articles']} articles, {c['stories']} stories, "
        f"{c['matches']} matches, {c['tier_statements']} tier statements"
    )
    a = report["alerts"]
    out.print(
        f"alerts: {a.get('pending', 0)} pending, {a.get('sending', 0)} sending, "
        f"{a.get('sent', 0)} sent, {a.get('failed', 0)} failed"
    )
    if not report["targets"]:
        out.print(
            "no alert targets configured: alerts wait in the archive until you add a "
            "[[targets]] entry (an Apprise URL) to the config",
            markup=False,
        )


@cli.command()
@click.option(
    "--rebuild",
    is_flag=True,
    help="Recompute every story over the archive with the current [dedupe] settings.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@config_option
@pass_ctx
def dedupe(obj: Context, rebuild: bool, as_json: bool) -> None:
    """Story clustering: report it, or recompute it after a threshold change (--rebuild)."""
    from crawler.stories import dedupe_report, rebuild_stories

    db = obj.open_archive()
    out: dict = {}
    if rebuild:
        out["rebuild"] = vars(rebuild_stories(db, obj.config.dedupe))
    out.update(dedupe_report(db))
    if as_json:
        click.echo(json.dumps(out))
        return
    if rebuild:
        r = out["rebuild"]
        click.echo(
            f"rebuilt stories over {r['articles']} articles: {r['stories_before']} -> "
            f"{r['stories_after']} stories ({r['kept']} kept their id, {r['merged']} merged "
            "but kept for the alerts that point at them)"
        )
    click.echo(
        f"{out['articles']} articles in {out['stories']} stories; "
        f"{out['stories_with_copies']} with copies, "
        f"{out['stories_with_several_sources']} carried by several sources "
        f"(largest: {out['largest_story']} articles)"
    )


# --------------------------------------------------------------------------- sources


@cli.group()
def sources() -> None:
    """Find and check sources."""


@sources.command("discover")
@click.argument("url")
@config_option
@pass_ctx
def sources_discover(obj: Context, url: str) -> None:
    """Fetch a homepage; print its feeds and the sitemaps in its robots.txt as config."""
    from crawler.discover import format_sources, run_discover

    if not re.match(r"^https?://[^/\s]+", url, re.I):
        raise click.BadParameter("must be an http:// or https:// address", param_hint="URL")
    found = run_discover(url, obj.config.crawl)
    if found.error:
        click.echo(f"{url}: {found.error}", err=True)
    if not found.feeds and not found.sitemaps:
        click.echo(f"no feeds or sitemaps found at {url}", err=True)
        sys.exit(1)
    click.echo(format_sources(found))


@cli.group()
def alerts() -> None:
    """Alert targets and the outbox: test, list, retry."""


@alerts.command("test")
@click.argument("target", required=False)
@config_option
@pass_ctx
def alerts_test(obj: Context, target: str | None) -> None:
    """Send a test message to every target (or one) and report each result."""
    from alerts.targets import send_test

    cfg = obj.config
    chosen = [t for t in cfg.targets if target is None or t.name == target]
    if not chosen:
        known = ", ".join(t.name for t in cfg.targets) or "none configured"
        raise click.ClickException(f"no target named {target!r} (targets: {known})")
    failures = 0
    for t in chosen:
        result = send_test(t)
        shown = f"{t.name} ({redact_url(t.url)})"
        if result.ok:
            click.echo(f"ok      {shown}")
        else:
            failures += 1
            click.echo(f"FAILED  {shown}: {result.error}")
    if failures:
        sys.exit(1)


# --- alerts: the outbox (list, retry) -------------------------------------------------


@alerts.command("list")
@click.option(
    "--status",
    type=click.Choice(outbox.STATUSES),
    help="Only alerts in this state.",
)
@click.option(
    "--limit", default=50, show_default=True, type=click.IntRange(1, 100_000), help="Most rows."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines instead of a table.")
@config_option
@pass_ctx
def alerts_list(obj: Context, status: str | None, limit: int, as_json: bool) -> None:
    """List outbox rows, newest first: watch, target, state, attempts, last error."""
    rows = outbox.list_alerts(obj.open_archive(), status=status, limit=limit)
    if as_json:
        for r in rows:
            click.echo(json.dumps(r, ensure_ascii=False))
        return
    if not rows:
        click.echo("no alerts" + (f" with status {status}" if status else ""), err=True)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "watch", "target", "mode", "status", "tries", "next/sent", "title", "error")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["watch"],
            r["target"],
            r["mode"],
            r["status"],
            str(r["attempts"]),
            r["sent_at"] or r["next_attempt_at"] or "",
            (r["title"] or "")[:60],
            r["last_error"] or "",
        )
    Console().print(table)


@alerts.command("retry")
@click.argument("ids", nargs=-1, type=int, metavar="[ID]...")
@click.option("--failed", is_flag=True, help="Retry every failed alert.")
@config_option
@pass_ctx
def alerts_retry(obj: Context, ids: tuple[int, ...], failed: bool) -> None:
    """Make failed (or pending) alerts due again now, with a fresh attempt count."""
    if not ids and not failed:
        raise click.UsageError("give alert IDs (see `newswatch alerts list`) or --failed")
    n = outbox.retry(obj.open_archive(), ids, failed=failed)
    click.echo(f"{n} alert(s) will be sent in the next delivery")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="newswatch")


if __name__ == "__main__":
    main()
