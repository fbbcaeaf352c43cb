"""What a message shows about its alerts: one item per story, read from the archive.

An item is built from the outbox rows of one story for one target; when several watches
matched the story, their rows become one item naming every watch, so the person gets one
message per story, not one per watch.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from functools import cache

from sqlite_utils import Database

from alerts import followups, outbox
from alerts.render import country_tag, excerpt, matched_phrases
from crawler.story_ids import FAMILY, LIVE_STORY, live_story


@cache
def country_name(code: str) -> str:
    """``AZ`` -> ``Azerbaijan`` (English CLDR names), unknown codes as they are."""
    from babel import Locale

    return Locale("en").territories.get(code, code)


# the story as it is now: an alert for a story merged into another since shows the live
# story's outlets (crawler/story_ids.py)
_ARTICLE = (
    "SELECT a.title, a.url, a.source, a.published_at, a.text, s.article_count,"
    " s.sources, s.title AS story_title, s.id FROM articles a LEFT JOIN stories s"
    f" ON s.id = {LIVE_STORY.format(col='?')} WHERE a.id = ?"
)
_ARTICLE_KEYS = (
    "title",
    "url",
    "source",
    "published_at",
    "text",
    "article_count",
    "sources",
    "story_title",
    "live",
)
_MATCH = "SELECT countries, terms FROM matches WHERE article_id = ? AND watch = ?"


def _tiers_sql(formulas: bool) -> str:
    return (
        "SELECT country, tier, year, sentence, basis FROM tier_statements"
        f" WHERE article_id = ? {_shown(formulas)} ORDER BY country"
    )


def alert_item(
    db: Database,
    row: dict | Sequence[dict],
    chars: int = 300,
    prefer: Sequence[str] = (),
    cares: Collection[str] | None = None,
    *,
    formulas: bool = False,
) -> dict:
    """Everything a template shows about one story's alert rows (one row, or the rows of
    several watches for the same story and target), read from the archive.

    ``prefer``: country codes (the watches' own) that lead the subject's ``(AZ +7)`` tag.
    A follow-up row (``change_id``: an update or growth, alerts/followups.py) also gives
    ``change``, what is new, naming only the countries in ``cares`` (None: all); a story's
    first alert has ``change`` None.

    Tier statements read from a formula alone (``basis`` "formula") show only with
    ``formulas`` (``[gazetteer] tier_formulas``): ones stored while it was on stay hidden
    once it is off; shown, each tier says its ``basis``."""
    rows = [row] if isinstance(row, dict) else list(row)
    first = rows[0]
    # Plain statements on the connection (sqlite-utils' query() parses each statement's SQL
    # again): three per message of 5,300 on the peer bench.
    conn = db.conn
    story = first["story_id"]
    found = conn.execute(_ARTICLE, [story, story, first["article_id"]]).fetchone()
    a = (
        dict(zip(_ARTICLE_KEYS, found, strict=True))
        if found
        else {"source": "", "text": "", "article_count": 1, "sources": "[]"}
    )
    countries: list[str] = []
    terms: list = []
    for r in rows:
        m = conn.execute(_MATCH, [r["article_id"], r["watch"]]).fetchone() or ("[]", "[]")
        countries += json.loads(m[0])
        terms += json.loads(m[1])
    countries = list(dict.fromkeys(countries))
    codes = [c for c in prefer if c in countries] + [c for c in countries if c not in prefer]
    tiers = [
        {"country": country_name(c), "tier": t, "year": y, "sentence": st, "basis": b}
        for c, t, y, st, b in conn.execute(_TIERS[bool(formulas)], [first["article_id"]])
    ]
    sources = json.loads(a.get("sources") or "[]")
    # "+N outlets": the other outlets that carried the story (copies and their own reports)
    others = max(len(sources) - 1, 0)
    change = None
    if first.get("change_id"):
        found = followups.changes(db, [first["change_id"]]).get(first["change_id"])
        hidden = () if formulas or not found else formula_tiers(db, found["article_id"])
        change = change_view(found, cares, hidden) if found else None
    return {
        "story_id": a.get("live") or story,  # the live story (its page lists every outlet)
        "change": change,
        "story_title": a.get("story_title") or a.get("title") or "(untitled)",
        "title": a.get("title") or a.get("story_title") or "(untitled)",
        "url": a.get("url") or "",
        "source": a.get("source") or "",
        "others": others,
        "published": (a.get("published_at") or "")[:10],
        "codes": codes,
        "tag": country_tag(codes),
        "countries": [country_name(c) for c in codes],
        "tiers": tiers,
        "terms": matched_phrases(terms),
        "excerpt": excerpt(a.get("text"), terms, chars),
    }


def group_by_country(items: list[dict]) -> list[dict]:
    """Digest sections: one per country in name order (an item under each of its countries)."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for item in items:
        for name in item["countries"] or ["Other"]:
            groups[name].append(item)
    order = sorted(groups, key=lambda n: (n == "Other", n))
    return [{"country": name, "items": groups[name]} for name in order]


def _shown(formulas: bool) -> str:
    """The SQL condition (``AND ...``) that keeps formula-only tier statements out unless
    ``formulas``."""
    return "" if formulas else "AND basis IS NOT 'formula'"


_TIERS = {False: _tiers_sql(False), True: _tiers_sql(True)}


def formula_tiers(db: Database, article_id: int) -> set[tuple[str, str]]:
    """The (country, tier) pairs this article states by a formula alone."""
    rows = db.execute(
        "SELECT country, tier FROM tier_statements WHERE article_id = ? AND basis = 'formula'",
        [article_id],
    )
    return set(rows.fetchall())


def change_view(
    change: Mapping,
    cares: Collection[str] | None = None,
    hidden: Collection[tuple[str, str]] = (),
) -> dict:
    """What a template shows of one ``story_changes`` row: ``kind`` (update | growth), the
    title and text changes, the new countries and tier statements (those in ``cares``;
    None: all; never the (country, tier) pairs in ``hidden``), ``lines`` (one sentence
    each, for a message body), ``what`` (one line, for a digest) and ``tag``
    (``(new: GE, AZ Tier 2)``, for a subject)."""

    def keep(code: str) -> bool:
        return cares is None or not cares or code in cares

    codes = [c for c in json.loads(change["countries_added"] or "[]") if keep(c)]
    tiers = [
        {"country": country_name(c), "code": c, "tier": t, "year": y}
        for c, t, y in json.loads(change["tiers_added"] or "[]")
        if keep(c) and (c, t) not in hidden
    ]
    countries = [country_name(c) for c in codes]
    tier_text = [
        f"{t['country']}: {t['tier']}" + (f" ({t['year']})" if t["year"] else "") for t in tiers
    ]
    lines, what = [], []
    if change["title_changed"]:
        lines.append(f"Title changed (was: {change['old_title'] or '(untitled)'})")
        what.append("title changed")
    if change["text_changed"]:
        added = change["added_text"]
        lines.append(f"Text changed; new: {added}" if added else "Text changed")
        what.append("text changed")
    if countries:
        lines.append("New countries: " + ", ".join(countries))
        what.append("new: " + ", ".join(countries))
    if tier_text:
        lines.append("New tier statements: " + "; ".join(tier_text))
        what.append("; ".join(tier_text))
    tag = [*codes, *(f"{t['code']} {t['tier']}" for t in tiers)]
    return {
        "kind": change["kind"],
        "title_changed": bool(change["title_changed"]),
        "old_title": change["old_title"],
        "text_changed": bool(change["text_changed"]),
        "added_text": change["added_text"] or "",
        "countries": countries,
        "codes": codes,
        "tiers": tiers,
        "lines": lines,
        "what": "; ".join(what),
        "tag": f"(new: {', '.join(tag)})" if tag else "",
    }


def updated_items(
    db: Database, watch: str, target: str, *, exclude: set[int], formulas: bool = False
) -> list[dict]:
    """Stories already sent to this target that gained sources since they (their first
    alert, a follow-up, or the last digest) went out: shown once in the next digest as
    updated, never alerted again (``formulas``: as :func:`alert_item`)."""
    last = outbox.last_digest(db, watch, target) or ""
    # A story merged into another since (crawler/story_ids.py) is the live story: its
    # updates count, the alerts of every story merged into it count as its own, and it is
    # shown once.
    rows = db.query(
        f"""
        SELECT al.id, al.watch, al.story_id, al.article_id, s.id AS live, s.updated_at
        FROM alerts al JOIN stories s ON s.id = {LIVE_STORY.format(col="al.story_id")}
        WHERE al.watch = ? AND al.target = ? AND al.status = 'sent' AND al.change_id = 0
          AND s.updated_at IS NOT NULL AND s.updated_at > ?
          AND s.updated_at > (SELECT max(sent_at) FROM alerts x WHERE x.watch = al.watch
                              AND x.target = al.target AND x.status = 'sent'
                              AND x.story_id IN {FAMILY.format(story="s.id")})
        ORDER BY al.id
        """,
        [watch, target, last],
    )
    skip = {live_story(db, s) for s in exclude}
    out = []
    for r in rows:
        if r["live"] not in skip:
            skip.add(r["live"])
            out.append({**alert_item(db, r, formulas=formulas), "updated_at": r["updated_at"]})
    return out
