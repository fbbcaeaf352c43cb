"""What every command shares: the config path, the config loaded on first use, the archive,
and the ``--config`` option that may follow any sub-command."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click
from sqlite_utils import Database

from crawler import archive
from crawler.config_file import ConfigError, ConfigLoader

DEFAULT_CONFIG = "data/newswatch.toml"
CONFIG_HELP = f"Config file (default: $NEWSWATCH_CONFIG, else {DEFAULT_CONFIG})."


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
                sys.exit(2)
        return self._config

    def open_archive(self):
        """The archive the config names; a path that cannot be opened is one clean error."""
        path = self.config.archive.path
        try:
            return self.opener(path)
        except Exception as e:  # the archive path is user input: say what went wrong
            raise click.ClickException(f"cannot open archive {path}: {e}") from e


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
