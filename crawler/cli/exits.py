"""The exit codes of every `newswatch` command, in one place (the README's table is this one).

| code | meaning |
|---|---|
| 0 | done: everything asked for worked (a source answering "not modified" worked) |
| 1 | partial failure: some of the work failed and the rest was done (some sources failed, some alerts could not be delivered, some targets failed their test, some alert IDs do not exist, some pages given to `extract` failed) |
| 2 | usage: a bad option, argument, input file or config file; nothing was done |
| 3 | total failure: nothing asked for worked (every source failed, every target failed its test, no alert ID exists, no page given to `extract` could be read) |
| 4 | archive: missing (read commands never create one), not readable or writable, damaged, or held by another daemon |
| 130 | interrupted by Ctrl-C (SIGINT); 143 for SIGTERM to a one-shot command (the daemon stops cleanly with 0) |
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

OK = 0
PARTIAL = 1
USAGE = 2
FAILED = 3
ARCHIVE = 4
INTERRUPTED = 130
TERMINATED = 143

#: Source results that count as a failed source.
FAILED_STATUSES = frozenset({"error", "timeout"})


def outcome(done: int, failed: int) -> int:
    """The code for ``done`` parts that worked and ``failed`` that did not: 0, 1 or 3."""
    if not failed:
        return OK
    return FAILED if not done else PARTIAL


def _status(result: Any) -> str | None:
    if isinstance(result, Mapping):
        return result.get("status")
    return getattr(result, "status", None)


def crawl_code(results: Iterable[Any]) -> int:
    """`crawl`: 0 when every source worked, 1 when some failed, 3 when all failed.

    An interrupted crawl is the interrupt's code, decided by whoever caught the signal."""
    statuses = [_status(r) for r in results]
    failed = sum(s in FAILED_STATUSES for s in statuses)
    return outcome(len(statuses) - failed, failed)


def cycle_code(summary: Mapping[str, Any]) -> int:
    """`run --once`: the crawl's code (0, 1, 3), and at least 1 when any alert failed to go
    out in this cycle (retrying or failed). ``summary`` is what the cycle reports: its
    ``sources`` (one result each) and ``delivery`` (the delivery stage's counts)."""
    code = crawl_code(summary.get("sources", []))
    delivery = summary.get("delivery") or {}
    undelivered = (delivery.get("retrying") or 0) + (delivery.get("failed") or 0)
    if undelivered:
        code = max(code, PARTIAL)
        if not delivery.get("sent") and not summary.get("sources") and code == PARTIAL:
            code = FAILED  # there was only delivery to do, and none of it worked
    return code
