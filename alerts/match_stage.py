"""The match stage: archived articles through the compiled watchlist into `matches` and
`tier_statements`; also the plumbing of `newswatch match`.

It never writes `alerts`: the outbox turns matches into alerts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from alerts import followups, query_eval
from alerts.matcher import Matcher, MatchResult
from alerts.schema import ensure
from crawler import archive, times

log = logging.getLogger(__name__)


@dataclass
class MatchStats:
    """What a match run did: articles read, new match rows, new tier statements, the
    (article, watch) evaluations stopped at the query bound, and the follow-ups of alerted
    stories found (alerts/followups.py: updates and growth)."""

    articles: int = 0
    matches: int = 0
    tier_statements: int = 0
    stopped: int = 0
    changes: int = 0


def _year(row: Mapping) -> int | None:
    for key in ("published_at", "fetched_at"):
        value = row.get(key)
        if value and value[:4].isdigit():
            return int(value[:4])
    return None


_INSERT_MATCH = (
    "INSERT OR IGNORE INTO matches"
    " (article_id, story_id, watch, countries, terms, matched_at, version)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_TIER = (
    "INSERT OR IGNORE INTO tier_statements (article_id, country, tier, year, sentence, basis)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


def store_result(
    db: Database,
    row: Mapping,
    result: MatchResult,
    now: str,
    *,
    refresh: bool = False,
    version: int = 0,
) -> tuple[int, int]:
    """Write one article's matches and tier statements (existing rows are kept as they are;
    with ``refresh``, for a new version of the article, existing match rows take its
    countries, terms and ``version`` (how many earlier versions it has), keeping their
    ``matched_at``; a tier statement stored from a formula alone that this text states in
    words takes the words' sentence and basis).

    Returns how many match rows and tier statements were new. Call inside ``archive.write``.
    """
    matches = [
        {
            "article_id": row["id"],
            "story_id": row.get("story_id"),
            "watch": watch,
            "countries": json.dumps(result.countries),
            "terms": json.dumps(result.watch_terms.get(watch, []), ensure_ascii=False),
            "matched_at": now,
            "version": version,
        }
        for watch in result.watches
    ]
    year = _year(row)
    tiers = [
        {
            "article_id": row["id"],
            "country": t.country,
            "tier": t.tier,
            "year": t.year or year,
            "sentence": t.sentence,
            "basis": t.basis,
        }
        for t in result.tiers
    ]
    # INSERT OR IGNORE keeps existing rows; the connection's change counter says how many
    # were new (neither table has triggers).
    before = db.conn.total_changes
    if matches:
        # plain statements: sqlite-utils' insert_all builds its SQL again for every article
        db.conn.executemany(_INSERT_MATCH, [tuple(m.values()) for m in matches])
    new_matches = db.conn.total_changes - before
    if refresh and matches:
        db.conn.executemany(
            "UPDATE matches SET countries = ?, terms = ?, version = ?"
            " WHERE article_id = ? AND watch = ?",
            [(m["countries"], m["terms"], version, m["article_id"], m["watch"]) for m in matches],
        )
    before = db.conn.total_changes
    if tiers:
        db.conn.executemany(_INSERT_TIER, [tuple(t.values()) for t in tiers])
    new_tiers = db.conn.total_changes - before
    # a tier stored from a formula alone that a new text states in words becomes the words'
    # reading (else, with tier_formulas off, it would stay hidden)
    db.conn.executemany(
        "UPDATE tier_statements SET basis = 'words', sentence = ?, year = ?"
        " WHERE article_id = ? AND country = ? AND tier = ? AND basis = 'formula'",
        [
            (t["sentence"], t["year"], t["article_id"], t["country"], t["tier"])
            for t in tiers
            if t["basis"] == "words"
        ],
    )
    return new_matches, new_tiers


def _store_stopped(db: Database, row: Mapping, result: MatchResult, now: str) -> int:
    """Record the watches whose evaluation hit the bound on this article (in
    `stopped_matches`, counted by `newswatch status`); the stage goes on with the next."""
    for watch in result.stopped:
        log.warning(
            "watch %r: query evaluation stopped at its bound (%s steps) on article %s; "
            "recorded in stopped_matches, the stage goes on",
            watch,
            f"{query_eval.BUDGET:,}",
            row["id"],
        )
    if result.stopped:
        reason = f"query evaluation stopped after {query_eval.BUDGET:,} steps"
        rows = [
            {"article_id": row["id"], "watch": w, "reason": reason, "stopped_at": now}
            for w in result.stopped
        ]
        db["stopped_matches"].insert_all(rows, ignore=True)
    return len(result.stopped)


_COLUMNS = "id, source, title, text, language, story_id, published_at, fetched_at, content_hash"


def _run(
    db: Database,
    matcher: Matcher,
    rows: list[dict],
    stats: MatchStats,
    *,
    pending: bool = False,
    now: datetime | None = None,
) -> None:
    # Match first, then write: the archive's write lock is held only while rows are stored,
    # never while a batch's queries are evaluated (crawl and delivery write meanwhile).
    results = [
        (row, matcher.match(row["title"], row["text"], row["source"], row["language"]))
        for row in rows
    ]
    stamp = times.iso(now) if now is not None else times.utcnow()
    with archive.write(db):
        # Only articles new to the matcher (or a new version) can change an alerted story;
        # a re-match of the archive (a changed watchlist) is not news about the story.
        version = followups.versions(db, [r["id"] for r in rows])
        for row, result in results:
            n = version.get(row["id"], 0)
            if pending:
                # before the article's own rows are stored: they are the "after"
                stats.changes += followups.detect(
                    db, row, result, n, stamp, formulas=matcher.tier_formulas
                )
            m, t = store_result(db, row, result, stamp, refresh=pending and n > 0, version=n)
            stats.articles += 1
            stats.matches += m
            stats.tier_statements += t
            stats.stopped += _store_stopped(db, row, result, stamp)
            # only the words matched: a version the crawl stored since they were read is
            # left for the next run (its new words may name a watched country)
            db.conn.execute(
                "UPDATE articles SET matched_at = coalesce(matched_at, ?)"
                " WHERE id = ? AND content_hash IS ?",
                (stamp, row["id"], row["content_hash"]),
            )


def _select(db: Database, where: str, params: list) -> list[dict]:
    return list(db.query(f"SELECT {_COLUMNS} FROM articles WHERE {where}", params))


def match_pending(
    db: Database, matcher: Matcher, *, batch_size: int = 500, now: datetime | None = None
) -> MatchStats:
    """Match every article with ``matched_at IS NULL``, one transaction per batch.

    ``now`` (default: the clock) stamps the matches, stops and follow-ups, so a caller
    that runs a whole cycle at one time (``stages.process_stage``) has one clock.
    """
    ensure(db)
    stats = MatchStats()
    while rows := _select(db, "matched_at IS NULL ORDER BY id LIMIT ?", [batch_size]):
        _run(db, matcher, rows, stats, pending=True, now=now)
    return stats


def rematch_archive(
    db: Database, matcher: Matcher, since: str | None = None, *, batch_size: int = 500
) -> MatchStats:
    """Re-run stored articles (fetched at or after ``since``); writes only new rows."""
    ensure(db)
    stats = MatchStats()
    last = 0
    where = "id > ?" + (" AND fetched_at >= ?" if since else "") + " ORDER BY id LIMIT ?"
    while rows := _select(db, where, [last, *([since] if since else []), batch_size]):
        _run(db, matcher, rows, stats)
        last = rows[-1]["id"]
    return stats


def matched_articles(db: Database, watches: list[str], since: str | None = None) -> Iterator[dict]:
    """The stored articles these watches match (fetched at or after ``since``), one dict
    per article: ``id``, ``title``, ``source``, ``url``, ``watches``."""
    marks = ",".join("?" * len(watches))
    rows = db.query(
        "SELECT a.id, a.title, a.source, a.url, group_concat(m.watch, char(31)) AS watches"
        f" FROM matches m JOIN articles a ON a.id = m.article_id WHERE m.watch IN ({marks})"
        + (" AND a.fetched_at >= ?" if since else "")
        + " GROUP BY a.id ORDER BY a.id",
        [*watches, *([since] if since else [])],
    )
    for row in rows:
        yield {**row, "watches": sorted(row["watches"].split(chr(31)))}


def tier_history(db: Database, country: str, *, formulas: bool = False) -> list[dict]:
    """A country's tier statements by year, with the article each came from and how the
    text states the tier (``basis``: "words", "formula", or None when stored before it was
    recorded). Statements read from a formula alone only with ``formulas`` (the
    ``[gazetteer] tier_formulas`` setting): a config that turns it off stops showing those
    stored while it was on."""
    ensure(db)
    rows = db.query(
        f"""
        SELECT t.year, t.tier, t.basis, t.sentence, a.id AS article_id, a.title, a.source,
               a.url, a.published_at
        FROM tier_statements t JOIN articles a ON a.id = t.article_id
        WHERE t.country = ? {"" if formulas else "AND t.basis IS NOT 'formula'"}
        ORDER BY t.year IS NULL, t.year, t.tier, a.published_at, a.id
        """,
        [country],
    )
    return list(rows)


class InputError(ValueError):
    """Input to `newswatch match` that cannot be read; says which line."""


def read_articles(text: str, name: str | None = None) -> Iterator[dict]:
    """Articles from JSON Lines (``{"id", "title", "text"}``) or, failing that, plain text.

    Plain text is one article: its first line is the title. JSON Lines is recognised by a
    first non-blank character ``{``; then every non-blank line must be a JSON object. Blank
    input is no article.
    """
    if not text.strip():
        return
    if not text.lstrip().startswith("{"):
        title, _, body = text.strip().partition("\n")
        yield {"id": name, "title": title.strip(), "text": body.strip()}
        return
    # Lines end at "\n" only: str.splitlines() also splits at U+2028, U+2029, \x1c-\x1e and
    # \x85, which JSON allows raw inside strings (a title quoting a web page has them).
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"line {number}: not valid JSON ({e.msg})") from None
        if not isinstance(obj, dict):
            raise InputError(f"line {number}: expected a JSON object")
        for key in ("title", "text"):
            if obj.get(key) is not None and not isinstance(obj[key], str):
                raise InputError(f"line {number}: {key!r} must be a string")
        yield {
            "id": obj.get("id", number),
            "title": obj.get("title") or "",
            "text": obj.get("text") or "",
            "source": obj.get("source"),
            "language": obj.get("language") if isinstance(obj.get("language"), str) else None,
        }


def result_json(article_id: object, result: MatchResult) -> dict:
    """The `newswatch match` output object for one article (``stopped``: the watches whose
    evaluation hit the query bound, undecided for this article; only when there are any)."""
    out = {
        "id": article_id,
        "countries": result.countries,
        "watches": result.watches,
        "tiers": [
            {"country": t.country, "tier": t.tier, "year": t.year, "basis": t.basis}
            for t in result.tiers
        ],
        "terms": [[term, start, end] for term, start, end in result.terms],
    }
    if result.stopped:
        out["stopped"] = result.stopped
    return out


def match_records(matcher: Matcher, records: Iterable[dict]) -> Iterator[dict]:
    """Match each record read by :func:`read_articles`; yield the output objects."""
    for r in records:
        res = matcher.match(r["title"], r["text"], r.get("source"), r.get("language"))
        yield result_json(r["id"], res)
