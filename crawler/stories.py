"""Stories: grouping articles that carry the same piece of news, and article versions.

A story is named after its original (first-seen) article. A new article joins an existing
story when it is a copy (same fingerprint) or a near-duplicate (MinHash similarity at or
above the threshold, within the window, site furniture left out) of any article already in
it; otherwise it starts a story of its own. ``rebuild_stories`` recomputes every story over the archive.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from sqlite_utils import Database

from crawler import times
from crawler.archive import write
from crawler.config import DedupeSettings
from crawler.fingerprints import fingerprint
from crawler.minhash import Signer, sign_article
from crawler.neardup import NearDuplicateIndex
from crawler.signatures import load_index, save_signatures


def _cutoff(seen_at: str, settings: DedupeSettings) -> str:
    """``seen_at`` minus the window, in the archive's time format."""
    return _minus(seen_at, settings.window)


@lru_cache(maxsize=64)  # a crawl stores its whole batch with one fetched_at
def _minus(seen_at: str, window: timedelta) -> str:
    return times.shift(seen_at, -window)


def plus_sources(sources: list[str] | str) -> str:
    """The "+N sources" label of a story whose ``sources`` list names N sources besides the
    original's ("" when there are none)."""
    if isinstance(sources, str):
        sources = json.loads(sources or "[]")
    n = len(sources) - 1
    if n <= 0:
        return ""
    return f"+{n} source" if n == 1 else f"+{n} sources"


def load_story_index(db: Database, settings: DedupeSettings | None = None) -> NearDuplicateIndex:
    """Load (and complete) the near-duplicate index once, for a process that keeps it across
    crawls: pass it to every :class:`StoryAssigner` as ``index=``."""
    with write(db):
        return StoryAssigner(db, settings).index


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
        db = self.db
        row = db.execute(
            "SELECT title, text, summary, source, fetched_at, story_id FROM articles WHERE id = ?",
            [article_id],
        ).fetchone()
        if row is None:
            raise KeyError(f"no article {article_id}")
        title, text, summary, source, seen_at, story_id = row
        if story_id is not None:
            return story_id
        seen_at = seen_at or times.utcnow()
        index = self.index
        index.expire(_cutoff(seen_at, self.settings))
        sig, parsed = sign_article(self.signer, index, text or summary)
        fp = fingerprint(title, None, parsed=parsed)
        story_id = self._copy_of(fp)
        if story_id is None and sig is not None:
            for _, other in index.query(sig):
                story_id = self._story_of(other)
                if story_id is not None:
                    break
        if story_id is None:
            story_id = self._new_story(article_id, title, seen_at, source)
        else:
            self._join(story_id, source)
        # One UPDATE of the article row: each one used to re-index its full text.
        db.execute(
            "UPDATE articles SET story_id = ?, fingerprint = ? WHERE id = ?",
            [story_id, fp, article_id],
        )
        save_signatures(db, self.signer, [(article_id, seen_at, sig, parsed.hashes)])
        index.add(article_id, sig, seen_at, story=story_id, source=source, paragraphs=parsed.hashes)
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
        old = db.execute(
            "SELECT title, text, content_hash, fetched_at, summary, story_id, source"
            " FROM articles WHERE id = ?",
            [article_id],
        ).fetchone()
        if old is None:
            raise KeyError(f"no article {article_id}")
        if old[2] == content_hash:
            return False
        now = times.utcnow()
        db.execute(
            "INSERT INTO article_versions (article_id, content_hash, fetched_at, title, text)"
            " VALUES (?, ?, ?, ?, ?)",
            [article_id, old[2], old[3], old[0], old[1]],
        )
        index = self.index
        sig, parsed = sign_article(self.signer, index, text or old[4])
        db.execute(
            "UPDATE articles SET title = ?, text = ?, content_hash = ?, updated_at = ?,"
            " fingerprint = ?, matched_at = NULL WHERE id = ?",
            [title, text, content_hash, now, fingerprint(title, None, parsed=parsed), article_id],
        )
        if old[5] is not None:
            db.execute(
                "UPDATE stories SET updated_at = ?,"
                " title = CASE WHEN article_id = ? THEN ? ELSE title END WHERE id = ?",
                [now, article_id, title, old[5]],
            )
        save_signatures(db, self.signer, [(article_id, old[3], sig, parsed.hashes)])
        index.add(article_id, sig, old[3], story=old[5], source=old[6], paragraphs=parsed.hashes)
        return True

    # ------------------------------------------------------------------ internals

    def _copy_of(self, fp: str | None) -> int | None:
        if fp is None:
            return None
        # the new article's own fingerprint is not stored yet: no need to exclude it
        row = self.db.execute(
            "SELECT story_id FROM articles WHERE fingerprint = ?"
            " AND story_id IS NOT NULL ORDER BY id LIMIT 1",
            [fp],
        ).fetchone()
        return row[0] if row else None

    def _story_of(self, article_id: int) -> int | None:
        # The index may hold an article whose transaction was rolled back: ask the archive.
        row = self.db.execute("SELECT story_id FROM articles WHERE id = ?", [article_id]).fetchone()
        return row[0] if row else None

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
        cur = self.db.execute(
            "INSERT INTO stories (id, article_id, title, first_seen_at, article_count, sources)"
            " VALUES (?, ?, ?, ?, 1, ?)",
            [story_id, article_id, title, seen_at, json.dumps([source])],
        )
        return cur.lastrowid

    def _join(self, story_id: int, source: str) -> None:
        db = self.db
        row = db.execute("SELECT sources FROM stories WHERE id = ?", [story_id]).fetchone()
        sources = json.loads(row[0] or "[]") if row else []
        if source not in sources:
            sources.append(source)
        db.execute(
            "UPDATE stories SET article_count = article_count + 1, sources = ?, updated_at = ?"
            " WHERE id = ?",
            [json.dumps(sources), times.utcnow(), story_id],
        )


@dataclass
class RebuildResult:
    """What ``rebuild_stories`` did."""

    articles: int
    stories_before: int
    stories_after: int
    kept: int  # story ids that survived (their original article still starts a story)
    merged: int  # old stories kept as rows with ``merged_into`` because alerts point at them


def rebuild_stories(db: Database, settings: DedupeSettings | None = None) -> RebuildResult:
    """Recompute every story over the archive with the current settings, in one transaction.

    Articles are re-clustered in the order they were first seen. Story ids stay stable: a
    story keeps the id its original article's story had, so re-running with unchanged
    settings changes nothing. The ``alerts`` table is not touched. An old story that no
    longer exists but that an alert points to stays as a row with ``article_count`` 0 and
    ``merged_into`` set to the story its original article belongs to now; other vanished
    stories are deleted. ``matches.story_id`` is brought in line with ``articles.story_id``.
    """
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
        assigner = StoryAssigner(
            db,
            settings,
            index=NearDuplicateIndex(threshold=settings.threshold, num_perm=settings.num_perm),
        )
        # An original takes back a story that an earlier rebuild merged away (and that
        # alerts point at) before the story its article was in.
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
        new_ids = {r[0] for r in db.execute("SELECT id FROM stories").fetchall()}
        referenced = {r[0] for r in db.execute("SELECT DISTINCT story_id FROM alerts").fetchall()}
        merged = 0
        for sid in sorted(referenced - new_ids):
            row = old_rows.get(sid)
            if row is None:
                continue
            target = db.execute("SELECT story_id FROM articles WHERE id = ?", [row[1]]).fetchone()
            db.execute(
                "INSERT INTO stories (id, article_id, title, first_seen_at, updated_at,"
                " article_count, sources, merged_into) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
                [
                    sid,
                    row[1],
                    row[2],
                    row[3],
                    times.utcnow(),
                    row[5],
                    target[0] if target else None,
                ],
            )
            merged += 1
        db.execute(
            "UPDATE matches SET story_id = (SELECT story_id FROM articles a"
            " WHERE a.id = matches.article_id)"
        )
    return RebuildResult(
        articles=len(order),
        stories_before=sum(row[6] is None for row in old_rows.values()),
        stories_after=len(new_ids),
        kept=len(new_ids & {sid for sid, row in old_rows.items() if row[6] is None}),
        merged=merged,
    )


def dedupe_report(db: Database) -> dict:
    """Articles, stories, and how many stories have more than one article or source."""
    q = db.execute(
        "SELECT count(*), sum(article_count > 1), sum(json_array_length(sources) > 1),"
        " max(article_count) FROM stories WHERE merged_into IS NULL"
    ).fetchone()
    return {
        "articles": db.execute("SELECT count(*) FROM articles").fetchone()[0],
        "stories": q[0],
        "stories_with_copies": q[1] or 0,
        "stories_with_several_sources": q[2] or 0,
        "largest_story": q[3] or 0,
    }
