"""How the alerts package's rows follow stories when the crawler rebuilds them.

``crawler.stories.rebuild_stories`` re-clusters articles and knows nothing of alerts. The
outbox points at story ids, and matches carry the story of their article: this module keeps
the stories the outbox points at (as merged rows) and re-points matches afterwards, in the
same write transaction; after a live merge (crawler/story_merge.py) the outbox re-points
the merged stories' matches before it looks at them (:func:`follow_merges`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlite_utils import Database

from alerts.schema import ensure
from crawler import archive
from crawler.config import DedupeSettings

if TYPE_CHECKING:  # crawler.stories brings the story machinery: loaded by a rebuild only
    from crawler.story_rebuild import RebuildResult


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


def follow_merges(db: Database) -> int:
    """Re-point the matches of stories merged into another since (live merges,
    crawler/story_merge.py) at the story their articles are in now; how many. Cheap: one
    look-up per merged story. Call inside ``archive.write``."""
    return db.execute(
        "UPDATE matches SET story_id = (SELECT merged_into FROM stories s"
        " WHERE s.id = matches.story_id)"
        " WHERE story_id IN (SELECT id FROM stories WHERE merged_into IS NOT NULL)"
    ).rowcount


def rebuild_stories(db: Database, settings: DedupeSettings | None = None) -> RebuildResult:
    """Rebuild every story (see ``crawler.stories.rebuild_stories``) keeping the stories
    alerts point at, then re-point matches: one transaction. Use this one, not the crawler's,
    on an archive that has alerts."""
    from crawler.story_rebuild import rebuild_stories as rebuild_crawler_stories

    ensure(db)
    with archive.write(db):
        result = rebuild_crawler_stories(db, settings, keep=referenced_stories)
        repoint_matches(db)
    return result
