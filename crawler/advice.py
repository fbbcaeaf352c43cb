"""What to tell a person when every source of a crawl failed the same way: one line that
says what probably happened and what to check, instead of N identical rows to read."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crawler.words import counted

FAILED = frozenset({"error", "timeout"})
#: error class -> what it most likely means when every source has it
HINTS = {
    "dns": "no network? no source's host name could be resolved: check the connection, DNS or proxy",
    "connection": "no network? no source could be reached: check the connection or the proxy",
    "timeout": "no network, or a very slow one? check the connection ([crawl] timeout says how long to wait)",
    "private_address_refused": "to crawl local or private addresses, set allow_private_addresses = true on the sources or in [crawl]",
    "robots_denied": "the sites' robots.txt forbid these pages (obey_robots = false on a source you may crawl)",
    "http_4xx": "the sites refuse the requests: check the URLs and [crawl] user_agent",
    "http_5xx": "the sites' servers fail: try again later",
    "archive_busy": "another program held the archive's write lock (a `newswatch dedupe --rebuild`?): the items are fetched again within minutes",
}


def _get(result: Any, key: str) -> Any:
    return result.get(key) if isinstance(result, dict) else getattr(result, key, None)


def all_failed_alike(results: Iterable[Any]) -> str | None:
    """One summary line when two or more sources were tried and every one failed with the
    same error class (SourceResult objects or their dicts), else None."""
    results = list(results)
    if len(results) < 2 or any(_get(r, "status") not in FAILED for r in results):
        return None
    classes = {_get(r, "error_class") or _get(r, "status") for r in results}
    if len(classes) != 1:
        return None
    (cls,) = classes
    hint = HINTS.get(cls, "the same problem everywhere: see the first source's message")
    return f"all {counted(len(results), 'source')} failed with {cls}: {hint}"
