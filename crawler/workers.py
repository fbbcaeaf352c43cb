"""CPU-heavy parsing off the reactor thread: feeds (feedparser is pure Python) and article
pages (trafilatura) go to a process pool, so downloads, the pipeline and the archive keep
going on the reactor while another core parses.

Threads would not help: the GIL lets one thread run Python at a time. The pool starts on
first use (a crawl whose sources all answer 304 never starts it), with the ``spawn``
method (forking a process that runs a reactor, SQLite and threads is unsafe), and is
closed at the end of the crawl unless the caller owns it. Small documents are parsed
in place: shipping them to another process costs more than parsing them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Below this many bytes a document is parsed on the reactor thread (a feed of this size
# parses in a few milliseconds; sending it to the pool and back costs about as much).
MIN_BYTES = 8_192


def default_workers() -> int:
    """One core stays with the reactor (downloads, pipeline, archive); the others parse."""
    return max(1, min(4, (os.cpu_count() or 1) - 1))


@contextlib.contextmanager
def _main_script_hidden() -> Iterator[None]:
    """``spawn`` re-runs the parent's main script in each new worker (for ``newswatch`` that
    is the whole CLI: its imports cost a second and about 100 MB); a worker needs only the
    parsers, so the script is hidden while workers start (they start inside ``submit``)."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


@contextlib.contextmanager
def _spawning() -> Iterator[None]:
    """Around a submit (which may start a worker): the parent's main script hidden (see
    :func:`_main_script_hidden`), and SIGINT ignored, so that a new worker starts with it
    ignored (an ignored signal stays ignored across exec; the signal mask does not reach a
    spawned worker): a Ctrl-C while a worker is still importing would otherwise end it
    with a traceback on the terminal. SIGINT is blocked meanwhile, so one that comes in
    that moment reaches the parent (Linux keeps a blocked signal pending even when
    ignored) once its handler is back. Only the main thread can change a handler; from
    another thread the worker ignores SIGINT once started, as before."""
    try:
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    except (AttributeError, OSError):
        old_mask = None
    swapped = threading.current_thread() is threading.main_thread()
    if swapped:
        old_handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with _main_script_hidden():
            yield
    finally:
        if swapped:
            # None: a handler set outside Python, which getsignal cannot give back
            signal.signal(signal.SIGINT, signal.SIG_DFL if old_handler is None else old_handler)
        if old_mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)


# How often a worker looks whether its parent is still there.
PARENT_POLL_S = 0.5


def _exit_with_parent(parent: int) -> None:
    """End this worker as soon as ``parent`` is no longer its parent: a daemon killed with
    SIGKILL runs no clean-up, and its workers (and, through them, multiprocessing's
    resource tracker, which ends when the last holder of its pipe does) would otherwise
    live on. A thread polling ``os.getppid()``, not PR_SET_PDEATHSIG: that fires when the
    parent *thread* that started the worker ends, and the pool may start workers from
    any thread."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


def _start_worker(started: Any, parent: int) -> None:
    """Runs once in each new worker: watch the parent, report its pid, import the parsers
    (not in the first task)."""
    # Ctrl-C reaches the whole process group: the parent stops the crawl and closes the
    # pool; a worker that took it would die mid-task with a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    started.put(os.getpid())
    import crawler.feeds  # noqa: F401


def _ready() -> int:
    """The first task of a new pool: done once a worker has started and imported the
    parsers."""
    return os.getpid()


class ParseWorkers:
    """A lazily started process pool for parsing; ``await workers.run(fn, data, ...)``.

    ``fn`` must be a module-level function whose arguments and result can be pickled.
    ``min_bytes`` is the size below which ``data`` is parsed in place (0: always in the
    pool). If the pool breaks (a worker killed), parsing carries on in place.

    With ``parse_while_starting``, documents that come while the pool's first worker is
    still starting (a new Python process importing the parsers: about a second) are parsed
    in place: at the start of a crawl the calling process has nothing else to do yet.
    """

    def __init__(
        self,
        max_workers: int | None = None,
        *,
        min_bytes: int = MIN_BYTES,
        parse_while_starting: bool = False,
    ):
        self.max_workers = max_workers or default_workers()
        self.min_bytes = min_bytes
        self.parse_while_starting = parse_while_starting
        self._ready: asyncio.Future | None = None  # the first task of the pool (_ready)
        self._pool: ProcessPoolExecutor | None = None
        self._started: Any = None  # a queue the workers put their pids on as they start
        self._pids: set[int] = set()
        self._broken = False
        self.offloaded = 0  # how many calls ran in the pool (for tests and benchmarks)

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._started = context.SimpleQueue()
            self._pids = set()
            self._pool = ProcessPoolExecutor(
                self.max_workers,
                mp_context=context,
                initializer=_start_worker,
                initargs=(self._started, os.getpid()),
            )
        return self._pool

    async def run(self, fn: Callable[..., T], data: bytes, *args: Any, **kwargs: Any) -> T:
        """``fn(data, *args, **kwargs)``, in the pool when ``data`` is large enough."""
        if self._broken or len(data) < self.min_bytes:
            return fn(data, *args, **kwargs)
        loop = asyncio.get_running_loop()
        if self.parse_while_starting:
            if self._pool is None:
                with _spawning():
                    ready = self._executor().submit(_ready)
                self._ready = asyncio.wrap_future(ready, loop=loop)
            if self._ready is not None and not self._ready.done():
                return fn(data, *args, **kwargs)
        try:
            # Once every worker has told its pid, a submit starts no process: no need to
            # touch SIGINT then (a Ctrl-C meanwhile could go to another thread, ignored).
            starting = self._pool is None or len(self.pids) < self.max_workers
            with _spawning() if starting else contextlib.nullcontext():
                future = self._executor().submit(fn, data, *args, **kwargs)
            result = await asyncio.wrap_future(future, loop=loop)
        except BrokenProcessPool:
            logger.warning("the parse worker process died: parsing in place from now on")
            self._broken = True
            await self.close()
            return fn(data, *args, **kwargs)
        self.offloaded += 1
        return result

    @property
    def pids(self) -> list[int]:
        """Process ids of the workers started so far (none before the first use or after
        :meth:`close`)."""
        if self._pool is None:
            return []
        while not self._started.empty():
            self._pids.add(self._started.get())
        return sorted(self._pids)

    async def close(self) -> None:
        """Stop the worker processes. Waits in a thread, so the reactor is not blocked
        when a worker is still busy (a crawl stopped mid-parse)."""
        pool, self._pool = self._pool, None
        ready, self._ready = self._ready, None
        if ready is not None and ready.done() and not ready.cancelled():
            ready.exception()  # a pool that broke while starting: already handled in run
        started, self._started = self._started, None
        self._pids = set()
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
        if started is not None:
            started.close()
