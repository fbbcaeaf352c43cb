"""Storing collected items in the archive, and the look-ups that keep a crawl incremental.

Pure archive code: no Scrapy here. The item pipeline calls :func:`store_items` in batches
inside ``with archive.write(db):``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlite_utils import Database

from crawler.times import utcnow
from crawler.urls import canonical_url


@dataclass
class StoreResult:
    """How a batch landed: new articles, already archived ones, and changed ones."""

    new: int = 0
    seen: int = 0
    updated: int = 0


def content_hash(title: str | None, text: str | None) -> str:
    """Hash of the normalized title and text: the same words give the same hash."""
    norm = " ".join((title or "").split()).lower() + "\n" + " ".join((text or "").split()).lower()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:32]


def store_items(db: Database, source_name: str, items: list[dict], assigner) -> StoreResult:
    """Insert or update a batch of items from one source; call inside ``archive.write(db)``.

    Same canonical URL, or same GUID in the same source, is the same article: a changed
    content hash is handed to ``assigner.record_update`` (and the article is re-matched);
    anything else is a new article given its story by ``assigner.assign``.
    """
    result = StoreResult()
    now = utcnow()
    for item in items:
        url = canonical_url(item["url"])
        guid = item.get("guid") or None
        title, text = item.get("title"), item.get("text")
        chash = content_hash(title, text)
        row = db.execute("SELECT id, content_hash FROM articles WHERE url = ?", [url]).fetchone()
        if row is None and guid:
            row = db.execute(
                "SELECT id, content_hash FROM articles WHERE source = ? AND guid = ?",
                [source_name, guid],
            ).fetchone()
        if row is not None:
            article_id, old_hash = row
            changed = old_hash != chash and bool(title or text)
            if changed and assigner.record_update(
                article_id, title=title, text=text, content_hash=chash
            ):
                db.execute("UPDATE articles SET matched_at = NULL WHERE id = ?", [article_id])
                result.updated += 1
                continue
            result.seen += 1
            continue
        cur = db.execute(
            "INSERT INTO articles (url, guid, source, title, text, summary, author, language,"
            " categories, published_at, updated_at, fetched_at, content_hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                url,
                guid,
                source_name,
                title,
                text,
                item.get("summary"),
                item.get("author"),
                item.get("language"),
                json.dumps(item.get("categories") or [], ensure_ascii=False),
                item.get("published_at"),
                item.get("updated_at"),
                now,
                chash,
            ],
        )
        assigner.assign(cur.lastrowid)
        result.new += 1
    return result


def known_articles(
    db: Database, source_name: str, urls: Iterable[str], guids: Iterable[str] = ()
) -> dict[str, str]:
    """Which of these canonical URLs (or this source's GUIDs) are archived already.

    Returns ``{key: fetched_at}`` for every URL or GUID found, so a sitemap can compare a
    page's ``lastmod`` with when we fetched it.
    """
    found: dict[str, str] = {}
    urls, guids = list(dict.fromkeys(urls)), list(dict.fromkeys(g for g in guids if g))
    for i in range(0, len(urls), 500):
        chunk = urls[i : i + 500]
        marks = ",".join("?" * len(chunk))
        for url, fetched_at, updated_at in db.execute(
            f"SELECT url, fetched_at, updated_at FROM articles WHERE url IN ({marks})", chunk
        ):
            found[url] = max(fetched_at or "", updated_at or "")
    for i in range(0, len(guids), 500):
        chunk = guids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        for guid, fetched_at in db.execute(
            f"SELECT guid, fetched_at FROM articles WHERE source = ? AND guid IN ({marks})",
            [source_name, *chunk],
        ):
            found[guid] = fetched_at
    return found
