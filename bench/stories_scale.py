"""Story assignment at scale, for ``bench_stories.py --scale N``: N synthetic articles (the
generator of ``bench_dedupe.py``: originals drawn from the sentences of ../shared/corpora/
real-feeds, 10% reprints) stored through ``crawler.store.store_items`` and one
``StoryAssigner`` with the shipped defaults, 500 articles per write transaction.

Prints articles/s by wall clock and by CPU time of this process (on a shared machine the
wall clock measures the neighbours too), the CPU per article of each level (reprint, event,
the rest of storing), peak RSS and the event index's own size. Baseline in the same
process: the same path with the event level off (``event_threshold = 0``) over the first
``baseline`` articles. The CPU split is measured by timing the assigner's calls into the
event level (``EventIndex.vectors``, ``EventLinker.find``, ``add``) and the whole
``assign_stored``.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from collections import Counter
from pathlib import Path

import results
from bench_dedupe import item, synthesize

from crawler import archive
from crawler.config import DedupeSettings
from crawler.event_stories import EventLinker
from crawler.events import EventIndex
from crawler.store import store_items
from crawler.stories import StoryAssigner

BENCH = "stories"


class _Clock:
    """CPU seconds spent inside some methods of a class, by label (process time)."""

    def __init__(self) -> None:
        self.spent: Counter = Counter()
        self._undo: list = []

    def wrap(self, cls, name: str, label: str) -> None:
        original = getattr(cls, name)
        spent = self.spent

        def timed(*args, **kwargs):
            start = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                spent[label] += time.process_time() - start

        setattr(cls, name, timed)
        self._undo.append((cls, name, original))

    def restore(self) -> None:
        for cls, name, original in reversed(self._undo):
            setattr(cls, name, original)
        self._undo.clear()


def _store(articles: list[dict], settings: DedupeSettings, path: Path) -> dict:
    db = archive.open_archive(path)
    clock = _Clock()
    # the store hands each new article to assign_stored (with its text prepared there, as
    # nothing here prepared it in a parse worker); the writer builds event vectors through
    # EventIndex.vectors
    clock.wrap(StoryAssigner, "assign_stored", "assign")
    for name in ("find", "add"):
        clock.wrap(EventLinker, name, "event")
    clock.wrap(EventIndex, "vectors", "event")
    assigner = StoryAssigner(db, settings)
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        for start in range(0, len(articles), 500):
            with archive.write(db):
                for a in articles[start : start + 500]:
                    store_items(db, f"site{a['i'] % 50}", [item(a)], assigner)
    finally:
        clock.restore()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    events = assigner.events.index if assigner.events.enabled else None
    stories = db.execute("SELECT count(*) FROM stories").fetchone()[0]
    db.close()
    n = len(articles)
    return {
        "n": n,
        "wall_rate": n / wall,
        "cpu_rate": n / cpu,
        "cpu_ms": 1000 * cpu / n,
        "assign_ms": 1000 * clock.spent["assign"] / n,
        "event_ms": 1000 * clock.spent["event"] / n,
        "event_mb": events.nbytes / 1e6 if events is not None else 0.0,
        "event_articles": len(events) if events is not None else 0,
        "stories": stories,
    }


def _line(label: str, r: dict) -> str:
    reprint = r["assign_ms"] - r["event_ms"]
    return (
        f"{label}: {r['n']:,} articles, {r['wall_rate']:,.0f} articles/s wall, "
        f"{r['cpu_rate']:,.0f} articles/s CPU ({r['cpu_ms']:.3f} ms CPU an article: story "
        f"assignment {r['assign_ms']:.3f} = event level {r['event_ms']:.3f} + reprint level "
        f"and story rows {reprint:.3f}; storing the rest); {r['stories']:,} stories"
    )


def run_scale(n: int, baseline: int) -> int:
    """Store n synthetic articles with the shipped defaults; print and record the figures."""
    corpus = results.corpus("real-feeds")
    if not corpus.is_dir():
        return results.skip(BENCH, f"{corpus} not found (the shared corpora are not in a clone)")
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    articles = synthesize(n)
    settings = DedupeSettings()
    with tempfile.TemporaryDirectory() as tmp:
        base = _store(
            articles[: min(baseline, n)], DedupeSettings(event_threshold=0), Path(tmp) / "b.db"
        )
        print(_line("baseline, reprint level only", base), flush=True)
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        ours = _store(articles, settings, Path(tmp) / "s.db")
        rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(_line(f"shipped defaults (event_threshold {settings.event_threshold})", ours))
    print(
        f"event index: {ours['event_articles']:,} articles in about {ours['event_mb']:.0f} MB; "
        f"peak RSS {rss1:.0f} MB (before the run {rss0:.0f} MB)"
    )
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    note = f"{n:,} synthetic articles, both levels, CPU time of the storing process"
    results.record(
        BENCH,
        "story assignment at scale (with storage)",
        ours["cpu_rate"],
        "articles/s",
        baseline=base["cpu_rate"],
        baseline_label=f"reprint level only, first {base['n']:,}",
        target=1000,
        note=note,
    )
    results.record(
        BENCH, "event level CPU an article", ours["event_ms"], "ms", better="lower", note=note
    )
    results.record(BENCH, "event index memory", ours["event_mb"], "MB", better="lower", note=note)
    return 0
