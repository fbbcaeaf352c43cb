"""`newswatch extract`: title, text, date and language from saved pages or from http(s)
addresses, as JSON Lines."""

from __future__ import annotations

import os
import re
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import click

from crawler.cli import exits, output
from crawler.cli.context import DEFAULT_CONFIG, Context, config_option, pass_ctx
from crawler.config import CrawlSettings

_HTTP = re.compile(r"^https?://[^/\s]+", re.I)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)


def _split(pages: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The http(s) addresses and the saved files among ``pages``; anything else is a usage
    error naming it."""
    urls, files = [], []
    for page in pages:
        if _HTTP.match(page):
            try:  # a port out of range, a broken [IPv6] address: Scrapy refuses the request
                parts = urlsplit(page)
                parts.port  # noqa: B018 - read to check it
            except ValueError as e:
                raise click.BadParameter(
                    f"{page!r} is not a valid address ({e})", param_hint="PAGE"
                ) from None
            if not parts.hostname or any(c.isspace() for c in parts.hostname):
                raise click.BadParameter(f"{page!r} names no valid host", param_hint="PAGE")
            urls.append(page)
        elif _SCHEME.match(page):
            raise click.BadParameter(
                f"{page!r}: only http:// and https:// addresses are fetched", param_hint="PAGE"
            )
        elif not Path(page).is_file():
            raise click.BadParameter(
                f"{page!r} is no file (nor an http:// or https:// address)", param_hint="PAGE"
            )
        else:
            files.append(page)
    return urls, files


def _masked(text: str, url: str) -> str:
    """``text`` with the password of ``url`` (``user:password@host``) shown as ``***``:
    secrets are never printed, and error messages quote the address as given."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return text
    return text.replace(password, "***") if password else text


@click.command()
@click.argument("pages", nargs=-1, required=True, metavar="FILE|URL...")
@click.option(
    "--url", metavar="URL", help="The address saved FILEs came from (addresses name their own)."
)
@click.option(
    "--allow-private-addresses",
    "--allow-private",
    "allow_private",
    is_flag=True,
    help="Allow fetching from a private or local address (as [crawl] allow_private_addresses).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    metavar="SECONDS",
    help="Give up on the addresses after this long, retries included (default: [crawl]"
    " download_timeout per try, 30 s).",
)
@config_option
@pass_ctx
def extract(
    obj: Context,
    pages: tuple[str, ...],
    url: str | None,
    allow_private: bool,
    timeout: float | None,
) -> None:
    """Extract title, text, date and language from saved pages (FILE) or web pages (URL);
    print one JSON object per page: {url, title, text, published_at, author, language}.

    An address is fetched once, like a crawl fetches (robots.txt, the size limit, and no
    private or local address unless allowed); nothing is stored. Exit code 0 when every
    page was read, 1 when some could not be fetched, 3 when none could."""
    from crawler.extract import extract_article

    urls, files = _split(pages)
    for file in files:
        output.json_line(extract_article(Path(file).read_bytes(), url=url))
    if not urls:
        return
    from crawler.fetch_page import run_fetch_pages

    crawl = _crawl_settings(obj)
    update: dict = {}
    if allow_private:
        update["allow_private_addresses"] = True
    if timeout is not None:
        # the whole fetch, retries included, not only each try
        update["download_timeout"] = update["crawl_timeout"] = timedelta(seconds=timeout)
    if update:
        crawl = crawl.model_copy(update=update)
    failed = 0
    for page in run_fetch_pages(urls, crawl):
        if page.ok:
            article = extract_article(page.body, url=page.final_url or page.url)
            output.json_line({**article, "url": _masked(article["url"] or "", page.url) or None})
            continue
        failed += 1
        hint = ""
        if page.error_class == "private_address_refused":
            hint = "; --allow-private-addresses allows it for this command"
        output.line(_masked(f"cannot extract {page.url}: {page.error}{hint}", page.url), err=True)
    sys.exit(exits.outcome(len(pages) - failed, failed))


def _crawl_settings(obj: Context) -> CrawlSettings:
    """The config's [crawl] settings; without any config file (none named, no ./newswatch.toml
    and no data/newswatch.toml here), the defaults: fetching a page needs no config."""
    if obj.path == DEFAULT_CONFIG and not os.path.isfile(obj.path):
        return CrawlSettings()
    return obj.config.crawl
