"""Opening the SQLite archive, the crawler's tables and migrations, and the shared read/write
helpers.

Every stage meets the others only here. The archive runs in WAL mode with a busy timeout;
writes go through :func:`write`, which takes the write lock up front with ``BEGIN IMMEDIATE``
(a deferred transaction that must upgrade to a write fails at once under contention,
whatever the busy timeout).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import quote

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from crawler import archive_access, fulltext
from crawler.archive_access import ArchiveError as ArchiveError

# re-exported: searching lives with the index it reads (crawler/fulltext.py)
from crawler.fulltext import fts_query as fts_query
from crawler.fulltext import search as search

# re-exported: callers outside this package's files still import it from here
from crawler.times import utcnow as utcnow

BUSY_TIMEOUT_MS = 30_000

#: The crawler package's migration set: the tables it owns (sources, fetches, articles and
#: their full-text index, article_versions, stories, minhashes, daemon, robots,
#: story_generation). Other packages keep their own sets and pass them to
#: :func:`open_archive` (the alerts package: alerts/schema.py).
migrations = Migrations("crawler")

#: The one set of archives made before each package owned its tables (up to commit 9e8723c).
LEGACY_SET = "newswatch"


def legacy_applied(db: Database, name: str) -> bool:
    """Whether the old shared ``newswatch`` migration set already applied ``name``.

    A migration that took over one of those steps returns early when it did, so an old
    archive is adopted by the package sets without touching its tables or rows.
    """
    if not db[Migrations.migrations_table].exists():
        return False
    return bool(
        db.execute(
            f"SELECT 1 FROM {Migrations.migrations_table} WHERE migration_set = ? AND name = ?",
            [LEGACY_SET, name],
        ).fetchone()
    )


@migrations()
def m001_initial(db: Database) -> None:
    """Sources, fetches, stories, articles with their full-text index, article versions."""
    if legacy_applied(db, "m001_initial"):
        return
    db.executescript(
        """
        CREATE TABLE sources (
            name TEXT PRIMARY KEY,
            kind TEXT,
            url TEXT,
            etag TEXT,
            last_modified TEXT,
            body_hash TEXT,
            last_attempt_at TEXT,
            last_success_at TEXT,
            last_status INTEGER,
            last_error_class TEXT,
            last_error TEXT,
            items_seen INTEGER NOT NULL DEFAULT 0,
            items_new INTEGER NOT NULL DEFAULT 0,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            health_alerted INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE fetches (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status INTEGER,
            error_class TEXT,
            error TEXT,
            not_modified INTEGER NOT NULL DEFAULT 0,
            items_seen INTEGER NOT NULL DEFAULT 0,
            items_new INTEGER NOT NULL DEFAULT 0,
            duration_s REAL
        );
        CREATE INDEX fetches_source_started ON fetches(source, started_at);
        CREATE TABLE stories (
            id INTEGER PRIMARY KEY,
            article_id INTEGER,
            title TEXT,
            first_seen_at TEXT NOT NULL,
            updated_at TEXT,
            article_count INTEGER NOT NULL DEFAULT 1,
            sources TEXT NOT NULL DEFAULT '[]'
        );
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            guid TEXT,
            source TEXT NOT NULL,
            title TEXT,
            text TEXT,
            summary TEXT,
            author TEXT,
            language TEXT,
            categories TEXT,
            published_at TEXT,
            updated_at TEXT,
            fetched_at TEXT NOT NULL,
            content_hash TEXT,
            fingerprint TEXT,
            story_id INTEGER REFERENCES stories(id),
            matched_at TEXT
        );
        CREATE UNIQUE INDEX articles_source_guid ON articles(source, guid) WHERE guid IS NOT NULL;
        CREATE INDEX articles_unmatched ON articles(id) WHERE matched_at IS NULL;
        CREATE INDEX articles_story ON articles(story_id);
        CREATE INDEX articles_fingerprint ON articles(fingerprint);
        CREATE INDEX articles_source_published ON articles(source, published_at);
        CREATE INDEX articles_fetched ON articles(fetched_at);
        CREATE TABLE article_versions (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            content_hash TEXT,
            fetched_at TEXT NOT NULL,
            title TEXT,
            text TEXT
        );
        CREATE INDEX article_versions_article ON article_versions(article_id);
        """
    )
    db["articles"].enable_fts(
        ["title", "text"], create_triggers=True, tokenize="unicode61 remove_diacritics 2"
    )


@migrations()
def m002_daemon(db: Database) -> None:
    """The daemon's liveness row (crawler/liveness.py)."""
    if legacy_applied(db, "m002_alerts_tables"):
        return
    db.executescript(
        """
        CREATE TABLE daemon (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            pid INTEGER,
            host TEXT,
            started_at TEXT,
            heartbeat_at TEXT,
            cycles INTEGER NOT NULL DEFAULT 0
        );
        """
    )


@migrations()
def m003_dedupe_minhashes(db: Database) -> None:
    """MinHash signatures for the near-duplicate index, and stories merged by a rebuild."""
    if legacy_applied(db, "m005_dedupe_minhashes"):
        return
    db.executescript(
        """
        CREATE TABLE minhashes (
            article_id INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
            params TEXT NOT NULL,
            seen_at TEXT NOT NULL,
            sig BLOB
        );
        CREATE INDEX minhashes_seen ON minhashes(params, seen_at);
        ALTER TABLE stories ADD COLUMN merged_into INTEGER;
        """
    )


@migrations()
def m004_dedupe_paragraphs(db: Database) -> None:
    """Paragraph hashes next to each MinHash signature (site furniture is learnt from them);
    the full-text index re-indexes an article only when its title or text changes."""
    if legacy_applied(db, "m006_dedupe_paragraphs"):
        return
    db.executescript(
        """
        ALTER TABLE minhashes ADD COLUMN paragraphs BLOB;
        DROP TRIGGER IF EXISTS articles_au;
        CREATE TRIGGER articles_au AFTER UPDATE OF title, text ON articles BEGIN
          INSERT INTO articles_fts (articles_fts, rowid, title, text)
            VALUES('delete', old.rowid, old.title, old.text);
          INSERT INTO articles_fts (rowid, title, text) VALUES (new.rowid, new.title, new.text);
        END;
        """
    )


@migrations()
def m005_robots_retries_updates(db: Database) -> None:
    """robots.txt files kept between processes (``robots``, with their expiry), the time a
    server asked us to come back (``sources.retry_at``, from Retry-After), and how many known
    articles each fetch found changed (``fetches.items_updated``)."""
    db.executescript(
        """
        CREATE TABLE robots (
            netloc TEXT PRIMARY KEY,
            status INTEGER,
            body BLOB,
            fetched_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        ALTER TABLE sources ADD COLUMN retry_at TEXT;
        ALTER TABLE fetches ADD COLUMN items_updated INTEGER NOT NULL DEFAULT 0;
        """
    )


@migrations()
def m006_feed_entries(db: Database) -> None:
    """What each article's feed entry last said (a hash of its title and summary, and its
    updated date), so a full-text source can tell an updated entry and fetch its page again."""
    db.executescript(
        """
        ALTER TABLE articles ADD COLUMN entry_hash TEXT;
        ALTER TABLE articles ADD COLUMN entry_updated_at TEXT;
        """
    )


@migrations()
def m007_fts_deferred(db: Database) -> None:
    """A new article is full-text indexed when its write transaction commits, with the
    others stored in it, not by a trigger per row (see crawler/fulltext.py): the insert
    trigger now notes its id in ``articles_fts_pending``; an archive indexed by the old
    triggers is complete and stays as it is."""
    db.executescript(fulltext.DEFERRED_TRIGGERS)


@migrations()
def m008_story_generation(db: Database) -> None:
    """How many times the stories were rebuilt (one row): a process that keeps story state
    across crawls (the daemon) reloads it when another process rebuilt them (see
    crawler/event_state.py)."""
    db.executescript(
        """
        CREATE TABLE story_generation (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            generation INTEGER NOT NULL DEFAULT 0,
            rebuilt_at TEXT
        );
        INSERT INTO story_generation (id, generation) VALUES (1, 0);
        """
    )


@migrations()
def m009_stories_merged(db: Database) -> None:
    """Stories merged into another are looked up by the story they went to (live merges,
    crawler/story_merge.py; the alerts side follows them, crawler/story_ids.py)."""
    db.execute("CREATE INDEX stories_merged ON stories(merged_into) WHERE merged_into IS NOT NULL")


def open_archive(
    path: str | Path,
    *,
    migrate: bool = True,
    schemas: Sequence[Migrations] = (),
    create: bool = True,
    busy_timeout_ms: int | None = None,
) -> Database:
    """Open (with ``create``, creating if needed) the archive at ``path`` and bring its
    schema up to date.

    The crawler's tables come first, then each migration set in ``schemas`` (a package
    that owns more tables passes its own: see alerts/schema.py). Re-opening an up-to-date
    archive changes nothing. Without ``create`` (the read commands) a missing archive or
    folder is an error and nothing is made. ``busy_timeout_ms`` (default BUSY_TIMEOUT_MS)
    bounds every wait for another connection's lock, the opening's own writes included.
    Every failure is an
    :class:`~crawler.archive_access.ArchiveError` saying what is wrong and what to do.
    """
    memory = str(path) == ":memory:"
    if busy_timeout_ms is None:  # read now: the daemon tests shorten BUSY_TIMEOUT_MS
        busy_timeout_ms = BUSY_TIMEOUT_MS
    if not memory and not create and not Path(path).is_file():
        raise archive_access.missing(path)
    try:
        if not memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            archive_access.repair_side_files(path)
        target = str(path) if memory or create else f"file:{quote(str(path))}?mode=rw"
        conn = sqlite3.connect(
            target, timeout=busy_timeout_ms / 1000, check_same_thread=False, uri=not create
        )
    except (OSError, sqlite3.Error) as e:
        raise archive_access.explain(path, e) from None
    # No sqlite-utils plugins on the archive's connection: looking them up scans every
    # installed package's entry points (about 10 ms of each command's start-up).
    db = Database(conn, execute_plugins=False)
    try:
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        db.execute("PRAGMA foreign_keys = ON")
        if not memory and db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")
        if migrate:
            apply(db, migrations, *schemas)
            # rows another program inserted since the last commit through write()
            if fulltext.has_pending(db.conn):
                with write(db):
                    pass  # write() indexes what is pending as it commits
    except (OSError, sqlite3.Error) as e:
        conn.close()
        raise archive_access.explain(path, e) from None
    return db


def apply(db: Database, *sets: Migrations) -> None:
    """Apply the pending migrations of each set, in order, in one write transaction."""
    if any(m.pending(db) for m in sets):
        with write(db):
            for m in sets:
                m.apply(db)


def schema_version(db: Database, migration_set: Migrations = migrations) -> list[str]:
    """Names of the migrations of a set (the crawler's by default) applied, oldest first."""
    return [m.name for m in migration_set.applied(db)]


@contextlib.contextmanager
def write(db: Database) -> Iterator[Database]:
    """A write transaction that takes the lock at its start (``BEGIN IMMEDIATE``).

    Nested calls join the outer transaction through a savepoint. The articles stored in it
    are full-text indexed just before it commits (:func:`crawler.fulltext.index_pending`).
    """
    conn = db.conn
    if conn.in_transaction:
        # sqlite-utils' atomic() names each savepoint at random: a new statement to prepare
        # twice per stored item. One name serves every depth (SQLite releases or rolls back
        # the innermost savepoint of that name).
        conn.execute("SAVEPOINT archive_write")
        try:
            yield db
        except BaseException:
            if conn.in_transaction:  # a RAISE(ROLLBACK) may have ended the transaction
                conn.execute("ROLLBACK TO SAVEPOINT archive_write")
                conn.execute("RELEASE SAVEPOINT archive_write")
            raise
        else:
            conn.execute("RELEASE SAVEPOINT archive_write")
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
        # the articles stored in this transaction, full-text indexed in one statement
        fulltext.index_pending(db.conn)
    except BaseException:
        db.rollback()
        raise
    else:
        try:
            db.conn.execute("COMMIT")
        except BaseException:
            # a failed COMMIT (a deferred constraint, a full disk) leaves the transaction
            # open: every later write() would be a savepoint inside it, never committed
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise


def source_health(db: Database) -> list[dict]:
    """Per source: last fetch result, failures in a row, and how many articles it gave."""
    sql = """
        SELECT s.name, s.kind, s.url, s.last_attempt_at, s.last_success_at, s.last_status,
               s.last_error_class, s.last_error, s.items_seen, s.items_new,
               s.consecutive_failures,
               (SELECT count(*) FROM articles a WHERE a.source = s.name) AS articles
        FROM sources s ORDER BY s.name
    """
    return list(db.query(sql))


def counts(db: Database) -> dict[str, int]:
    """Row counts of the crawler's main tables (alerts/schema.py counts its own)."""
    return {table: db[table].count for table in ("articles", "stories")}
