"""Stories: grouping articles that carry the same piece of news, and article versions.

A story is named after its original (first-seen) article. A new article joins an existing
story when it is a copy (same fingerprint) or a near-duplicate (MinHash similarity at or
above the threshold, within the window, site furniture left out; near the threshold the
shingle sets themselves are compared) of any article already in it, or reports its event
(crawler/event_stories.py); otherwise it starts a story of its own. An article that reports
the event of two stories merges them (crawler/story_merge.py). ``rebuild_stories``
(crawler/story_rebuild.py) recomputes every story over the archive.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from functools import lru_cache

import numpy as np
from sqlite_utils import Database

from crawler import times
from crawler.archive import write
from crawler.config import DedupeSettings
from crawler.event_state import share, shared, watch
from crawler.event_stories import EventLinker, article_time, without_furniture
from crawler.fingerprints import fingerprint, paragraphs
from crawler.minhash import Signer, sign_article
from crawler.neardup import NearDuplicateIndex
from crawler.prepared import PreparedText, prepare_text, text_shingles
from crawler.signatures import load_index, save_signature, save_signatures
from crawler.story_merge import bridged, merge_indexes, merge_rows
from crawler.story_rows import copy_story, insert_story, join_story, other_outlet, story_of
from crawler.story_rows import dedupe_report as dedupe_report  # re-exported: alerts/cli/dedupe.py

# A near-duplicate whose estimated similarity is less than this above the threshold is
# checked against the two texts (their shingle sets, furniture left out): the MinHash
# estimate at 128 permutations has a standard deviation of about 0.04 near 0.3, so among
# the many pairs LSH proposes an unrelated article sharing 25-30% of its shingles is taken
# for a reprint now and then (bench_dedupe's synthetic archive had one estimated at 0.41
# whose texts share 0.298). 0.2 is five standard deviations; reprints mostly score higher,
# so few pairs need the texts read.
VERIFY_MARGIN = 0.2


def _cutoff(seen_at: str, settings: DedupeSettings) -> str:
    """``seen_at`` minus the window, in the archive's time format."""
    return _minus(seen_at, settings.window)


@lru_cache(maxsize=64)  # a crawl stores its whole batch with one fetched_at
def _minus(seen_at: str, window: timedelta) -> str:
    return times.shift(seen_at, -window)


def plus_outlets(sources: list[str] | str | int) -> str:
    """The "+N outlets" label of a story whose ``sources`` list names N outlets besides the
    original's ("" when there are none): reprints and other outlets' own reports alike.
    An int is N itself."""
    if isinstance(sources, str):
        sources = json.loads(sources or "[]")
    n = sources if isinstance(sources, int) else len(sources) - 1
    if n <= 0:
        return ""
    return f"+{n} outlet" if n == 1 else f"+{n} outlets"


def load_story_index(db: Database, settings: DedupeSettings | None = None) -> NearDuplicateIndex:
    """Load (and complete) the near-duplicate index once, for a process that keeps it across
    crawls: pass it to every :class:`StoryAssigner` as ``index=``. The event level's state
    is kept with it (:mod:`crawler.event_state`): the crawls do not load that again."""
    with write(db):
        index = StoryAssigner(db, settings).index
        share(index, settings or DedupeSettings()).mark(db)
    return index


class StoryAssigner:
    """Assigns stories to newly stored articles; create one per crawl (or per process).

    Its methods must be called inside the write transaction that stored the article. The
    near-duplicate index is loaded from the ``minhashes`` table on first use (articles in
    the window that have no stored signature are signed then).
    """

    def __init__(
        self,
        db: Database,
        settings: DedupeSettings | None = None,
        *,
        index: NearDuplicateIndex | None = None,
    ):
        self.db = db
        self.settings = settings or DedupeSettings()
        self.signer = Signer(
            num_perm=self.settings.num_perm, shingle_size=self.settings.shingle_size
        )
        self._index = index
        self.events = EventLinker(db, self.settings, furniture=self._furniture, state=shared(index))
        self._watch = watch(index)  # another process changing the stories under a kept index
        # Set by rebuild_stories: a new story reuses the old story id of its original
        # article when no other new story took it; otherwise it gets the next free id.
        self._old_story: dict[int, list[int]] = {}
        self._used_ids: set[int] = set()
        self._next_story_id: int | None = None

    @property
    def index(self) -> NearDuplicateIndex:
        """The near-duplicate index, loaded on first use."""
        if self._index is None:
            self._index = load_index(
                self.db,
                self.signer,
                threshold=self.settings.threshold,
                since=_cutoff(times.utcnow(), self.settings),
            )
        return self._index

    def assign(self, article_id: int) -> int:
        """Give a newly stored article its story (a new one, or the story it copies)."""
        # plain sqlite3 on this per-article path: sqlite-utils' query() wraps every row
        row = self.db.execute(
            "SELECT title, text, summary, source, fetched_at, story_id, language,"
            " published_at FROM articles WHERE id = ?",
            [article_id],
        ).fetchone()
        if row is None:
            raise KeyError(f"no article {article_id}")
        if row[5] is not None:
            return row[5]
        return self.assign_stored(article_id, dict(zip(_ARTICLE, row, strict=True)))

    def prepare(self, title: str | None, text: str | None, language: str | None) -> PreparedText:
        """What :meth:`assign_stored` reads from an article's title and text (its text, else
        its summary), for a caller that has them before the article is stored."""
        return prepare_text(title, text, language, terms=self.events.enabled, signer=self.signer)

    def assign_stored(
        self, article_id: int, article: Mapping, prepared: PreparedText | None = None
    ) -> int:
        r"""Give the article just stored as ``article_id`` its story, from the values it was
        stored with (``title``, ``text``, ``summary``, ``source``, ``fetched_at``,
        ``language``, ``published_at``: the archive is not read again) and, when the caller
        has it, its :meth:`prepare`\ d text (e.g. from a parse worker)."""
        self._follow_archive(article_id)
        title, source, language = article["title"], article["source"], article.get("language")
        body = article.get("text") or article.get("summary")
        if prepared is None or not prepared.fits(title, body, language):
            prepared = self.prepare(title, body, language)
        seen_at = article.get("fetched_at") or times.utcnow()
        index = self.index
        index.expire(_cutoff(seen_at, self.settings))
        furniture = index.boilerplate(prepared.paragraphs)
        sig = prepared.signature(self.signer, furniture)
        fp = prepared.fingerprint
        story_id = copy_story(self.db, fp)
        if story_id is None and sig is not None:
            for similarity, other in index.query(sig):
                if similarity < self.settings.threshold + VERIFY_MARGIN and not (
                    self._shares_enough(prepared, furniture, other)
                ):
                    continue
                story_id = story_of(self.db, other)
                if story_id is not None:
                    break
        # The event level: independently written coverage of the same event. A copy or a
        # reprint adds nothing its story's articles in the event index do not say already.
        at = article_time(article.get("published_at"), seen_at)
        vector = names = None
        if story_id is None and self.events.enabled:
            terms = prepared.event_terms(title, body, language, furniture)
            vector = self.events.index.vectors(*terms)
            if self.events.cross is not None:  # the cross-language level (off by default)
                names = self.events.names(title, without_furniture(body, furniture), language)
            story_id = self.events.find(
                vector,
                language,
                at,
                accept=lambda story: other_outlet(self.db, story, source),
                names=names,
            )
            if story_id is not None:  # stories this article shows to be one (story_merge.py)
                bridged(self.events, story_id, vector, language, self._merge)
        if story_id is None:
            story_id = self._new_story(article_id, title, seen_at, source)
        else:
            join_story(self.db, story_id, source, article_id, title, at)
        self.events.add(article_id, story_id, vector, language, at, names=names)
        # One UPDATE of the article row: each one used to re-index its full text.
        # Plain SQL on this per-article path: sqlite-utils' update() looks the row up and
        # inspects the table first (measured 11 us against 350 us a row). The store writes
        # the fingerprint with the row: setting it again rewrote its index entry.
        if fp is not None and article.get("fingerprint") == fp:
            self.db.execute("UPDATE articles SET story_id = ? WHERE id = ?", [story_id, article_id])
        else:
            self.db.execute(
                "UPDATE articles SET story_id = ?, fingerprint = ? WHERE id = ?",
                [story_id, fp, article_id],
            )
        save_signature(self.db, self.signer, article_id, seen_at, sig, prepared.paragraphs)
        index.add(
            article_id, sig, seen_at, story=story_id, source=source, paragraphs=prepared.paragraphs
        )
        return story_id

    def record_update(
        self, article_id: int, *, title: str | None, text: str | None, content_hash: str
    ) -> bool:
        """An archived article came back with changed content: keep the old version as a
        row of ``article_versions``, store the new one. Returns True if anything changed.

        The article keeps its id and its story; its fingerprint and signature follow the new
        text (so later reprints of the new text find it), and ``matched_at`` is cleared so
        the matcher looks at the new text."""
        db = self.db
        old = next(
            db.query(
                "SELECT title, text, content_hash, fetched_at, summary, story_id, source"
                " FROM articles WHERE id = ?",
                [article_id],
            ),
            None,
        )
        if old is None:
            raise KeyError(f"no article {article_id}")
        if old["content_hash"] == content_hash:
            return False
        now = times.utcnow()
        db["article_versions"].insert(
            {
                "article_id": article_id,
                "content_hash": old["content_hash"],
                "fetched_at": old["fetched_at"],
                "title": old["title"],
                "text": old["text"],
            }
        )
        index = self.index
        sig, parsed = sign_article(self.signer, index, text or old["summary"])
        db["articles"].update(
            article_id,
            {
                "title": title,
                "text": text,
                "content_hash": content_hash,
                "updated_at": now,
                "fingerprint": fingerprint(title, None, parsed=parsed),
                "matched_at": None,
            },
        )
        story_id = old["story_id"]
        if story_id is not None:
            story = db["stories"].get(story_id)
            changes = {"updated_at": now}
            if story["article_id"] == article_id:
                changes["title"] = title
            db["stories"].update(story_id, changes)
        seen_at = old["fetched_at"]
        save_signatures(db, self.signer, [(article_id, seen_at, sig, parsed.hashes)])
        index.add(
            article_id, sig, seen_at, story=story_id, source=old["source"], paragraphs=parsed.hashes
        )
        return True

    def ended(self, committed: bool) -> None:
        """Its write transaction committed, or it (or a savepoint in it) rolled back."""
        if self._watch:
            self._watch.state.ended(committed)

    # ------------------------------------------------------------------ internals

    def _follow_archive(self, article_id: int) -> None:
        """Reload a kept index and event state another process made stale (event_state.py)."""
        if why := self._watch and self._watch.changed(self.db, article_id):
            with write(self.db):
                self._index.replace(StoryAssigner(self.db, self.settings).index)
                kept = self._watch.state.reloaded(self.db, why)
            self.events = EventLinker(self.db, self.settings, furniture=self._furniture, state=kept)

    def _merge(self, keep: int, gone: int) -> bool:
        """Merge story ``gone`` into ``keep``: in the archive and in the indexes."""
        if not merge_rows(self.db, keep, gone):
            return False
        merge_indexes(self.events, self.index, keep, gone)
        return True

    def _furniture(self, text: str) -> np.ndarray:
        """Which paragraphs of ``text`` the near-duplicate index knows as site furniture."""
        return self.index.boilerplate(paragraphs(text).hashes)

    def _shares_enough(self, prepared: PreparedText, furniture: np.ndarray, other: int) -> bool:
        """Whether the article's shingles and those of stored article ``other`` (site
        furniture left out of both) have a Jaccard similarity of at least the threshold."""
        row = self.db.execute("SELECT text, summary FROM articles WHERE id = ?", [other]).fetchone()
        if row is None:
            return False
        size = self.settings.shingle_size
        mine = prepared.shingle_set(size, furniture)
        theirs = text_shingles(row[0] or row[1], self.index.boilerplate, size)
        union = len(mine | theirs)
        return bool(union) and len(mine & theirs) / union >= self.settings.threshold

    def _new_story(self, article_id: int, title: str | None, seen_at: str, source: str) -> int:
        """Insert the story that ``article_id`` starts; the caller points the article at it."""
        story_id = next(
            (s for s in self._old_story.get(article_id, ()) if s not in self._used_ids), None
        )
        if story_id is None and self._next_story_id is not None:
            story_id = self._next_story_id
            self._next_story_id += 1
        if story_id is not None:
            self._used_ids.add(story_id)
        return insert_story(self.db, story_id, article_id, title, seen_at, source)


_ARTICLE = ("title", "text", "summary", "source", "fetched_at", "story_id", "language")
_ARTICLE += ("published_at",)

# re-exported: callers and tests import them from here (defined after StoryAssigner, which
# crawler.story_rebuild uses)
from crawler.story_rebuild import RebuildResult, rebuild_stories  # noqa: E402, F401
