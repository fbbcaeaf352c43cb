"""The alerts package's tables: matches, tier_statements, the alerts outbox and deliveries.

The crawler owns its tables (crawler/archive.py); the alerts package owns these through its
own sqlite-utils migration set, applied when alerts opens the archive
(:func:`open_archive`) and, for a handle opened by the crawler, before the alerts stages
touch it (:func:`ensure`). Archives made before each package owned its tables (the shared
``newswatch`` set) are adopted as they are: a step they already took is skipped.
"""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from crawler import archive
from crawler.archive import legacy_applied

migrations = Migrations("alerts")

#: The tables this package owns, for counts and for the upgrade test.
TABLES = (
    "matches",
    "tier_statements",
    "alerts",
    "deliveries",
    "stopped_matches",
    "story_changes",
)


@migrations()
def m001_matches_tiers_outbox(db: Database) -> None:
    """Matches per (article, watch), tier statements, and the outbox."""
    if legacy_applied(db, "m002_alerts_tables"):
        return
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
        """
    )


@migrations()
def m002_deliveries(db: Database) -> None:
    """One row per message delivery sent: for max_per_hour, digest times and `alerts list`."""
    if legacy_applied(db, "m004_alert_deliveries"):
        return
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
def m003_stopped_matches(db: Database) -> None:
    """Watches whose query evaluation hit its bound on an article (alerts/query_eval.py):
    undecided there, recorded so that the user sees it, while the stage went on."""
    db.executescript(
        """
        CREATE TABLE stopped_matches (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            watch TEXT NOT NULL,
            reason TEXT NOT NULL,
            stopped_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX stopped_matches_article_watch ON stopped_matches(article_id, watch);
        """
    )


@migrations()
def m004_story_changes(db: Database) -> None:
    """Follow-ups of an alerted story (alerts/followups.py): one ``story_changes`` row per
    (watch, article, version) that updated the alerted article or added countries or tier
    statements to the story; outbox rows for them carry its id in ``alerts.change_id``
    (0 for a story's first alert), which joins the outbox's unique key."""
    db.executescript(
        """
        CREATE TABLE story_changes (
            id INTEGER PRIMARY KEY,
            watch TEXT NOT NULL,
            story_id INTEGER NOT NULL,
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            version INTEGER NOT NULL DEFAULT 0,
            kind TEXT NOT NULL,
            title_changed INTEGER NOT NULL DEFAULT 0,
            old_title TEXT,
            text_changed INTEGER NOT NULL DEFAULT 0,
            added_text TEXT,
            countries_added TEXT NOT NULL DEFAULT '[]',
            tiers_added TEXT NOT NULL DEFAULT '[]',
            detected_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX story_changes_key ON story_changes(watch, article_id, version);
        CREATE INDEX story_changes_watch_time ON story_changes(watch, detected_at);
        ALTER TABLE alerts ADD COLUMN change_id INTEGER NOT NULL DEFAULT 0;
        DROP INDEX alerts_key;
        CREATE UNIQUE INDEX alerts_key ON alerts(watch, story_id, target, change_id);
        CREATE INDEX alerts_story ON alerts(story_id, change_id);
        """
    )


@migrations()
def m005_tier_basis(db: Database) -> None:
    """How a tier statement's text states the tier: "words" (it names the tier) or "formula"
    (only the report's minimum-standards formula gives it; stored only with ``[gazetteer]
    tier_formulas``). Statements stored before keep NULL: not recorded."""
    db.execute("ALTER TABLE tier_statements ADD COLUMN basis TEXT")


@migrations()
def m006_match_version(db: Database) -> None:
    """The article version a match row was last matched on (how many earlier versions the
    article had then): an update is told against the version the watch last saw, however
    many came between (alerts/followups.py). Rows stored before keep NULL: the latest
    earlier version stands in."""
    db.execute("ALTER TABLE matches ADD COLUMN version INTEGER")


def open_archive(
    path: str | Path,
    *,
    migrate: bool = True,
    create: bool = True,
    busy_timeout_ms: int | None = None,
) -> Database:
    """Open the archive with the crawler's tables and this package's, both up to date
    (without ``create``, a missing archive is an ArchiveError and nothing is made; see
    :func:`crawler.archive.open_archive` for ``busy_timeout_ms``)."""
    return archive.open_archive(
        path, migrate=migrate, schemas=[migrations], create=create, busy_timeout_ms=busy_timeout_ms
    )


def ensure(db: Database) -> Database:
    """Bring this package's tables up to date on a handle the crawler opened; cheap when
    they are (one look at the migrations table)."""
    archive.apply(db, migrations)
    return db


def counts(db: Database) -> dict[str, int]:
    """Row counts of this package's main tables."""
    ensure(db)
    tables = ("matches", "tier_statements", "alerts", "stopped_matches", "story_changes")
    return {table: db[table].count for table in tables}
