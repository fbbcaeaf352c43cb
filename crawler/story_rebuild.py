"""Rebuilding every story over the archive (``newswatch dedupe --rebuild``): the articles
replayed through a fresh :class:`crawler.stories.StoryAssigner` in first-seen order, with
story ids kept stable where they can be.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlite_utils import Database

from crawler import times
from crawler.archive import write
from crawler.config import DedupeSettings
from crawler.event_state import mark_rebuilt
from crawler.event_stories import EventLinker
from crawler.events import EventIndex
from crawler.neardup import NearDuplicateIndex
from crawler.story_rows import story_of


@dataclass
class RebuildResult:
    """What ``rebuild_stories`` did."""

    articles: int
    stories_before: int
    stories_after: int
    kept: int  # story ids that survived (their original article still starts a story)
    merged: int  # old stories kept as rows with ``merged_into`` because ``keep`` named them
    bridged: int = 0  # stories the replay merged into another (crawler/story_merge.py)


def rebuild_stories(
    db: Database,
    settings: DedupeSettings | None = None,
    *,
    keep: Callable[[Database], Iterable[int]] | None = None,
) -> RebuildResult:
    """Recompute every story over the archive with the current settings, in one transaction.

    Articles are re-clustered in the order they were first seen. Story ids stay stable: a
    story keeps the id its original article's story had, so re-running with unchanged
    settings changes nothing. An old story that no longer exists but whose id ``keep(db)``
    names (another package's rows point at it: alerts/story_links.py passes the outbox's)
    stays as a row with ``article_count`` 0 and ``merged_into`` set to the story its
    original article belongs to now; other vanished stories are deleted. A story that the
    replay merges into another (an article bridged them, crawler/story_merge.py) stays as
    such a row too, as the live assigner leaves it: a rebuild after live merges with
    unchanged settings changes nothing either.
    """
    from crawler.stories import StoryAssigner  # (crawler.stories re-exports this module)

    settings = settings or DedupeSettings()
    with write(db):
        old_story = dict(db.execute("SELECT id, story_id FROM articles").fetchall())
        old_rows = {
            r[0]: r
            for r in db.execute(
                "SELECT id, article_id, title, first_seen_at, updated_at, sources, merged_into"
                " FROM stories"
            ).fetchall()
        }
        order = [
            r[0] for r in db.execute("SELECT id FROM articles ORDER BY fetched_at, id").fetchall()
        ]
        db.execute("UPDATE articles SET story_id = NULL")
        db.execute("DELETE FROM stories")
        db.execute("DELETE FROM minhashes")
        mark_rebuilt(db)  # a daemon's kept story index reloads (crawler/event_state.py)
        assigner = StoryAssigner(
            db,
            settings,
            index=NearDuplicateIndex(threshold=settings.threshold, num_perm=settings.num_perm),
        )
        assigner.events = EventLinker(
            db,
            settings,
            index=EventIndex(window_seconds=settings.event_window.total_seconds()),
            furniture=assigner._furniture,
        )
        # An original takes back a story that an earlier rebuild merged away (and that
        # ``keep`` names) before the story its article was in.
        claims: dict[int, list[int]] = {}
        for sid, row in sorted(old_rows.items()):
            if row[6] is not None and row[1] is not None:
                claims.setdefault(row[1], []).append(sid)
        for aid, sid in old_story.items():
            if sid is not None:
                claims.setdefault(aid, []).append(sid)
        assigner._old_story = claims
        # Fresh ids start above every old one, so they never take an id an original
        # further on may still claim.
        assigner._next_story_id = max([0, *old_rows, *filter(None, old_story.values())]) + 1
        for aid in order:
            assigner.assign(aid)
        # Stories the replay merged (an article bridged two stories of one event) stay as
        # rows with ``merged_into``, as the live assigner leaves them.
        rows = db.execute("SELECT id, merged_into FROM stories").fetchall()
        new_ids = {sid for sid, into in rows if into is None}
        bridged = {sid for sid, into in rows if into is not None}
        referenced = set(keep(db)) if keep else set()
        merged = len(referenced & bridged)
        for sid in sorted(referenced - new_ids - bridged):
            row = old_rows.get(sid)
            if row is None:
                continue
            db["stories"].insert(
                {
                    "id": sid,
                    "article_id": row[1],
                    "title": row[2],
                    "first_seen_at": row[3],
                    "updated_at": times.utcnow(),
                    "article_count": 0,
                    "sources": row[5],
                    "merged_into": story_of(db, row[1]),
                }
            )
            merged += 1
    return RebuildResult(
        articles=len(order),
        stories_before=sum(row[6] is None for row in old_rows.values()),
        stories_after=len(new_ids),
        kept=len(new_ids & {sid for sid, row in old_rows.items() if row[6] is None}),
        merged=merged,
        bridged=len(bridged),
    )
