"""Follow-ups of an alerted story: an update of the article it was alerted with, and material
growth (new countries, a new tier statement); found at match time, queued per watch policy.

A story alerts each watch once. What happens to it afterwards is recorded in
``story_changes``, one row per (watch, article, version), by the match stage, which alone
sees an article's matches and tier statements before and after its new text:

- **update**: the article a watch was sent (``alerts.article_id`` of a sent first alert)
  comes back as a new version (``article_versions``) whose title or text differ;
- **growth**: another article of the story (a new one, or a new version of one) names
  countries or tier statements that the story's articles this watch matched did not.
  Coverage that adds neither is not growth: it shows as "+N outlets" only.

Only stories already sent count: before that, the first alert shows the story as it is.
:func:`enqueue` turns the rows into outbox rows per watch setting (``on_update``,
``on_growth``: alert | digest | ignore; an update that adds a country or tier statement the
watch follows is growth too, and the stronger setting applies), keyed by the change's id, so
a change is queued once per target whatever the number of restarts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlite_utils import Database

from alerts.config import Target, Watch
from alerts.targets import route
from crawler.story_ids import FAMILY, LIVE_STORY
from crawler.times import iso, utc

if TYPE_CHECKING:
    from alerts.matcher import MatchResult

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
ADDED_CHARS = 400


def versions(db: Database, ids: Sequence[int]) -> dict[int, int]:
    """How many earlier versions each of these articles has (absent: none)."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = db.execute(
        "SELECT article_id, count(*) FROM article_versions"
        f" WHERE article_id IN ({marks}) GROUP BY article_id",
        list(ids),
    ).fetchall()
    return dict(rows)


def added_text(old: str | None, new: str | None, chars: int = ADDED_CHARS) -> str:
    """The sentences of ``new`` that ``old`` does not have, in order, cut near ``chars``."""
    seen = {" ".join(s.split()) for s in _SENTENCE.split(old or "")}
    added: list[str] = []
    for sentence in _SENTENCE.split(new or ""):
        sentence = " ".join(sentence.split())
        if sentence and sentence not in seen and sentence not in added:
            added.append(sentence)
    text = " ".join(added)
    return text if len(text) <= chars else text[:chars].rsplit(" ", 1)[0] + " …"


def _sent_firsts(db: Database, story_id: int) -> dict[str, set[int]]:
    """Per watch, the articles a sent first alert of this story (or of a story merged into
    it, crawler/story_ids.py) named."""
    out: dict[str, set[int]] = {}
    for watch, article in db.execute(
        f"SELECT watch, article_id FROM alerts WHERE story_id IN {FAMILY.format(story='?')}"
        " AND change_id = 0 AND status = 'sent'",
        [story_id, story_id],
    ):
        out.setdefault(watch, set()).add(article)
    return out


def _known(
    db: Database, story_id: int, watch: str, article_id: int, formulas: bool = False
) -> tuple[set, set]:
    """Countries and (country, tier) pairs the story's articles matched by ``watch`` already
    carry (this article's earlier version included); tiers read from a formula alone only
    with ``formulas`` (stored while it was on, they were never shown since)."""
    # CROSS JOIN keeps the story's articles as the outer loop (SQLite's planner may
    # otherwise walk every match of the watch): the cost is the story's size, not the
    # archive's.
    rows = db.execute(
        "SELECT DISTINCT j.value FROM articles a CROSS JOIN matches m ON m.article_id = a.id"
        " CROSS JOIN json_each(m.countries) j WHERE a.story_id = ? AND m.watch = ?",
        [story_id, watch],
    )
    countries = {code for (code,) in rows}
    tiers = set(
        db.execute(
            "SELECT t.country, t.tier FROM articles a CROSS JOIN tier_statements t"
            " ON t.article_id = a.id WHERE a.story_id = ? AND (a.id = ? OR EXISTS"
            " (SELECT 1 FROM matches m WHERE m.article_id = a.id AND m.watch = ?))"
            " AND (t.basis IS NOT 'formula' OR ?)",
            [story_id, article_id, watch, formulas],
        ).fetchall()
    )
    return countries, tiers


def _seen(db: Database, article_id: int, watch: str, version: int) -> tuple | None:
    """(title, text) of the version of this article that ``watch`` last matched: the one
    its match row records (versions that came and went between two match runs were never
    told), else the latest earlier version; None when that is this version."""
    row = db.execute(
        "SELECT version FROM matches WHERE article_id = ? AND watch = ?", [article_id, watch]
    ).fetchone()
    seen = version - 1 if row is None or row[0] is None else row[0]
    if seen >= version:
        return None
    # article_versions rows in id order hold versions 0, 1, ... of the article
    return db.execute(
        "SELECT title, text FROM article_versions WHERE article_id = ? ORDER BY id"
        " LIMIT 1 OFFSET ?",
        [article_id, max(seen, 0)],
    ).fetchone()


def detect(
    db: Database,
    row: Mapping,
    result: MatchResult,
    version: int,
    now: str,
    *,
    formulas: bool = False,
) -> int:
    """Record what this (re-)matched article changes in stories already alerted to the
    watches it matches; returns how many changes were new. Call inside ``archive.write``,
    before the article's matches and tier statements are stored. ``formulas``: the
    matcher's ``tier_formulas`` (off: a tier stored from a formula alone is not known)."""
    story = row.get("story_id")
    if story is None or not result.watches:
        return 0
    firsts = _sent_firsts(db, story)
    if not firsts:
        return 0
    new = 0
    for watch in result.watches:
        if watch not in firsts:
            continue
        previous = _seen(db, row["id"], watch, version) if version else None
        countries, tiers = _known(db, story, watch, row["id"], formulas)
        found = [(t.country, t.tier, t.year) for t in result.tiers]
        change = {
            "countries_added": json.dumps([c for c in result.countries if c not in countries]),
            "tiers_added": json.dumps(
                [list(t) for t in dict.fromkeys(found) if t[:2] not in tiers]
            ),
        }
        if previous is not None and row["id"] in firsts[watch]:
            old_title, old_text = previous
            title_changed = (old_title or "") != (row.get("title") or "")
            text_changed = " ".join((old_text or "").split()) != " ".join(
                (row.get("text") or "").split()
            )
            if not (title_changed or text_changed):
                continue  # a new hash for the same words
            change |= {
                "kind": "update",
                "title_changed": int(title_changed),
                "old_title": old_title if title_changed else None,
                "text_changed": int(text_changed),
                "added_text": added_text(old_text, row.get("text")) if text_changed else None,
            }
        elif change["countries_added"] != "[]" or change["tiers_added"] != "[]":
            change["kind"] = "growth"
        else:
            continue  # more coverage, nothing new: "+N outlets" only
        change |= {
            "watch": watch,
            "story_id": story,
            "article_id": row["id"],
            "version": version,
            "detected_at": now,
        }
        # plain SQL: this runs per matched article of an alerted story
        columns = ",".join(change)
        cur = db.execute(
            f"INSERT OR IGNORE INTO story_changes ({columns})"
            f" VALUES ({','.join('?' * len(change))})",
            list(change.values()),
        )
        new += cur.rowcount
    return new


def cared(watch: Watch, codes: Sequence[str]) -> list[str]:
    """The countries among ``codes`` this watch cares about: its own, or any without."""
    return [c for c in codes if not watch.countries or c in watch.countries]


def material(watch: Watch, change: Mapping) -> bool:
    """Whether a change adds a country, or a tier statement about a country, that this
    watch cares about."""
    countries = json.loads(change["countries_added"] or "[]")
    tiers = [t[0] for t in json.loads(change["tiers_added"] or "[]")]
    return bool(cared(watch, countries) or cared(watch, tiers))


_RANK = {"ignore": 0, "digest": 1, "alert": 2}


def policy(watch: Watch, change: Mapping) -> str:
    """What this watch does with a change: alert | digest | ignore. Growth follows
    ``on_growth`` when it is material to the watch (else ignore); an update follows
    ``on_update``, or ``on_growth`` when that says more and the update is material (the
    alerted article itself gained a country or tier statement the watch follows)."""
    grows = watch.on_growth if material(watch, change) else "ignore"
    if change["kind"] != "update":
        return grows
    return max(watch.on_update, grows, key=_RANK.__getitem__)


def enqueue(
    db: Database,
    watches: Sequence[Watch],
    targets: Sequence[Target],
    *,
    now: datetime,
    horizon: timedelta,
) -> int:
    """Create the outbox rows of recent changes per watch setting; returns how many.

    A change goes to a target that was sent the story's first alert before the change was
    found (a target that had not yet been sent it gets the story as it is now). "alert"
    rows are due at once, "digest" rows wait for the watch's digest time. Call inside
    ``archive.write``."""
    created = 0
    since = iso(utc(now) - horizon)
    for watch in watches:
        if watch.on_update == watch.on_growth == "ignore":
            continue
        changes = list(
            db.query(
                "SELECT * FROM story_changes WHERE watch = ? AND detected_at >= ? ORDER BY id",
                [watch.name, since],
            )
        )
        for change in changes:
            does = policy(watch, change)
            if does == "ignore":
                continue
            mode = "immediate" if does == "alert" else "digest"
            for target in route(targets, watch.targets):
                # the first alert may have gone out for a story merged into this one since,
                # or for the one this change's story was merged into (crawler/story_ids.py)
                cur = db.execute(
                    f"""
                    INSERT OR IGNORE INTO alerts
                        (watch, story_id, target, article_id, mode, status, attempts,
                         next_attempt_at, created_at, change_id)
                    SELECT ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?
                    WHERE EXISTS (SELECT 1 FROM alerts WHERE watch = ?
                        AND story_id IN {FAMILY.format(story=LIVE_STORY.format(col="?"))}
                        AND target = ? AND change_id = 0 AND status = 'sent'
                        AND sent_at <= ?)
                    """,
                    [
                        watch.name,
                        change["story_id"],
                        target.name,
                        change["article_id"],
                        mode,
                        iso(utc(now)) if mode == "immediate" else None,
                        iso(utc(now)),
                        change["id"],
                        watch.name,
                        *[change["story_id"]] * 4,  # the live story, twice in FAMILY
                        target.name,
                        change["detected_at"],
                    ],
                )
                created += cur.rowcount
    return created


def changes(db: Database, ids: Sequence[int]) -> dict[int, dict]:
    """The ``story_changes`` rows with these ids, by id."""
    ids = [i for i in dict.fromkeys(ids) if i]
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    return {r["id"]: r for r in db.query(f"SELECT * FROM story_changes WHERE id IN ({marks})", ids)}
