"""How bench_dedupe.py stores its articles: as the crawl's pipeline does, with the items
prepared as the parse workers prepare them, timed apart (``store_all``); the no-dedupe
baseline assigner; and ``Split``, the optional CPU split by level (``--split``)."""

from __future__ import annotations

import contextlib
import os
import pickle
import time
from collections import Counter
from collections.abc import Iterator
from typing import NamedTuple

from dedupe_corpus import item

from crawler import archive
from crawler.store import Batch, prepare_item, store_items
from crawler.stories import StoryAssigner


class NoDedupe(StoryAssigner):
    """Baseline: one new story per article, no fingerprint, no MinHash."""

    def assign(self, article_id: int) -> int:
        row = self.db.execute(
            "SELECT title, source, fetched_at FROM articles WHERE id = ?", [article_id]
        ).fetchone()
        return self.assign_stored(
            article_id, {"title": row[0], "source": row[1], "fetched_at": row[2]}
        )

    def prepare(self, title, text, language) -> None:
        return None  # nothing to prepare: the store computes the fingerprint alone

    def assign_stored(self, article_id: int, article, prepared=None) -> int:
        story_id = self._new_story(
            article_id, article["title"], article["fetched_at"], article["source"]
        )
        self.db.execute("UPDATE articles SET story_id = ? WHERE id = ?", [story_id, article_id])
        return story_id


class Timed(NamedTuple):
    """Seconds by the wall clock and of this process's CPU (on a shared machine the wall
    clock measures the neighbours too)."""

    wall: float
    cpu: float

    def rates(self, n: int) -> str:
        return f"{n / self.wall:,.0f} articles/s wall, {n / self.cpu:,.0f} articles/s CPU"


@contextlib.contextmanager
def clock(out: list) -> Iterator[None]:
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    out.append(Timed(time.perf_counter() - wall, time.process_time() - cpu))


def store_all(
    db, articles: list[dict], assigner, *, prepare: bool = True, batch: int = 500
) -> tuple[Timed, Timed, list[int]]:
    """Store the articles in arrival order as crawler.pipelines.ArchivePipeline does: one
    write transaction per 500 items, one crawler.store.Batch per source made before its
    first item is stored, each item in its own savepoint. Returns the time of storing and
    the time of preparing, and the story ids.

    With ``prepare``, each chunk of items is first prepared as the parse workers prepare
    them (crawler.feeds.parse_feed_for_store calls crawler.store.prepare_item: canonical
    URL, fingerprint, the prepared text of story assignment) and pickled, as they are sent
    to the writing process; that is timed apart. Unpickling them is the writer's work and
    is timed with the storing. Without it the store computes all of that itself."""
    spent: list[Timed] = []
    prep: list[Timed] = []
    for b in range(0, len(articles), batch):
        chunk = articles[b : b + batch]
        if prepare:
            with clock(prep):
                shipped = [pickle.dumps(prepare_item(item(a))) for a in chunk]
        with clock(spent), archive.write(db):
            items = [pickle.loads(x) for x in shipped] if prepare else [item(a) for a in chunk]
            sources = [f"site{a['i'] % 50}" for a in chunk]
            by_source: dict[str, list[dict]] = {}
            for source, it in zip(sources, items, strict=True):
                by_source.setdefault(source, []).append(it)
            batches = {s: Batch(db, s, its) for s, its in by_source.items()}
            for source, it in zip(sources, items, strict=True):
                with archive.write(db):  # a savepoint, as the pipeline's
                    store_items(db, source, [it], assigner, batch=batches[source])
    ids = [r[0] for r in db.execute("SELECT story_id FROM articles ORDER BY id")]
    return _sum(spent), _sum(prep), ids


def _sum(parts: list[Timed]) -> Timed:
    return Timed(sum(p.wall for p in parts), sum(p.cpu for p in parts))


def load_avg() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


class Split:
    """CPU seconds spent in the calls of each level while it is installed (``--split``):
    the event level's (``EventIndex.vectors``, ``EventLinker.find`` and ``add``), the
    reprint level's index (``NearDuplicateIndex.query``, ``add``), the whole
    ``StoryAssigner.assign_stored``. Each call is wrapped in a timer (a microsecond or two
    an article in all): the rates of a run with it are a little lower."""

    CALLS = (
        ("crawler.stories", "StoryAssigner", "assign_stored", "story assignment (all)"),
        ("crawler.events", "EventIndex", "vectors", "event level: vectors"),
        ("crawler.event_stories", "EventLinker", "find", "event level: find"),
        ("crawler.event_stories", "EventLinker", "add", "event level: add"),
        ("crawler.neardup", "NearDuplicateIndex", "query", "reprint level: index query"),
        ("crawler.neardup", "NearDuplicateIndex", "add", "reprint level: index add"),
    )

    def __init__(self) -> None:
        self.spent: Counter = Counter()
        self.calls: Counter = Counter()
        self._undo: list = []

    def install(self) -> None:
        import importlib

        for module, cls_name, name, label in self.CALLS:
            cls = getattr(importlib.import_module(module), cls_name)
            original = getattr(cls, name)
            setattr(cls, name, self._timed(original, label))
            self._undo.append((cls, name, original))

    def _timed(self, original, label: str):
        spent, calls = self.spent, self.calls

        def timed(*args, **kwargs):
            start = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                spent[label] += time.process_time() - start
                calls[label] += 1

        return timed

    def remove(self) -> None:
        for cls, name, original in reversed(self._undo):
            setattr(cls, name, original)
        self._undo.clear()

    def lines(self, n: int) -> list[str]:
        return [
            f"  {label}: {1000 * self.spent[label] / n:.3f} ms CPU an article "
            f"({1e6 * self.spent[label] / max(1, self.calls[label]):.0f} us a call, "
            f"{self.calls[label]:,} calls)"
            for *_, label in self.CALLS
        ]
