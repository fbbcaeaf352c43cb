"""What the Scrapy components of one crawl share, and how they get it: through the
crawler's settings, read in each component's ``from_crawler``.

The runner makes one :class:`CrawlContext` per crawl and puts it in the settings under
:data:`SETTING`; the spiders take the tracker and the parse workers from it, the item
pipeline the archive, the tracker and the story assigner. Nothing is passed to a spider as
an argument but the sources it crawls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from sqlite_utils import Database

    from crawler.fetch_outcomes import CrawlTracker
    from crawler.workers import ParseWorkers

SETTING = "NEWSWATCH_CRAWL_CONTEXT"


@dataclass(frozen=True)
class CrawlContext:
    """The archive, the crawl's tracker, its story assigner (``assign``/``record_update``,
    see :class:`crawler.stories.StoryAssigner`) and its parse workers."""

    db: Database
    tracker: CrawlTracker
    assigner: Any
    workers: ParseWorkers

    def __deepcopy__(self, memo: dict) -> CrawlContext:
        return self  # Scrapy deep-copies its settings per crawler: share this one

    @classmethod
    def of(cls, crawler: Crawler) -> CrawlContext:
        """The context in this crawler's settings; NotConfigured when it has none (a
        crawl that stores nothing, such as ``newswatch sources discover``)."""
        context = crawler.settings.get(SETTING)
        if not isinstance(context, cls):
            raise NotConfigured(f"no {SETTING} in the crawler's settings")
        return context
