"""The starter config `newswatch init` writes: minimal, commented, valid as written.

One target (an e-mail address or any Apprise URL), one watch, a few public sources, the
archive beside the config. Values are written as TOML strings by tomlkit, so a quote or a
backslash in a query cannot break the file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import tomlkit

DEFAULT_QUERY = (
    '"human trafficking" OR "trafficking in persons" OR "forced labour" OR "forced labor"'
)
PASSWORD_VAR = "NEWSWATCH_SMTP_PASSWORD"
#: a few public feeds that carry trafficking news (name, URL)
DEFAULT_SOURCES = (
    ("un-news", "https://news.un.org/feed/subscribe/en/news/all/rss.xml"),
    ("reliefweb-updates", "https://reliefweb.int/updates/rss.xml"),
    ("bbc-world", "https://feeds.bbci.co.uk/news/world/rss.xml"),
)
_EMAIL = re.compile(r"^[^@\s/:]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


@dataclass
class Starter:
    """What `newswatch init` asked for."""

    target: str  # an e-mail address or an Apprise URL
    countries: list[str] = field(default_factory=list)
    query: str = DEFAULT_QUERY
    watch: str = "my-watch"
    smtp: str | None = None  # the mail server, when Apprise cannot guess it from the address
    sources: bool = True


def is_email(text: str) -> bool:
    """Whether ``text`` is an e-mail address (not an Apprise URL)."""
    return bool(_EMAIL.match(text.strip()))


def email_url(address: str, smtp: str | None = None) -> str:
    """The Apprise URL that mails ``address`` from itself, logging in as its owner with the
    password from ``$NEWSWATCH_SMTP_PASSWORD``; Apprise knows the servers of the large mail
    providers from the domain, ``smtp`` names any other."""
    user, domain = address.strip().split("@", 1)
    url = f"mailtos://{user}:${{{PASSWORD_VAR}}}@{domain}?to={address.strip()}"
    return url + (f"&smtp={smtp}" if smtp else "")


def archive_path(config: Path) -> str:
    """The archive beside the config, written relative to the working directory when the
    config is below it (relative paths are read from the working directory)."""
    db = config.parent / "newswatch.db"
    rel = os.path.relpath(db.absolute())
    return rel if not rel.startswith("..") else str(db.absolute())


def _s(value: str) -> str:
    # a literal string ('...') reads as typed when it can be one: no escaped quotes
    literal = "'" not in value and "\n" not in value
    return tomlkit.string(value, literal=literal).as_string()


def render(starter: Starter, config: Path) -> str:
    """The config file's text."""
    email = is_email(starter.target)
    url = email_url(starter.target, starter.smtp) if email else starter.target.strip()
    out = [
        "# newswatch config written by `newswatch init`. Every key: README.md",
        '# ("Configuration reference"). ${VAR} in a string is read from the environment.',
        "",
        "[archive]",
        f"path = {_s(archive_path(config))}   # relative paths start at the working directory",
        "",
        "# --- Where alerts go ------------------------------------------------------------",
        "# Prove it with `newswatch alerts test`. Any Apprise URL works (Slack, Matrix, ntfy...):",
        "# https://github.com/caronc/apprise/wiki",
    ]
    if email:
        out += [
            f"# The password is read from ${PASSWORD_VAR} (export it; keep it out of this file).",
            "# Apprise knows the servers of Gmail, Outlook, Yahoo, Fastmail and others; for",
            "# another provider add &smtp=mail.example.org to the URL.",
        ]
    out += [
        "[[targets]]",
        'name = "me"',
        f"url = {_s(url)}",
        "",
        "# --- What to watch ----------------------------------------------------------------",
        '# query: words, "quoted phrases", AND / OR / NOT in capitals, parentheses,',
        "# NEAR/n (within n words); countries: ISO codes (AZ), or leave it empty for any.",
        "[[watches]]",
        f"name = {_s(starter.watch)}",
        f"countries = [{', '.join(_s(c) for c in starter.countries)}]",
        f"query = {_s(starter.query)}",
        'targets = ["me"]',
        "",
        "# --- Where news comes from ------------------------------------------------------",
        "# Add one with `newswatch sources add URL` (it finds the feed and tests it).",
    ]
    if starter.sources:
        for name, feed in DEFAULT_SOURCES:
            out += ["", "[[sources]]", f"name = {_s(name)}", 'kind = "feed"', f"url = {_s(feed)}"]
    return "\n".join(out) + "\n"
