"""Which live story a story id names now: a story merged into another (by a live merge,
crawler/story_merge.py, or by ``newswatch dedupe --rebuild``) keeps its row with
``article_count`` 0 and ``merged_into`` set, so what points at its id (the alerts outbox,
story follow-ups) follows ``merged_into`` to the story its articles are in.

``merged_into`` names a live story (a merge re-points the rows merged into the story it
merges away); :func:`live_story` follows chains anyway. Light on purpose: every command
imports the alerts package, which asks this.
"""

from __future__ import annotations

from sqlite_utils import Database

#: SQL for the live story of the story id in ``{col}``: ``LIVE_STORY.format(col="al.story_id")``.
LIVE_STORY = "COALESCE((SELECT merged_into FROM stories WHERE id = {col}), {col})"
#: SQL for the ids of a live story ``{story}`` and of every story merged into it (indexed:
#: the primary key and ``stories_merged``).
FAMILY = "(SELECT id FROM stories WHERE id = {story} OR merged_into = {story})"


def live_story(db: Database, story_id: int | None) -> int | None:
    """The live story that ``story_id`` is (itself) or was merged into (None stays None)."""
    seen: set[int] = set()
    while story_id is not None and story_id not in seen:
        seen.add(story_id)
        row = db.execute("SELECT merged_into FROM stories WHERE id = ?", [story_id]).fetchone()
        if row is None or row[0] is None:
            return story_id
        story_id = row[0]
    return story_id


def family(db: Database, story_id: int | None) -> list[int]:
    """The live story of ``story_id`` first, then every story merged into it."""
    live = live_story(db, story_id)
    if live is None:
        return []
    rows = db.execute("SELECT id FROM stories WHERE merged_into = ? ORDER BY id", [live])
    return [live, *(r[0] for r in rows.fetchall())]
