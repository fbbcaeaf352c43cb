"""Benchmark: 1,000 pending alerts delivered to a local SMTP server through Apprise mailto://.

Prints messages/s and peak memory (tracemalloc for Python allocations, ru_maxrss for the
process). Run: .venv/bin/python bench/bench_delivery.py [N] [WORKERS]
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from delivery.newsdata import T0, News  # noqa: E402
from support.smtp import SMTPServer  # noqa: E402

from alerts import outbox  # noqa: E402
from alerts.config import DeliverySettings, Target, Watch  # noqa: E402
from alerts.deliver import deliver_due  # noqa: E402
from crawler.archive import open_archive  # noqa: E402


def run(n: int, workers: int) -> tuple[float, int, int]:
    with tempfile.TemporaryDirectory() as tmp, SMTPServer() as smtp:
        db = open_archive(Path(tmp) / "bench.db")
        news = News(db)
        for i in range(n):
            news.add(f"Story {i} <b>about</b> trafficking", at=T0 - timedelta(minutes=i % 60))
        targets = [Target(name="mail", url=smtp.url())]
        watches = [Watch(name="trafficking", query="x", targets=["mail"])]
        outbox.enqueue(db, watches, targets, now=T0)
        tracemalloc.start()
        start = time.perf_counter()
        stats = deliver_due(db, watches, targets, DeliverySettings(), now=T0, workers=workers)
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        received = len(smtp.mailbox.messages)
        assert stats.sent == n == received, (stats, received)
        return elapsed, peak, received


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    base_t, _, _ = run(n, 1)
    t, peak, received = run(n, workers)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"alerts: {n}, received by the SMTP server: {received}")
    print(f"1 worker (baseline): {base_t:.2f} s, {n / base_t:.0f} messages/s")
    print(f"{workers} workers: {t:.2f} s, {n / t:.0f} messages/s ({base_t / t:.2f}x baseline)")
    print(
        f"peak Python allocations during delivery: {peak / 1e6:.1f} MB; process max RSS {rss:.0f} MB"
    )


if __name__ == "__main__":
    main()
