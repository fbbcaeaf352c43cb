"""The event level's state that a long-running process keeps across crawls.

A crawl's :class:`crawler.event_stories.EventLinker` loads its index of recent articles
from the archive (every article of the last two event windows, re-read and re-tokenised:
seconds of CPU per crawl on a real archive). The near-duplicate index that
:func:`crawler.stories.load_story_index` returns carries an :class:`EventState`
(:func:`share`), so every assigner made with that index (``index=``) takes over the event
index, the cross-language index and the stories' originals the previous crawl left,
instead of loading them again. A new index (the daemon's start, a SIGHUP that changes
``[dedupe]``) comes with an empty state, which the next crawl loads.

The state is dropped (the next crawl loads it from the archive, which also compacts it):
- when an article put in since the last check is not in the archive under the same story
  (its write transaction rolled back, or another program changed its story): the index
  must not hold what the archive does not;
- when a term vocabulary (which never shrinks while the articles expire) holds more than
  ``VOCAB_SHARE`` times the terms the index's live articles use, and at least
  ``VOCAB_MIN`` terms: months of news would otherwise keep every name ever seen.
"""

from __future__ import annotations

import json
import weakref
from typing import Any

from sqlite_utils import Database

from crawler.config import DedupeSettings

# A reload costs seconds of CPU: it comes once the dead terms outnumber the live ones (and
# the vocabulary is large enough for its memory to count: 200,000 terms are about 20 MB).
VOCAB_SHARE = 2
VOCAB_MIN = 200_000

# near-duplicate index -> the event state kept with it (gone with the index)
_SHARED: weakref.WeakKeyDictionary[Any, EventState] = weakref.WeakKeyDictionary()


class EventState:
    """What an :class:`~crawler.event_stories.EventLinker` loaded, for the next crawl's."""

    def __init__(self, settings: DedupeSettings) -> None:
        self.settings = settings
        self.index = None  # the EventIndex, None until a crawl loaded it
        self.cross = None  # the CrossLanguageIndex when that level is on
        self.originals: dict[int, int] = {}
        self.added: list[tuple[int, int]] = []  # (article, story) put in since the check

    def keep(self, index: Any, cross: Any, originals: dict[int, int]) -> None:
        """Keep what a linker just loaded from the archive."""
        self.index, self.cross, self.originals, self.added = index, cross, originals, []

    def drop(self) -> None:
        """Forget the state: the next crawl loads it from the archive."""
        self.keep(None, None, {})

    def take(self, db: Database, settings: DedupeSettings) -> bool:
        """Whether the kept state can serve a crawl on ``db`` with ``settings`` (it is
        dropped when it cannot: see the module's docstring)."""
        if self.index is None or settings != self.settings:
            return False
        if self._too_many_terms() or not self._in_archive(db):
            self.drop()
            return False
        self.added = []
        return True

    def _in_archive(self, db: Database) -> bool:
        if not self.added:
            return True
        ids = json.dumps([a for a, _ in self.added])
        found = dict(
            db.execute(
                "SELECT a.id, a.story_id FROM json_each(?) j JOIN articles a ON a.id = j.value",
                [ids],
            ).fetchall()
        )
        return all(found.get(a) == s for a, s in self.added)

    def _too_many_terms(self) -> bool:
        return _over(*self.index.terms()) or (self.cross is not None and _over(*self.cross.terms()))


def _over(vocabulary: int, live: int) -> bool:
    return vocabulary > max(VOCAB_MIN, VOCAB_SHARE * live)


def share(index: Any, settings: DedupeSettings) -> EventState:
    """Keep an event state with this near-duplicate index from now on."""
    state = _SHARED[index] = EventState(settings)
    return state


def shared(index: Any) -> EventState | None:
    """The event state kept with this near-duplicate index, if any."""
    return _SHARED.get(index) if index is not None else None
