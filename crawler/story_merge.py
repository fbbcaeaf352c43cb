"""Story merges: two stories that one article shows to report one event become one.

The assigner never splits or re-clusters stories as they grow, so one event's reports that
formed two stories early (neither's reached the other's centroid) would stay two for good.
An article that joins story S (the best agreeing story, :meth:`EventLinker.find`) and
passes every check of ``EventLinker._agrees`` against a second story T it nominated as well
bridges them; T is merged into S when the two stories' originals (their first articles in
the event index) agree on figures (``event_stories._compare`` == 1: two shared numbers or
more, at least half of the smaller set, not only years). Bridges alone are no evidence:
their stories' centroids do not tell a wrong bridge from a right one, their originals'
figures do (no wrong bridge on ECB+ has originals that agree; docs/architecture.md).

A merge in the archive (:func:`merge_rows`): T's articles move to S (``articles.story_id``;
the alerts package re-points its ``matches`` at its next run, alerts/story_links.py), S's
row counts them (``article_count``, ``sources``, the earlier ``first_seen_at``; its
original is the earliest published article of the two originals, as when an article joins),
and T's row stays, with ``article_count`` 0 and ``merged_into`` = S, as a rebuild leaves a
story that alerts point at: an alert sent for T still names a valid story, and the alerts
side follows ``merged_into`` (crawler/story_ids.py). ``merged_into`` always names a live story:
when S later merges into R, every row merged into S is pointed at R too.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from crawler import times
from crawler.event_stories import EventLinker, _compare, article_time
from crawler.event_terms import Vectors
from crawler.neardup import NearDuplicateIndex


def bridged(
    linker: EventLinker, story: int, vector: Vectors, language: str | None, merge
) -> list[int]:
    """After ``linker.find`` named ``story`` for an article: merge into it every other story
    the article agrees with whose original agrees on figures with ``story``'s original, by
    calling ``merge(story, other)`` for each (in the order they were tried: a merge can
    change ``story``'s original; it returns whether it merged). The stories merged."""
    tried = linker.tried
    if not any(s == story and agreement for s, _, agreement in tried):
        return []  # not joined through the same-language check (or no event level)
    whole, threshold, index = vector.part("all"), linker.settings.event_threshold, linker.index
    merged = []
    for other, score, agreement in tried:
        if other == story:
            continue
        if agreement is None:  # its outlet alone wrote it: the figures still tell
            agreement = linker._agrees(vector, whole, language, other, threshold, best=score)
        if not agreement:
            continue
        first, second = linker._originals.get(story), linker._originals.get(other)
        mine = index.article_numbers(language, first) if first is not None else None
        theirs = index.article_numbers(language, second) if second is not None else None
        if mine is None or theirs is None or _compare(mine, theirs, index.years) != 1:
            continue
        if merge(story, other):
            merged.append(other)
    return merged


def merge_indexes(
    linker: EventLinker, near: NearDuplicateIndex | None, keep: int, gone: int
) -> None:
    """Story ``gone`` merged into ``keep``: its articles move in the in-memory indexes (the
    event index, the cross-language one, the near-duplicate index's stories), the merged
    story's original is the earlier of the two first articles, and a kept event state's
    list of what this crawl put in follows (so its check against the archive still holds)."""
    linker.index.merge(keep, gone)
    originals = linker._originals
    mine, theirs = originals.get(keep), originals.pop(gone, None)
    if theirs is not None and (mine is None or theirs < mine):
        originals[keep] = theirs
    if linker.cross is not None:
        linker.cross.merge_stories(keep, gone)
    if near is not None:
        near.merge_stories(keep, gone)
    state = linker._state
    if state is not None:
        state.added = [(a, keep if s == gone else s) for a, s in state.added]


def merge_rows(db: Database, keep: int, gone: int) -> bool:
    """Merge story ``gone`` into story ``keep`` in the archive (see the module docstring);
    call inside the write transaction that assigns the article that bridged them. False
    (nothing written) when the archive does not hold both as live stories: an index that
    another process's change made stale must not move articles on its word."""
    rows = {
        r[0]: r[1:]
        for r in db.execute(
            "SELECT s.id, s.article_id, s.title, s.first_seen_at, s.article_count, s.sources,"
            " a.published_at, a.fetched_at FROM stories s"
            " LEFT JOIN articles a ON a.id = s.article_id"
            " WHERE s.id IN (?, ?) AND s.merged_into IS NULL",
            [keep, gone],
        ).fetchall()
    }
    if keep == gone or keep not in rows or gone not in rows:
        return False
    ours, theirs = rows[keep], rows[gone]
    # The original is the earliest *published* article of the two stories (their originals
    # are each story's earliest): a wire copy crawled first does not take the credit.
    earlier = theirs[6] is not None and (
        ours[6] is None or article_time(theirs[5], theirs[6]) < article_time(ours[5], ours[6])
    )
    first, second = (theirs, ours) if earlier else (ours, theirs)
    sources = json.dumps(
        list(dict.fromkeys(json.loads(first[4] or "[]") + json.loads(second[4] or "[]")))
    )
    now = times.utcnow()
    db.execute("UPDATE articles SET story_id = ? WHERE story_id = ?", [keep, gone])
    db.execute(
        "UPDATE stories SET article_id = ?, title = ?, first_seen_at = ?, article_count = ?,"
        " sources = ?, updated_at = ? WHERE id = ?",
        [
            first[0],
            first[1],
            min(filter(None, (ours[2], theirs[2])), default=None),
            (ours[3] or 0) + (theirs[3] or 0),
            sources,
            now,
            keep,
        ],
    )
    db.execute(
        "UPDATE stories SET article_count = 0, merged_into = ?, updated_at = ? WHERE id = ?",
        [keep, now, gone],
    )
    # every story merged into ``gone`` before now names the live story directly
    db.execute("UPDATE stories SET merged_into = ? WHERE merged_into = ?", [keep, gone])
    return True
