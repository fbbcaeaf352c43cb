"""`newswatch init`: write a minimal, commented config, from flags or prompts."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from crawler.cli import exits, output
from crawler.cli.context import Context, country_codes, pass_ctx
from crawler.config_file import ConfigError


@click.command()
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--email", metavar="ADDRESS", help="Send alerts to this address (and from it).")
@click.option("--target", "url", metavar="URL", help="Or send alerts to any Apprise URL.")
@click.option("--smtp", metavar="HOST", help="The mail server, if Apprise cannot tell it.")
@click.option(
    "--country",
    "countries",
    multiple=True,
    metavar="CODE",
    help="A country to watch (AZ or Azerbaijan); repeat, or separate with commas.",
)
@click.option("--query", help="The watch's query (default: trafficking terms).")
@click.option("--watch", "watch", default="my-watch", show_default=True, help="The watch's name.")
@click.option("--no-sources", is_flag=True, help="Start without the default sources.")
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
@pass_ctx
def init(
    obj: Context,
    path: str | None,
    email: str | None,
    url: str | None,
    smtp: str | None,
    countries: tuple[str, ...],
    query: str | None,
    watch: str,
    no_sources: bool,
    force: bool,
) -> None:
    """Write a minimal config to PATH (default ./newswatch.toml, which every command then
    reads): where alerts go, one watch, a few sources. On a terminal it asks for what the
    flags do not say."""
    from alerts.starter import (
        DEFAULT_QUERY,
        DEFAULT_SOURCES,
        PASSWORD_VAR,
        Starter,
        is_email,
        render,
    )

    # PATH, else the --config given before `init`, else ./newswatch.toml
    parent = click.get_current_context().find_root().params.get("config")
    config = Path(path or parent or "newswatch.toml")
    if config.exists() and not force:
        raise click.UsageError(f"{config} exists: choose another PATH, or --force to replace it")
    target = email or url
    ask = sys.stdin.isatty()
    if target is None:
        if not ask:
            raise click.UsageError("say where alerts go: --email ADDRESS or --target URL")
        try:
            target = click.prompt("Your e-mail address (or any Apprise URL)")
            if not countries:
                countries = (
                    click.prompt("Countries to watch (e.g. AZ, Georgia; empty: any)", default=""),
                )
            if query is None:
                query = click.prompt("What to watch for (a query)", default=DEFAULT_QUERY)
        except click.Abort as e:
            _cancelled(e)
    if email and not is_email(email):
        raise click.BadParameter(f"{email!r} is not an e-mail address", param_hint="--email")
    starter = Starter(
        target=target,
        countries=country_codes(countries),
        query=query or DEFAULT_QUERY,
        watch=watch,
        smtp=smtp,
        sources=not no_sources,
    )
    text = render(starter, config)
    if config.parent and not config.parent.exists():
        config.parent.mkdir(parents=True)
    # Check the text before it replaces anything (the password variable may not be set
    # yet: setting it is the next step, so a stand-in is used for the check)
    draft = config.with_name(f".{config.name}.new")
    draft.write_text(text, encoding="utf-8")
    unset = PASSWORD_VAR not in os.environ and is_email(target)
    if unset:
        os.environ[PASSWORD_VAR] = "unset"
    try:
        obj.loader.load(draft)
    except ConfigError as e:
        draft.unlink()
        problems = str(e).split("\n", 1)[-1]
        output.line(f"nothing written: that config would not load:\n{problems}", err=True)
        sys.exit(exits.USAGE)
    finally:
        if unset:
            del os.environ[PASSWORD_VAR]
    draft.replace(config)
    default = config.resolve() == Path("newswatch.toml").resolve()
    flag = "" if default else f" --config {config}"
    n = len(DEFAULT_SOURCES) if starter.sources else 0
    output.line(f"wrote {config}: target 'me', watch {watch!r}, {n} source{'s' * (n != 1)}")
    output.line("next:")
    if unset:
        output.line(f"  export {PASSWORD_VAR}='your mail password'")
    output.line(f"  newswatch{flag} sources add https://example.org/   # a site or feed you read")
    output.line(f"  newswatch{flag} alerts test                       # a test message to you")
    output.line(f"  newswatch{flag} run --once                        # collect, match, alert")


def _cancelled(abort: click.Abort) -> None:
    """Ctrl-C (or the end of input) at a prompt: one line instead of click's "Aborted!",
    and nothing written (the file is only written after the last answer)."""
    # click.prompt turns both into Abort; the KeyboardInterrupt or EOFError is its context
    interrupted = not isinstance(abort.__context__, EOFError)
    output.line("\ninit cancelled; nothing written", err=True)
    sys.exit(exits.INTERRUPTED if interrupted else exits.USAGE)
