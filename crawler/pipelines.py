"""The item pipeline: normalize each item, then store them in batches (dedupe and story
assignment happen in :func:`crawler.store.store_items`)."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import TYPE_CHECKING

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from crawler import archive
from crawler.archive_access import BUSY_REASON, is_busy
from crawler.crawl_context import CrawlContext

if TYPE_CHECKING:
    from crawler.store import StoreResult

logger = logging.getLogger(__name__)

BATCH = 500  # items buffered before a write transaction (one per batch, not per source)

#: An item holding many items of its source (``{"source": name, BATCH_KEY: [items]}``): a
#: feed's entries pass Scrapy's item machinery (spider middlewares, signals, the pipeline
#: chain) once, not once each (see SourceSpider.emit_all).
BATCH_KEY = "_items"


class ArchivePipeline:
    """Buffers items and stores them in one write transaction per batch (each item in its
    own savepoint, so one item the archive refuses loses no other); the buffers are also flushed
    when a source finishes, so its counts are final. The archive, the tracker and the story
    assigner come from the crawl's :class:`CrawlContext`; what it stored goes to the crawl's
    stats (``newswatch/items_new``, ``newswatch/items_updated``, ``newswatch/store_errors``)."""

    def __init__(self, context: CrawlContext, stats: StatsCollector):
        self.db = context.db
        self.tracker = context.tracker
        self.assigner = context.assigner
        self.stats = stats
        self.buffers: dict[str, list[dict]] = defaultdict(list)
        self.pending = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        return cls(CrawlContext.of(crawler), crawler.stats)

    def open_spider(self) -> None:
        self.tracker.flushers.append(self.flush_source)

    def process_item(self, item: dict) -> dict:
        # Imported with the first item, not with the pipeline: a crawl of unchanged feeds
        # stores nothing and need not load the store (and the story machinery behind it).
        from crawler.normalize import ITEM_KEYS, NORMALIZED, normalize_item
        from crawler.store import PREPARED_KEYS

        source = item.get("source")
        try:
            if not source:
                raise DropItem("item without a source")
            batch = item.get(BATCH_KEY)
            if batch is None:
                if not item.get("url"):
                    raise DropItem("item without a url")
                batch = [item]
            buffer = self.buffers[source]
            for one in batch:
                if not one.get("url"):  # a feed entry without a link never gets here
                    continue
                if one.get(NORMALIZED):  # normalized (and prepared) in a parse worker
                    kept = {k: one.get(k) for k in ITEM_KEYS}
                    kept.update((k, one[k]) for k in PREPARED_KEYS if k in one)
                    buffer.append(kept)
                else:
                    buffer.append(normalize_item(one))
                self.pending += 1
                if self.pending >= BATCH:
                    self.flush()
                    buffer = self.buffers[source]
            return item
        finally:
            if source:  # the spider counted the item (emit): is its source done now?
                self.tracker.end(source)

    def close_spider(self) -> None:
        self.flush()
        self.tracker.flushers.remove(self.flush_source)

    def flush_source(self, source: str) -> None:
        """A source finished: store its items (and, in the same transaction, the others')."""
        if self.buffers.get(source):
            self.flush()

    def flush(self) -> None:
        """Store every buffered item in one write transaction."""
        if not self.buffers:
            return
        buffers, self.buffers, self.pending = self.buffers, defaultdict(list), 0
        db, tracker = self.db, self.tracker
        done = []
        try:
            with archive.write(db):
                for source, items in buffers.items():
                    done.append((source, self._store(source, items)))
        except Exception as e:  # BEGIN or COMMIT failed: nothing of this batch was stored
            busy = is_busy(e)
            reason = BUSY_REASON if busy else f"{type(e).__name__}: {e}"
            log = logger.error if busy else logger.exception  # a traceback if unknown
            log("storing a batch of %d sources failed: %s", len(buffers), reason)
            # Stories given in the rolled-back transaction are in the kept index only.
            self.assigner.ended(committed=False)
            # Every source of the batch failed (not only those stored before the failure:
            # a lock met at BEGIN stores none), so no validator covering these items is
            # saved and the next crawl reads them again. A locked archive (a long
            # `dedupe --rebuild`) is not the source's fault: archive_busy is retried within
            # minutes and not counted as the source's failure (crawler/schedule.py).
            for source, items in buffers.items():
                tracker.fail(
                    source,
                    "archive_busy" if busy else "store_error",
                    f"{len(items)} items not stored ({reason}); read again next crawl",
                )
                self.stats.inc_value("newswatch/store_errors")
            return
        self.assigner.ended(committed=True)  # its articles' stories are in the archive now
        for source, stored in done:
            if stored is None:
                continue
            result = tracker.result(source)
            result.items_new += stored.new
            result.items_updated += stored.updated
            self.stats.inc_value("newswatch/items_new", stored.new)
            self.stats.inc_value("newswatch/items_updated", stored.updated)

    def _store(self, source: str, items: list[dict]) -> StoreResult | None:
        """Store each item in its own savepoint, so one the archive refuses loses no other;
        the refused ones are counted and the first refusal recorded (the source's body is
        then read again next crawl). None when every item was refused."""
        from crawler.store import Batch, StoreResult, store_items

        total, refused, first = StoreResult(), 0, None
        try:
            batch = Batch(self.db, source, items)  # the archive read once for them all
        except Exception:
            batch = None  # then each item is looked up (and refused) on its own
        for item in items:
            try:
                with archive.write(self.db):  # a savepoint
                    one = store_items(self.db, source, [item], self.assigner, batch=batch)
            except Exception as e:
                refused += 1
                first = first or f"{item.get('url')!r:.100}: {type(e).__name__}: {e}"
                continue
            total.new += one.new
            total.seen += one.seen
            total.updated += one.updated
        if not refused:
            return total
        self.assigner.ended(committed=False)  # a refused item's story may be kept, not stored
        logger.error(
            "%d of %d items from %s could not be stored: %s", refused, len(items), source, first
        )
        self.stats.inc_value("newswatch/store_errors", refused)
        result = self.tracker.result(source)
        result.items_bad += refused
        result.incomplete = True
        message = f"{refused} of {len(items)} items could not be stored, the first {first}"
        if refused == len(items):
            self.tracker.fail(source, "store_error", message[:500])
            return None
        self.tracker.problem(source, "store_error", message[:500])
        return total
