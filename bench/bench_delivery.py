"""Benchmark: 1,000 pending alerts delivered to a local SMTP server through Apprise mailto://.

Prints messages/s and peak memory: the growth of the process's RSS during delivery (sampled
every 50 ms) and its max RSS. tracemalloc is not used: it slowed delivery by 30-45% here.
The baseline, measured in the same run, is the same delivery with one worker.
Records the figures through bench/results.py for bench/RESULTS.md. Needs no corpus.

    .venv/bin/python bench/bench_delivery.py [N] [WORKERS]
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import results

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from delivery.newsdata import T0, News  # noqa: E402
from support.smtp import SMTPServer  # noqa: E402

from alerts import outbox  # noqa: E402
from alerts.config import DeliverySettings, Target, Watch  # noqa: E402
from alerts.deliver import deliver_due  # noqa: E402
from alerts.schema import open_archive  # noqa: E402

BENCH = "delivery"
# aiosmtpd logs a warning per AUTH that Session.login_data is deprecated: noise, not a finding
logging.getLogger("mail.log").setLevel(logging.ERROR)


def rss_bytes() -> int:
    """Resident set size of this process now."""
    try:
        import psutil

        return psutil.Process().memory_info().rss
    except ImportError:  # psutil comes with the bench extra; /proc works on Linux without it
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize()


class Watcher(threading.Thread):
    """Samples RSS every 50 ms and prints progress from the mailbox while delivery runs."""

    def __init__(self, smtp: SMTPServer, progress: results.Progress) -> None:
        super().__init__(daemon=True)
        self.smtp, self.progress, self.stop = smtp, progress, threading.Event()
        self.start_rss = self.peak_rss = rss_bytes()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            self.peak_rss = max(self.peak_rss, rss_bytes())
            self.progress(len(self.smtp.mailbox.messages))


def run(n: int, workers: int) -> tuple[float, int, int]:
    """Deliver n alerts with ``workers``: seconds, RSS growth in bytes, messages received."""
    with tempfile.TemporaryDirectory() as tmp, SMTPServer() as smtp:
        db = open_archive(Path(tmp) / "bench.db")
        news = News(db)
        for i in range(n):
            news.add(f"Story {i} <b>about</b> trafficking", at=T0 - timedelta(minutes=i % 60))
        targets = [Target(name="mail", url=smtp.url())]
        watches = [Watch(name="trafficking", query="x", targets=["mail"])]
        outbox.enqueue(db, watches, targets, now=T0)
        watcher = Watcher(smtp, results.Progress(BENCH, f"{workers} worker(s): messages", n))
        watcher.start()
        start = time.perf_counter()
        try:
            stats = deliver_due(db, watches, targets, DeliverySettings(), now=T0, workers=workers)
        finally:
            elapsed = time.perf_counter() - start
            watcher.stop.set()
            watcher.join()
        received = len(smtp.mailbox.messages)
        assert stats.sent == n == received, (stats, received)
        return elapsed, max(rss_bytes(), watcher.peak_rss) - watcher.start_rss, received


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=1000, help="alerts (default 1000)")
    ap.add_argument("workers", nargs="?", type=int, default=8, help="workers (default 8)")
    args = ap.parse_args()
    n, workers = args.n, args.workers
    base_t, base_growth, _ = run(n, 1)
    t, growth, received = run(n, workers)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"alerts: {n}, received by the SMTP server: {received}")
    print(f"1 worker (baseline): {base_t:.2f} s, {n / base_t:.0f} messages/s")
    print(f"{workers} workers: {t:.2f} s, {n / t:.0f} messages/s ({base_t / t:.2f}x baseline)")
    print(
        f"RSS growth during delivery: {growth / 1e6:.1f} MB ({base_growth / 1e6:.1f} MB with "
        f"1 worker, which ran first); process max RSS {rss:.0f} MB"
    )
    note = f"{n} alerts, {workers} workers"
    results.record(BENCH, "messages/s", n / t, "messages/s", baseline=n / base_t,
                   baseline_label="1 worker", note=note)  # fmt: skip
    results.record(BENCH, "RSS growth during delivery", growth / 1e6, "MB", better="lower",
                   note=f"{workers} workers, after the 1-worker run")  # fmt: skip
    results.record(BENCH, "process max RSS", rss, "MB", better="lower")
    return 0


if __name__ == "__main__":
    sys.exit(main())
