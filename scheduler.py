"""The entry point and composition root: the root config model, the `newswatch` command group,
and ``main()``. The only module that imports both `crawler` and `alerts` at the top.

Where the rest lives (a command's code is found from its name):

- config file reading and ConfigError: crawler/config_file.py
- what every command shares: crawler/cli/context.py (config, archive), crawler/cli/output.py
- crawler-only commands: crawler/cli/{crawl,extract,search,sources}.py
- commands that need alerts: alerts/cli/{run,match,tiers,status,alerts,dedupe,demo,serve,
  init}.py, and `sources test` (alerts/cli/source_test.py, added to the sources group here)
- here: the root Config and its cross-section checks, the default config's lookup, and the
  global --archive option
- the daemon's lifecycle: alerts/daemon.py; its match-and-deliver step: alerts/stages.py
- log set-up: alerts/logs.py; the demo's servers and report: alerts/demo.py
"""

from __future__ import annotations

import logging
import os
import re
import sys

import click

# First: sqlite-utils without numpy and pandas (see there).
from crawler.cli import startup  # noqa: F401

# isort: split
from alerts.cli.alerts import alerts
from alerts.cli.dedupe import dedupe
from alerts.cli.demo import demo
from alerts.cli.init import init
from alerts.cli.match import match
from alerts.cli.run import run
from alerts.cli.serve import serve
from alerts.cli.source_test import sources_test
from alerts.cli.status import status
from alerts.cli.tiers import tiers
from alerts.config import (
    DeliverySettings,
    GazetteerSettings,
    HealthSettings,
    ServeSettings,
    Target,
    Watch,
)
from alerts.daemon import Daemon, DaemonSettings
from alerts.logs import setup_logging
from alerts.schema import open_archive
from alerts.targets import check_targets
from crawler.cli.backup import backup
from crawler.cli.context import DEFAULT_CONFIG, Context, Group
from crawler.cli.crawl import crawl
from crawler.cli.extract import extract
from crawler.cli.search import search
from crawler.cli.sources import sources
from crawler.cli.worker import worker
from crawler.config import (
    ArchiveSettings,
    ClusterSettings,
    CrawlSettings,
    DedupeSettings,
    Source,
    StrictModel,
)
from crawler.config_file import ConfigError, ConfigLoader
from crawler.suggest import did_you_mean

__all__ = [
    "DEFAULT_CONFIG",
    "Config",
    "ConfigError",
    "Daemon",
    "cli",
    "config_path",
    "load_config",
    "main",
    "setup_logging",
]


# --------------------------------------------------------------------------- config


class Config(StrictModel):
    """The whole configuration file: each package's sections side by side."""

    archive: ArchiveSettings = ArchiveSettings()
    crawl: CrawlSettings = CrawlSettings()
    sources: list[Source] = []
    targets: list[Target] = []
    watches: list[Watch] = []
    term_sets: dict[str, list[str]] = {}
    gazetteer: GazetteerSettings = GazetteerSettings()
    delivery: DeliverySettings = DeliverySettings()
    health: HealthSettings = HealthSettings()
    daemon: DaemonSettings = DaemonSettings()
    dedupe: DedupeSettings = DedupeSettings()
    serve: ServeSettings = ServeSettings()
    cluster: ClusterSettings | None = None  # absent: one process collects (crawler/cluster/)


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
                problems.append(
                    (
                        f"watches[{i}].targets[{j}]",
                        f"no target or tag named {t!r}{did_you_mean(t, routes)}",
                    )
                )
        for j, s in enumerate(w.sources):
            if s not in sources:
                problems.append(
                    (
                        f"watches[{i}].sources[{j}]",
                        f"no source named {s!r}{did_you_mean(s, sources)}",
                    )
                )
        for key in ("query", "exclude"):
            for word in lowercase_operators(getattr(w, key)):
                log.warning(
                    "%s: watches[%d].%s: lower-case %r is searched as a word, not the"
                    ' operator: write %r for the operator, or "%s" to make the word explicit',
                    CONFIG_NOTE,
                    i,
                    key,
                    word,
                    word.upper(),
                    word,
                )
    for j, t in enumerate(cfg.health.targets):
        if t not in routes:
            problems.append(
                (f"health.targets[{j}]", f"no target or tag named {t!r}{did_you_mean(t, routes)}")
            )
    problems.extend(check_targets(cfg.targets))
    if cfg.watches or cfg.term_sets:  # nothing to parse: spare the import (and the gazetteer)
        from alerts.query import check_watches

        problems.extend(check_watches(cfg.watches, cfg.term_sets))
    return problems


CONFIG = ConfigLoader(Config, cross_check)
CONFIG_NOTE = "config warning"
log = logging.getLogger("newswatch.config")
_QUOTED = re.compile(r'"[^"]*"')
_LOWER_OPERATOR = re.compile(r"(?<![\w@*/-])(and|or|not)(?![\w*/-])")


class OncePerCommand(logging.Filter):
    """Lets each distinct log message through once (for the config warnings of one command)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message in self.seen:
            return False
        self.seen.add(message)
        return True


def lowercase_operators(query: str | None) -> list[str]:
    """Lower-case and/or/not outside quotes in a watch query: the language reads them
    as words to find (the watch then needs the word), which is rarely what was meant."""
    if not query:
        return []
    return list(dict.fromkeys(_LOWER_OPERATOR.findall(_QUOTED.sub(" ", query))))


def load_config(path: str | os.PathLike) -> Config:
    """Read, interpolate and validate a config file. Raises ConfigError (file, key,
    problem); writes nothing. No click: library callers and tests use it as is."""
    return CONFIG.load(path)


LOCAL_CONFIG = "newswatch.toml"


def config_path(explicit: str | None = None) -> str:
    """``--config``, else ``$NEWSWATCH_CONFIG``, else ``./newswatch.toml`` when it exists
    (what `newswatch init` writes), else ``data/newswatch.toml``."""
    if explicit or os.environ.get("NEWSWATCH_CONFIG"):
        return explicit or os.environ["NEWSWATCH_CONFIG"]
    return LOCAL_CONFIG if os.path.isfile(LOCAL_CONFIG) else DEFAULT_CONFIG


# --------------------------------------------------------------------------- the CLI


class ArchiveOverride:
    """A config loader whose configs use another archive (``--archive PATH``). Without a
    config file of one's own (no --config, $NEWSWATCH_CONFIG or ./newswatch.toml, and no
    data/newswatch.toml either) the defaults are used: a kept or copied archive needs no
    config to be searched or shown."""

    def __init__(self, loader: ConfigLoader, archive: str, optional: bool):
        self.loader, self.archive, self.optional = loader, archive, optional

    def load(self, path: str | os.PathLike) -> Config:
        """The config at ``path`` (or the defaults, see above) with the archive replaced."""
        default = self.optional and not os.path.isfile(path)
        cfg = Config() if default else self.loader.load(path)
        return cfg.model_copy(update={"archive": ArchiveSettings(path=self.archive)})

    def __getattr__(self, name: str):
        return getattr(self.loader, name)


class DefaultConfig:
    """The loader for a config nobody named (no --config, no $NEWSWATCH_CONFIG): when the
    default file is missing, the message says where it was looked for (relative paths start
    at the working directory) and how to get one."""

    def __init__(self, loader: ConfigLoader):
        self.loader = loader

    def load(self, path: str | os.PathLike) -> Config:
        """The config at ``path``; a missing default file is one message saying what to do."""
        if str(path) in (LOCAL_CONFIG, DEFAULT_CONFIG) and not os.path.isfile(path):
            raise ConfigError(
                str(path),
                [
                    (
                        "",
                        f"file not found: no {LOCAL_CONFIG} or {DEFAULT_CONFIG} in the working"
                        f" directory {os.getcwd()} (relative paths start there). Write one"
                        " with `newswatch init`, or give --config PATH (or $NEWSWATCH_CONFIG)",
                    )
                ],
            )
        return self.loader.load(path)

    def __getattr__(self, name: str):
        return getattr(self.loader, name)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config",
    metavar="PATH",
    default=None,
    help="Config file (default: $NEWSWATCH_CONFIG, else ./newswatch.toml when it exists,"
    f" else {DEFAULT_CONFIG}).",
)
@click.option(
    "--archive",
    "archive",
    metavar="PATH",
    default=None,
    help="Use this archive instead of the config's [archive] path (a kept demo archive, a"
    " backup copy); without a config file, the defaults.",
)
@click.version_option(package_name="newswatch")
@click.pass_context
def cli(ctx: click.Context, config: str | None, archive: str | None) -> None:
    """newswatch: collect news, keep one deduplicated archive, alert once per story."""
    explicit = bool(config or os.environ.get("NEWSWATCH_CONFIG"))
    loader = CONFIG if explicit else DefaultConfig(CONFIG)
    if archive:
        loader = ArchiveOverride(CONFIG, archive, optional=not explicit)
    ctx.obj = Context(config_path(config), loader, open_archive)
    # A command may load its config more than once (`sources add` checks the edited file by
    # loading it): each config warning is shown once per command.
    once = OncePerCommand()
    log.addFilter(once)
    ctx.call_on_close(lambda: log.removeFilter(once))


for command in (
    run, crawl, match, tiers, extract, search, status, dedupe, sources, alerts, demo, backup
):  # fmt: skip
    cli.add_command(command)
cli.add_command(serve)
cli.add_command(init)
sources.add_command(sources_test)  # a crawler group with a command that needs the matcher
cli.add_command(worker)


def main() -> None:
    """Console-script entry point.

    Once the command is done, its output flushed and nothing else running (no other thread,
    no child process), the process ends with ``os._exit``: tearing the interpreter down
    after Scrapy, Twisted and numpy are loaded cost 0.10-0.15 s, a fifth of a
    ``newswatch crawl`` of unchanged feeds. The archive is closed by then; the exit code
    is the command's.
    """
    try:
        cli(prog_name="newswatch")
        code = 0
    except SystemExit as e:
        code = e.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    logging.shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe (`newswatch search x | head`): let Python handle it
        sys.exit(code)
    import threading

    mp = sys.modules.get("multiprocessing")
    if threading.active_count() == 1 and not (mp and mp.active_children()):
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    main()
