"""Sending one delivery pass's messages: a loop per target that starts with the first message
built, while the pass goes on building the others, and records each result as it comes.

The caller claims every row (``sending``) before the first message is handed over, builds
the messages in order and hands each to :meth:`SendLoops.put`; the archive connection is
shared, so the caller holds :attr:`SendLoops.lock` while it uses it. A message is marked
``sent`` right after its target accepted it, so a crash repeats at most
``concurrency_per_target`` messages per target, as before the loops overlapped the building.
Measured on the peer bench (5,300 one-story mails, one target, one at a time): building
them before the first send left the mail server and the sending thread idle for 2-3 s.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from queue import SimpleQueue
from typing import Any

from sqlite_utils import Database

from alerts import outbox
from alerts.config import DeliverySettings
from alerts.targets import Sender

log = logging.getLogger("alerts.deliver")
_END = object()  # one per loop: no more messages for this target


class SendLoops:
    """Per-target send loops fed one message at a time; use as a context manager (leaving
    it waits for every loop, also when the building failed)."""

    def __init__(
        self,
        db: Database,
        delivery: DeliverySettings,
        stats: Any,
        now: datetime,
        planned: Mapping[str, int],
        workers: int,
    ):
        """``planned``: how many messages each target may get (an upper bound: a message
        that cannot be built is never put)."""
        self.db, self.delivery, self.stats, self.now = db, delivery, stats, now
        self.lock = threading.Lock()  # the archive connection: building and recording
        per_target = delivery.concurrency_per_target
        self.queues: dict[str, SimpleQueue] = {t: SimpleQueue() for t in planned}
        self.loops = {t: min(per_target, n) for t, n in planned.items() if n}
        self.pool = ThreadPoolExecutor(
            max_workers=max(1, min(sum(self.loops.values()), workers * per_target))
        )
        self.futures = [
            self.pool.submit(self._send_all, self.queues[t])
            for t, n in self.loops.items()
            for _ in range(n)
        ]

    def put(self, m: Any) -> None:
        """Hand over one built message (its rows claimed) to its target's loop."""
        self.queues[m.target.name].put(m)

    def __enter__(self) -> SendLoops:
        return self

    def __exit__(self, *exc) -> None:
        for t, n in self.loops.items():
            for _ in range(n):
                self.queues[t].put(_END)
        try:
            for future in self.futures:
                future.result()
        finally:
            self.pool.shutdown(wait=True)

    def _send_all(self, queue: SimpleQueue) -> None:
        # A target's messages go out through ``concurrency_per_target`` of these loops, each
        # message marked as soon as it is sent; targets are served in parallel. An email
        # target's loop keeps one SMTP session for the pass (see alerts/mail_session.py).
        with Sender() as sender:
            while (m := queue.get()) is not _END:
                result = sender.send(m.target, m.subject, m.body, m.fmt)
                with self.lock:
                    self._record(m, result)

    def _record(self, m: Any, result) -> None:
        stats = self.stats
        if result.ok:
            counts = (m.counts or {m.watch: len(m.ids)}).items()
            outbox.mark_sent(
                self.db, m.ids, self.now, [(w, m.target.name, m.kind, n) for w, n in counts]
            )
            stats.messages += 1
            stats.sent += len(m.ids)
        else:
            error = result.error or "unknown error"
            n_failed = outbox.mark_failure(self.db, m.ids, error, self.now, self.delivery)
            stats.failed += n_failed
            stats.retrying += len(m.ids) - n_failed
            stats.errors.append(f"{m.target.name}: {error}")
            log.warning("sending to %s failed: %s", m.target.name, error)
