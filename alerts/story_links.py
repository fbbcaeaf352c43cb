"""How the alerts package's rows follow stories when the crawler rebuilds them.

``crawler.stories.rebuild_stories`` re-clusters articles and knows nothing of alerts. The
outbox points at story ids, and matches carry the story of their article: this module keeps
the stories the outbox points at (as merged rows) and re-points matches afterwards, in the
same write transaction.
"""

from __future__ import annotations

from sqlite_utils import Database

from alerts.schema import ensure
from crawler import archive
from crawler.config import DedupeSettings
from crawler.stories import RebuildResult
from crawler.stories import rebuild_stories as rebuild_crawler_stories


def referenced_stories(db: Database) -> set[int]:
    """Story ids the outbox points at: a story rebuild must keep them as rows."""
    ensure(db)
    return {r["story_id"] for r in db.query("SELECT DISTINCT story_id FROM alerts")}


def repoint_matches(db: Database) -> None:
    """Bring ``matches.story_id`` in line with ``articles.story_id``."""
    ensure(db)
    with archive.write(db):
        db.execute(
            "UPDATE matches SET story_id = (SELECT story_id FROM articles a"
            " WHERE a.id = matches.article_id)"
        )


def rebuild_stories(db: Database, settings: DedupeSettings | None = None) -> RebuildResult:
    """Rebuild every story (see ``crawler.stories.rebuild_stories``) keeping the stories
    alerts point at, then re-point matches: one transaction. Use this one, not the crawler's,
    on an archive that has alerts."""
    ensure(db)
    with archive.write(db):
        result = rebuild_crawler_stories(db, settings, keep=referenced_stories)
        repoint_matches(db)
    return result
