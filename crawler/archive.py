"""Opening the SQLite archive, its schema and migrations, and the shared read/write helpers.

Every stage meets the others only here. The archive runs in WAL mode with a busy timeout;
writes go through :func:`write`, which takes the write lock up front with ``BEGIN IMMEDIATE``
(a deferred transaction that must upgrade to a write fails at once under contention,
whatever the busy timeout).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from crawler.times import utcnow

BUSY_TIMEOUT_MS = 30_000

migrations = Migrations("newswatch")


__all__ = ["utcnow"]  # kept importable from here until callers use crawler.times


@migrations()
def m001_initial(db: Database) -> None:
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
def m002_alerts_tables(db: Database) -> None:
    """The tables the alerts package owns: matches, tier statements, the outbox, the daemon."""
    db.executescript(
        """
        CREATE TABLE matches (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            story_id INTEGER,
            watch TEXT NOT NULL,
            countries TEXT NOT NULL DEFAULT '[]',
            terms TEXT NOT NULL DEFAULT '[]',
            matched_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX matches_article_watch ON matches(article_id, watch);
        CREATE INDEX matches_watch_time ON matches(watch, matched_at);
        CREATE INDEX matches_story ON matches(story_id);
        CREATE TABLE tier_statements (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            country TEXT NOT NULL,
            tier TEXT NOT NULL,
            year INTEGER,
            sentence TEXT
        );
        CREATE UNIQUE INDEX tier_statements_unique ON tier_statements(article_id, country, tier);
        CREATE INDEX tier_statements_country ON tier_statements(country, year);
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            watch TEXT NOT NULL,
            story_id INTEGER NOT NULL,
            target TEXT NOT NULL,
            article_id INTEGER,
            mode TEXT NOT NULL DEFAULT 'immediate',
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            last_error TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT
        );
        CREATE UNIQUE INDEX alerts_key ON alerts(watch, story_id, target);
        CREATE INDEX alerts_status ON alerts(status, next_attempt_at);
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


def open_archive(path: str | Path, *, migrate: bool = True) -> Database:
    """Open (creating if needed) the archive at ``path`` and bring its schema up to date.

    Re-opening an up-to-date archive changes nothing.
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    db = Database(conn)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    if str(path) != ":memory:" and db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        db.enable_wal()
    db.execute("PRAGMA synchronous = NORMAL")
    if migrate and migrations.pending(db):
        with write(db):
            migrations.apply(db)
    return db


def schema_version(db: Database) -> list[str]:
    """Names of the migrations applied to this archive, oldest first."""
    return [m.name for m in migrations.applied(db)]


@contextlib.contextmanager
def write(db: Database) -> Iterator[Database]:
    """A write transaction that takes the lock at its start (``BEGIN IMMEDIATE``).

    Nested calls join the outer transaction through a savepoint.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    else:
        db.conn.execute("COMMIT")


def fts_query(text: str) -> str:
    """Turn what a person types into a safe FTS5 query: words ANDed, quoted phrases kept,
    a trailing ``*`` kept as a prefix search, FTS operators AND/OR/NOT honoured."""
    tokens: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == '"':
            j = text.find('"', i + 1)
            j = n if j == -1 else j
            phrase = text[i + 1 : j].replace('"', "")
            if phrase.strip():
                tokens.append(f'"{phrase}"')
            i = j + 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] != '"':
            j += 1
        word = text[i:j]
        i = j
        if word in ("AND", "OR", "NOT"):
            tokens.append(word)
            continue
        prefix = word.endswith("*")
        word = word.rstrip("*").replace('"', "")
        if word:
            tokens.append(f'"{word}"' + ("*" if prefix else ""))
    # Drop dangling operators so a stray "OR" does not become a syntax error.
    while tokens and tokens[0] in ("AND", "OR", "NOT"):
        tokens.pop(0)
    while tokens and tokens[-1] in ("AND", "OR", "NOT"):
        tokens.pop()
    return " ".join(tokens)


def search(db: Database, query: str, *, limit: int = 20) -> list[dict]:
    """Full-text search over article titles and text, best match first."""
    q = fts_query(query)
    if not q:
        return []
    sql = """
        SELECT articles.id, articles.published_at, articles.fetched_at, articles.source,
               articles.title, articles.url, articles.story_id,
               snippet(articles_fts, 1, '[', ']', '…', 12) AS snippet
        FROM articles_fts JOIN articles ON articles.rowid = articles_fts.rowid
        WHERE articles_fts MATCH ?
        ORDER BY rank LIMIT ?
    """
    return [dict(r) for r in _rows(db, sql, [q, limit])]


def source_health(db: Database) -> list[dict]:
    """Per source: last fetch result, failures in a row, and how many articles it gave."""
    sql = """
        SELECT s.name, s.kind, s.url, s.last_attempt_at, s.last_success_at, s.last_status,
               s.last_error_class, s.last_error, s.items_seen, s.items_new,
               s.consecutive_failures,
               (SELECT count(*) FROM articles a WHERE a.source = s.name) AS articles
        FROM sources s ORDER BY s.name
    """
    return [dict(r) for r in _rows(db, sql, [])]


def counts(db: Database) -> dict[str, int]:
    """Row counts of the main tables."""
    out = {}
    for table in ("articles", "stories", "matches", "tier_statements", "alerts"):
        out[table] = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return out


def _rows(db: Database, sql: str, params: list) -> list[sqlite3.Row]:
    cur = db.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


@migrations()
def m004_alert_deliveries(db: Database) -> None:
    """One row per message delivery sent: for max_per_hour, digest times and `alerts list`."""
    db.executescript(
        """
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            watch TEXT NOT NULL,
            target TEXT NOT NULL,
            kind TEXT NOT NULL,
            alerts INTEGER NOT NULL DEFAULT 0,
            sent_at TEXT NOT NULL
        );
        CREATE INDEX deliveries_watch_target ON deliveries(watch, target, kind, sent_at);
        """
    )


@migrations()
def m005_dedupe_minhashes(db: Database) -> None:
    """MinHash signatures for the near-duplicate index, and stories merged by a rebuild."""
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
def m006_dedupe_paragraphs(db: Database) -> None:
    """Paragraph hashes next to each MinHash signature (site furniture is learnt from them);
    the full-text index re-indexes an article only when its title or text changes."""
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
