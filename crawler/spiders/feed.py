"""The feed spider: RSS, Atom and JSON Feed sources -> items (and article pages when the
source asks for full text)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from scrapy.http import Response

from crawler.config import Source
from crawler.spiders.base import SourceSpider
from crawler.urls import canonical_url


class FeedSpider(SourceSpider):
    """Parses each feed source with feedparser (bytes only: Scrapy did the fetching), large
    feeds in a worker process."""

    name = "newswatch-feeds"

    async def parse_root(self, response: Response, src: Source) -> AsyncIterator[Any]:
        headers = {
            k.decode("latin-1").lower(): b", ".join(v).decode("latin-1")
            for k, v in response.headers.items()
        }
        # In a worker process for a large feed: the reactor keeps downloading meanwhile.
        # Items stored as they are are normalized there too; full-text ones after the page.
        # Imported on the first feed that changed: a crawl of unchanged feeds (304s, or the
        # same bytes) never loads feedparser, the store or the story machinery.
        from crawler.feeds import parse_feed, parse_feed_for_store

        if src.full_text:
            parse, extra = parse_feed, {}
        else:
            parse, extra = parse_feed_for_store, {"language": src.language}
        result = await self.workers.run(
            parse, response.body, url=response.url, headers=headers, **extra
        )
        r = self.tracker.result(src.name)
        r.items_seen += len(result.items) + result.bad_items
        r.items_bad += result.bad_items
        if result.error_class:
            self.tracker.fail(src.name, result.error_class, result.problem or "")
            return
        problems = []
        if result.bad_items:
            problems.append(
                f"{result.bad_items} unreadable item(s) left out, the first {result.item_problem}"
            )
        if result.problem:
            problems.append(f"malformed feed: {result.problem}")
        if problems:
            kept = f"{len(result.items)} items kept; "
            self.tracker.problem(src.name, "parse_error", (kept + "; ".join(problems))[:500])
        if not src.full_text:
            if result.items:  # one item holding them all: stored one by one by the pipeline
                yield self.emit_all(src, result.items)
            return
        # Full text: fetch the items the archive does not have (by canonical URL or GUID),
        # and the known ones whose entry changed (a newer updated date, another title or
        # summary): the store keeps a version when the page's text changed (issue 16).
        from crawler.store import changed_entries

        canon = [canonical_url(i["url"]) for i in result.items]
        known = self.known(src, canon, [i["guid"] for i in result.items if i["guid"]])
        changed = changed_entries(self._archive, src.name, result.items)
        for i, (item, url) in enumerate(zip(result.items, canon, strict=True)):
            if (url in known or (item["guid"] and item["guid"] in known)) and i not in changed:
                continue
            if self.may_fetch(src):
                yield self.article_request(src, item["url"], item)
            else:
                yield self.emit(src, item)
