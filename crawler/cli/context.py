"""What every command shares: the config path, the config loaded on first use, the archive,
and the ``--config`` option that may follow any sub-command."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from typing import Any

import click
from sqlite_utils import Database

from crawler import archive
from crawler.archive_access import ArchiveError, explain, is_archive_error
from crawler.cli import exits
from crawler.config_file import ConfigError, ConfigLoader
from crawler.oneshot import Interrupted

DEFAULT_CONFIG = "data/newswatch.toml"
CONFIG_HELP = (
    "Config file (default: $NEWSWATCH_CONFIG, else ./newswatch.toml when it exists,"
    f" else {DEFAULT_CONFIG})."
)


def country_codes(values: tuple[str, ...], param_hint: str = "--country") -> list[str]:
    """``--country`` values (codes or English names, repeated or comma-separated) as ISO
    codes, each once; an unknown one is a usage error (exit 2) with a suggestion."""
    from crawler.suggest import country_code

    codes = []
    for value in (v.strip() for raw in values for v in raw.split(",")):
        if not value:
            continue
        code = country_code(value)
        if code is None:
            raise click.BadParameter(
                f"{value!r} is no country code or English country name (e.g. AZ, Azerbaijan)",
                param_hint=param_hint,
            )
        codes.append(code)
    return list(dict.fromkeys(codes))


class Context:
    """The click context object: the config path, loaded on first use by ``loader``, and
    ``opener`` to open the archive (the composition root passes one that brings every
    package's tables up to date).

    A bad config is the one place a library error becomes an exit code here: its message
    on stderr, exit 2 (the contract for every command)."""

    def __init__(
        self,
        path: str,
        loader: ConfigLoader,
        opener: Callable[[str], Database] = archive.open_archive,
    ):
        self.path = path
        self.loader = loader
        self.opener = opener
        self._config: Any = None

    @property
    def config(self) -> Any:
        """The validated config; on a bad file, the message and exit code 2."""
        if self._config is None:
            try:
                self._config = self.loader.load(self.path)
            except ConfigError as e:
                click.echo(str(e), err=True)
                sys.exit(exits.USAGE)
        return self._config

    def open_archive(self, *, create: bool = False):
        """The archive the config names. Read commands never create it (nor its folder):
        only a command that collects passes ``create``. A path that cannot be used is one
        message saying why and what to do, exit code 4."""
        path = self.config.archive.path
        try:
            return self.opener(path, create=create)
        except (ArchiveError, OSError, sqlite3.Error) as e:
            raise ArchiveProblem(explain(path, e)) from None


class ArchiveProblem(click.ClickException):
    """An archive that cannot be used (missing, permission, damaged), as the CLI says it."""

    exit_code = exits.ARCHIVE

    def __init__(self, error: ArchiveError):
        super().__init__(str(error))
        self.error = error


class BadInput(click.ClickException):
    """Input a command cannot read (a file, its lines): the message, exit code 2."""

    exit_code = exits.USAGE


class Group(click.Group):
    """The `newswatch` group: an archive error that escapes any command (damage found
    half-way through a search, a lock file in a read-only folder) is the same one message
    and exit code 4 as when opening, never a traceback; a one-shot run stopped by a signal
    exits 128 + its number."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except Interrupted as e:  # Ctrl-C in a one-shot run (crawler/oneshot.py): 130, 143
            click.echo(f"{e}: stopped", err=True)
            raise click.exceptions.Exit(e.exit_code) from None
        except KeyboardInterrupt:  # Ctrl-C elsewhere (reading input, a search): 130, not 1
            click.echo("\ninterrupted by SIGINT: stopped", err=True)
            raise click.exceptions.Exit(exits.INTERRUPTED) from None
        except (OSError, sqlite3.Error, ArchiveError) as e:
            obj = ctx.find_object(Context)
            if not is_archive_error(e) or obj is None or obj._config is None:
                raise
            path = str(obj._config.archive.path)
            if isinstance(e, OSError) and not str(e.filename or "").startswith(path):
                raise  # some other file: not the archive's problem
            raise ArchiveProblem(explain(path, e)) from None


pass_ctx = click.make_pass_decorator(Context)


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
        help=CONFIG_HELP,
    )(f)


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON Lines (one object per line)."
)
