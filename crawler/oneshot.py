"""Running one coroutine on the asyncio reactor in a one-shot CLI process, and Ctrl-C there.

The reactor runs once per process, without Twisted's own signal handlers (they stop the
reactor with the work half done, and Ctrl-C outside them leaves ``reactor.run`` by a
KeyboardInterrupt that skips the reactor's shutdown: its thread pool stays alive and the
process with it). Ours: the first SIGINT or SIGTERM asks the work to stop, a second one
exits at once with 128 + the signal number. `newswatch crawl` and the probes of
`sources add`, `sources test` and `sources discover` share this.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any


class Interrupted(Exception):
    """The work was stopped by a signal. ``signum`` is the signal (the exit code is
    128 + signum: 130 for Ctrl-C, 143 for SIGTERM); ``result`` what the work returned
    when it could finish after the stop, else None."""

    def __init__(self, signum: int, result: Any = None):
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum
        self.result = result

    @property
    def exit_code(self) -> int:
        """128 + the signal number."""
        return 128 + self.signum


def run_blocking(
    work: Callable[[asyncio.Event], Awaitable[Any]],
    *,
    graceful: bool = True,
    stopping: str = "stopping",
) -> Any:
    """Install the asyncio reactor, run ``work(stop)`` on it until it ends, stop the
    reactor, and return what the work returned (its exception is raised).

    On the first SIGINT or SIGTERM, ``stopping`` is printed and the ``stop`` event set.
    ``graceful``: the work is expected to end soon once ``stop`` is set (what it read is
    kept); it is awaited, then :class:`Interrupted` is raised with its result. Otherwise
    (a probe that keeps nothing) the reactor is stopped at once, its shutdown run (its
    thread pool ends), and :class:`Interrupted` raised. A second signal exits the process
    at once with 128 + the signal number.
    """
    from crawler.runner import install_asyncio_reactor

    install_asyncio_reactor()
    from scrapy.utils.defer import deferred_from_coro
    from twisted.internet import reactor

    out: dict = {}
    seen: list[int] = []

    def on_signal(signum: int, stop: asyncio.Event) -> None:
        name = signal.Signals(signum).name
        if seen:  # the second one: the user does not want to wait
            print(f"\n{name} again: exiting now", file=sys.stderr, flush=True)
            os._exit(128 + signum)
        seen.append(signum)
        print(f"\n{name}: {stopping} (again to exit at once)", file=sys.stderr, flush=True)
        stop.set()
        if not graceful and reactor.running:
            reactor.stop()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, on_signal, signum, stop)
        out["result"] = await work(stop)

    def finished(result):
        out["failure"] = result if hasattr(result, "raiseException") else None
        if reactor.running:
            reactor.stop()

    reactor.callWhenRunning(lambda: deferred_from_coro(main()).addBoth(finished))
    reactor.run(installSignalHandlers=False)  # ours, above
    if seen:
        raise Interrupted(seen[0], out.get("result"))
    if out.get("failure") is not None:
        out["failure"].raiseException()
    return out["result"]
