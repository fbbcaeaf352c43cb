"""The event level's state that a long-running process keeps across crawls, and the marks
that tell it (and the near-duplicate index it is kept with) from an archive changed under it.

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

Both levels (this state and the near-duplicate index) are loaded again from the archive
(a :class:`crawler.stories.StoryAssigner` asks its :class:`Watch` before each article) when
another process changed the stories under them: a ``newswatch dedupe --rebuild`` (it bumps
``story_generation``, :func:`mark_rebuilt`: story ids and assignments may all have changed;
looked at before every article, so also in the middle of a crawl) or another process's
crawl (articles with stories that this process did not put in: the kept levels would miss
their reprints and reports; looked at once per crawl, at its first article, so a long
concurrent crawl costs one reload per crawl, not one per batch). ``PRAGMA data_version``
(it changes when another connection commits) spares both looks while nobody else wrote.
"""

from __future__ import annotations

import json
import logging
import weakref
from typing import Any

from sqlite_utils import Database

from crawler import times
from crawler.config import DedupeSettings

log = logging.getLogger("newswatch")

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
        # the archive as the kept levels know it: its story generation, the last article
        # id looked at, and the articles this process gave a story since then
        self.generation: int | None = None
        self.last_id = 0
        self.ours: set[int] = set()
        # articles given a story in a transaction not yet known to have committed: a rolled
        # back id may be reused by another process, so only committed ones count as ours
        self.pending: set[int] = set()
        self.reloads = 0  # how many times the archive changed under the kept levels
        # why the kept levels must reload at the next article although the archive may look
        # unchanged: a write transaction holding this process's assignments rolled back, so
        # the index holds rows the archive lost and ``ours`` ids another process may reuse
        self.stale: str | None = None

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

    def mark(self, db: Database) -> None:
        """Note the archive as the kept levels were just loaded from it (call in the load's
        transaction)."""
        self.generation = generation(db)
        self.last_id = db.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()[0]
        self.ours, self.pending = set(), set()
        self.stale = None

    def ended(self, committed: bool) -> None:
        """A write transaction holding assignments made with the kept levels ended: its
        articles are ours once it committed; if it (or a savepoint in it) rolled back, the
        index holds rows the archive lost, so the next article reloads the kept levels."""
        if committed:
            self.ours |= self.pending
        else:
            self.stale = "a write transaction holding its assignments rolled back"
        self.pending = set()

    def changed(self, db: Database, *, crawl_start: bool) -> str | None:
        """Why the kept levels no longer match the archive, or None when they do: the stories
        were rebuilt since :meth:`mark`; at ``crawl_start`` also articles with a story that
        this process did not put in (another process's crawl)."""
        if self.generation is None:
            return None  # not loaded with a mark: nothing to compare
        if generation(db) != self.generation:
            return "another process rebuilt the stories"
        if not crawl_start:
            return None
        if self.pending:  # never confirmed: perhaps rolled back, its ids reused since
            return f"{len(self.pending)} articles given a story were not known to be committed"
        ids = [
            r[0]
            for r in db.execute(
                "SELECT id FROM articles WHERE id > ? AND story_id IS NOT NULL", [self.last_id]
            ).fetchall()
        ]
        foreign = sum(a not in self.ours for a in ids)
        if foreign:
            return f"another process stored {foreign} articles"
        self.last_id = max([self.last_id, *ids])
        self.ours = {a for a in self.ours if a > self.last_id}
        return None

    def reloaded(self, db: Database, why: str) -> EventState:
        """The near-duplicate index was loaded again (in this transaction) because ``why``:
        drop the event level's state (the next use loads it) and mark the archive."""
        self.drop()
        self.mark(db)
        self.reloads += 1
        log.info("story index reloaded from the archive: %s", why)
        return self

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


class Watch:
    """One crawl's (one assigner's) look at whether the archive changed under the kept levels."""

    def __init__(self, state: EventState) -> None:
        self.state = state
        self.version: int | None = None  # PRAGMA data_version at the last look

    def changed(self, db: Database, article_id: int | None = None) -> str | None:
        """Why the kept levels must be loaded again before this article is assigned (None
        when they need not); ``article_id``: the article about to get its story from this
        process. Costs one PRAGMA while no other connection committed."""
        version = db.execute("PRAGMA data_version").fetchone()[0]
        why = self.state.stale
        if (
            why is None and version != self.version
        ):  # another connection committed (or the crawl's first)
            why = self.state.changed(db, crawl_start=self.version is None)
            self.version = version
        if article_id is not None:
            self.state.pending.add(article_id)
        return why


def generation(db: Database) -> int:
    """How many times the archive's stories were rebuilt."""
    row = db.execute("SELECT generation FROM story_generation WHERE id = 1").fetchone()
    return row[0] if row else 0


def mark_rebuilt(db: Database) -> None:
    """Tell processes that keep story state that every story was recomputed (call in the
    rebuild's write transaction)."""
    db.execute(
        "UPDATE story_generation SET generation = generation + 1, rebuilt_at = ? WHERE id = 1",
        [times.utcnow()],
    )


def share(index: Any, settings: DedupeSettings) -> EventState:
    """Keep an event state with this near-duplicate index from now on."""
    state = _SHARED[index] = EventState(settings)
    return state


def shared(index: Any) -> EventState | None:
    """The event state kept with this near-duplicate index, if any."""
    return _SHARED.get(index) if index is not None else None


def watch(index: Any) -> Watch | None:
    """A crawl's watch over the state kept with this index (None when nothing is kept)."""
    state = shared(index)
    return Watch(state) if state is not None else None
