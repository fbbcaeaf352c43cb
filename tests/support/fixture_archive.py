"""A small archive with a bit of everything, for tests of commands and queries over the archive."""

from __future__ import annotations

import json
from pathlib import Path

from alerts import schema as alerts_schema
from crawler import archive

ARTICLES = [
    # (source, url, title, text, published_at, language)
    (
        "turan-politics",
        "https://turan.az/en/politics/us-trafficking-report-781839",
        "U.S. Trafficking Report: Azerbaijan Does Not Fully Meet Minimum Standards",
        "Azerbaijan remains on Tier 2 for the third consecutive year in the State Department's "
        "Trafficking in Persons Report. Russia remained on Tier 3.",
        "2024-06-25T10:00:00Z",
        "en",
    ),
    (
        "un-news",
        "https://news.un.org/en/story/2024/07/forced-labour",
        "Forced labour generates record illegal profits",
        "The ILO says forced labour in the private economy generates $236 billion a year.",
        "2024-07-01T08:30:00Z",
        "en",
    ),
    (
        "un-news",
        "https://news.un.org/en/story/2024/07/climate",
        "Climate finance talks stall",
        "Negotiators in Bonn failed to agree on a new climate finance goal.",
        "2024-07-02T09:00:00Z",
        "en",
    ),
    (
        "bbc-world",
        "https://www.bbc.co.uk/news/world-europe-azerbaijan",
        "Azerbaijan: trafficking victims go unidentified, NGOs say",
        "Shelters run by NGOs in Baku remain underfunded, according to the report.",
        "2023-06-16T12:00:00Z",
        "en",
    ),
]


def build(path: str | Path) -> None:
    """Create an archive at ``path`` holding sources, articles, stories, matches, tiers, alerts."""
    db = alerts_schema.open_archive(path)
    with archive.write(db):
        for name in ("turan-politics", "un-news", "bbc-world"):
            db["sources"].insert(
                {
                    "name": name,
                    "kind": "feed",
                    "url": f"https://example.org/{name}.xml",
                    "last_attempt_at": "2024-07-02T10:00:00Z",
                    "last_success_at": "2024-07-02T10:00:00Z",
                    "last_status": 200,
                    "items_seen": 10,
                    "items_new": 2,
                }
            )
        db["sources"].update(
            "bbc-world", {"last_error_class": "timeout", "consecutive_failures": 3}
        )
        for source, url, title, text, published, lang in ARTICLES:
            article_id = (
                db["articles"]
                .insert(
                    {
                        "url": url,
                        "source": source,
                        "title": title,
                        "text": text,
                        "published_at": published,
                        "fetched_at": published,
                        "language": lang,
                        "matched_at": published,
                    }
                )
                .last_pk
            )
            story_id = (
                db["stories"]
                .insert(
                    {
                        "article_id": article_id,
                        "title": title,
                        "first_seen_at": published,
                        "article_count": 1,
                        "sources": json.dumps([source]),
                    }
                )
                .last_pk
            )
            db["articles"].update(article_id, {"story_id": story_id})
        matches = [
            (1, "trafficking", ["AZ", "RU"]),
            (2, "trafficking", []),
            (4, "azerbaijan", ["AZ"]),
        ]
        for article_id, watch, countries in matches:
            db["matches"].insert(
                {
                    "article_id": article_id,
                    "story_id": article_id,
                    "watch": watch,
                    "countries": json.dumps(countries),
                    "terms": json.dumps([["trafficking", 0, 11]]),
                    "matched_at": "2024-07-02T10:00:00Z",
                }
            )
        tiers = [(1, "AZ", "Tier 2", 2024), (1, "RU", "Tier 3", 2024), (4, "AZ", "Tier 2", 2023)]
        for article_id, country, tier, year in tiers:
            db["tier_statements"].insert(
                {
                    "article_id": article_id,
                    "country": country,
                    "tier": tier,
                    "year": year,
                    "sentence": f"{country} remains on {tier}.",
                }
            )
        for story, watch, status, error in [
            (1, "trafficking", "sent", None),
            (2, "trafficking", "failed", "SMTP 550 mailbox unavailable"),
            (4, "azerbaijan", "pending", None),
        ]:
            db["alerts"].insert(
                {
                    "watch": watch,
                    "story_id": story,
                    "target": "team-mail",
                    "article_id": story,
                    "status": status,
                    "attempts": 8 if status == "failed" else 1,
                    "last_error": error,
                    "created_at": "2024-07-02T10:00:00Z",
                    "sent_at": "2024-07-02T10:01:00Z" if status == "sent" else None,
                }
            )
    db.close()
