"""A fixture archive for `newswatch serve` (tests/serve), made with the real archive code, and
what its charts and queries must show, computed here from the same rows (not by the served SQL)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta

from alerts import schema
from crawler import archive

SOURCES = ("alpha-news", "beta-wire", "gamma-feed")

# (source, slug, title, text, published_at)
ARTICLES = [
    (
        "alpha-news",
        "az-tier-2",
        "Azerbaijan stays on Tier 2 of the trafficking report",
        "The State Department kept Azerbaijan on Tier 2 this year.",
        "2024-06-24T09:00:00Z",
    ),
    (
        "beta-wire",
        "az-tier-2-wire",
        "Trafficking report keeps Azerbaijan on Tier 2",
        "Azerbaijan remains on Tier 2, the report says.",
        "2024-06-24T11:30:00Z",
    ),
    (
        "gamma-feed",
        "az-tier-2-feed",
        "Baku stays on Tier 2, US report says",
        "Azerbaijan remains on Tier 2 in the annual report.",
        "2024-06-25T08:00:00Z",
    ),
    (
        "alpha-news",
        "russia-tier-3",
        "Russia remains on Tier 3",
        "Russia stays on Tier 3 for another year.",
        "2024-06-26T10:00:00Z",
    ),
    (
        "beta-wire",
        "forced-labour-farms",
        "Forced labour found on cotton farms",
        "Inspectors found forced labour on farms in Azerbaijan and Georgia.",
        "2024-07-02T07:15:00Z",
    ),
    (
        "alpha-news",
        "shelters",
        "Shelters for trafficking victims underfunded",
        "Shelters in Baku lack money, NGOs say. The zanzibarite case is one of many.",
        "2024-07-09T12:00:00Z",
    ),
    (
        "gamma-feed",
        "az-watch-list-2022",
        "Azerbaijan on the Tier 2 Watch List",
        "Azerbaijan was placed on the Tier 2 Watch List.",
        "2022-07-20T09:00:00Z",
    ),
    (
        "beta-wire",
        "az-tier-2-2023",
        "Azerbaijan moves up to Tier 2",
        "Azerbaijan moved up to Tier 2 in the 2023 report; Russia stayed on Tier 3.",
        "2023-06-16T09:00:00Z",
    ),
    (
        "gamma-feed",
        "weather",
        "Heatwave expected on Absheron",
        "Temperatures will reach 40 degrees.",
        "2024-07-03T06:00:00Z",
    ),
]
# the first three are one story (three outlets); every other article is its own story
STORY_OF = {0: 0, 1: 0, 2: 0}

# (article index, watch, countries)
MATCHES = [
    (0, "trafficking", ["AZ", "US"]),
    (0, "azerbaijan", ["AZ"]),
    (1, "trafficking", ["AZ"]),
    (1, "azerbaijan", ["AZ"]),
    (2, "azerbaijan", ["AZ"]),
    (3, "trafficking", ["RU"]),
    (4, "trafficking", ["AZ", "GE"]),
    (4, "azerbaijan", ["AZ"]),
    (5, "trafficking", ["AZ"]),
    (6, "azerbaijan", ["AZ"]),
    (7, "trafficking", ["AZ", "RU"]),
]

# (article index, country, tier, year)
TIERS = [
    (0, "AZ", "Tier 2", 2024),
    (1, "AZ", "Tier 2", 2024),
    (2, "AZ", "Tier 2", 2024),
    (3, "RU", "Tier 3", 2024),
    (6, "AZ", "Tier 2 Watch List", 2022),
    (7, "AZ", "Tier 2", 2023),
    (7, "RU", "Tier 3", 2023),
]

# (source, started_at, status, error_class, not_modified)
FETCHES = [
    ("alpha-news", "2024-07-01T10:00:00Z", 200, None, 0),
    ("beta-wire", "2024-07-01T10:00:00Z", 200, None, 0),
    ("gamma-feed", "2024-07-01T10:00:00Z", None, "timeout", 0),
    ("alpha-news", "2024-07-02T10:00:00Z", 200, None, 0),
    ("alpha-news", "2024-07-02T11:00:00Z", 304, None, 1),
    ("beta-wire", "2024-07-02T10:00:00Z", 503, "http", 0),
    ("gamma-feed", "2024-07-02T10:00:00Z", None, "timeout", 0),
    ("alpha-news", "2024-07-03T10:00:00Z", 200, None, 0),
    ("beta-wire", "2024-07-03T10:00:00Z", 200, None, 0),
    ("gamma-feed", "2024-07-03T10:00:00Z", None, "dns", 0),
]

# (story of article index, watch, status, error)
ALERTS = [
    (0, "trafficking", "sent", None),
    (0, "azerbaijan", "sent", None),
    (3, "trafficking", "failed", "SMTP 550 mailbox unavailable"),
    (4, "trafficking", "pending", None),
]

SEARCH_WORD = "zanzibarite"  # in one article's text only


def url(i: int) -> str:
    source, slug = ARTICLES[i][0], ARTICLES[i][1]
    return f"https://{source}.example.org/news/{slug}"


def build(path) -> dict[int, int]:
    """Write the fixture archive at ``path``; returns story id per article index."""
    db = schema.open_archive(path)
    story_of: dict[int, int] = {}
    with archive.write(db):
        for name in SOURCES:
            last = [f for f in FETCHES if f[0] == name][-1]
            failures = 0
            for f in reversed([f for f in FETCHES if f[0] == name]):
                if f[3] is None:
                    break
                failures += 1
            db["sources"].insert(
                {
                    "name": name,
                    "kind": "feed",
                    "url": f"https://{name}.example.org/feed.xml",
                    "last_attempt_at": last[1],
                    "last_success_at": "2024-07-03T10:00:00Z" if last[3] is None else None,
                    "last_status": last[2],
                    "last_error_class": last[3],
                    "consecutive_failures": failures,
                }
            )
        for source, started, status, error_class, not_modified in FETCHES:
            db["fetches"].insert(
                {
                    "source": source,
                    "started_at": started,
                    "finished_at": started.replace(":00:00Z", ":00:05Z"),
                    "status": status,
                    "error_class": error_class,
                    "error": f"{error_class} error" if error_class else None,
                    "not_modified": not_modified,
                }
            )
        for i, (source, _slug, title, text, published) in enumerate(ARTICLES):
            article_id = (
                db["articles"]
                .insert(
                    {
                        "url": url(i),
                        "source": source,
                        "title": title,
                        "text": text,
                        "published_at": published,
                        "fetched_at": published,
                        "language": "en",
                        "matched_at": published,
                    }
                )
                .last_pk
            )
            first = STORY_OF.get(i, i)
            if first not in story_of:
                members = [j for j in range(len(ARTICLES)) if STORY_OF.get(j, j) == first]
                story_of[first] = (
                    db["stories"]
                    .insert(
                        {
                            "article_id": article_id,
                            "title": title,
                            "first_seen_at": published,
                            "article_count": len(members),
                            "sources": json.dumps([ARTICLES[j][0] for j in members]),
                        }
                    )
                    .last_pk
                )
            story_of[i] = story_of[first]
            db["articles"].update(article_id, {"story_id": story_of[i]})
        for i, watch, countries in MATCHES:
            db["matches"].insert(
                {
                    "article_id": i + 1,
                    "story_id": story_of[i],
                    "watch": watch,
                    "countries": json.dumps(countries),
                    "terms": json.dumps([["trafficking", 0, 11]]),
                    "matched_at": ARTICLES[i][4],
                }
            )
        for i, country, tier, year in TIERS:
            db["tier_statements"].insert(
                {
                    "article_id": i + 1,
                    "country": country,
                    "tier": tier,
                    "year": year,
                    "sentence": f"{country} stays on {tier}.",
                }
            )
        for i, watch, status, error in ALERTS:
            db["alerts"].insert(
                {
                    "watch": watch,
                    "story_id": story_of[i],
                    "target": "team-mail",
                    "article_id": i + 1,
                    "status": status,
                    "attempts": 8 if status == "failed" else 1,
                    "last_error": error,
                    "created_at": "2024-07-03T10:00:00Z",
                    "sent_at": "2024-07-03T10:01:00Z" if status == "sent" else None,
                }
            )
    db.close()
    return {i: story_of[i] for i in range(len(ARTICLES))}


# ---------------------------------------------------------------- what the charts must show


def _monday(iso: str) -> str:
    d = date.fromisoformat(iso[:10])
    return (d - timedelta(days=d.weekday())).isoformat()


def expected_coverage() -> dict[tuple[str, str], int]:
    """(week starting, country) -> matched articles naming the country that week."""
    seen = {(_monday(ARTICLES[i][4]), c, i) for i, _w, countries in MATCHES for c in countries}
    return dict(Counter((week, c) for week, c, _i in seen))


def expected_watches() -> dict[tuple[str, str], int]:
    """(day, watch) -> matches."""
    return dict(Counter((ARTICLES[i][4][:10], w) for i, w, _c in MATCHES))


def expected_tiers() -> dict[tuple[str, int, str], int]:
    """(country, year, tier) -> reports."""
    return dict(Counter((c, y, t) for _i, c, t, y in TIERS))


def expected_health() -> dict[tuple[str, str, str], int]:
    """(day, source, outcome) -> fetches."""

    def outcome(status, error_class, not_modified):
        if error_class:
            return error_class
        return "not modified" if not_modified else "ok"

    return dict(Counter((f[1][:10], f[0], outcome(*f[2:])) for f in FETCHES))
