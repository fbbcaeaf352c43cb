"""Storing items (dedupe by canonical URL and GUID, updates, stories) and extraction."""

import json
from pathlib import Path

from crawler import archive
from crawler.extract import extract_article
from crawler.store import known_articles, store_items
from crawler.stories import StoryAssigner

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "crawler"


def item(url, guid=None, title="T", text="body"):
    return {
        "url": url,
        "guid": guid,
        "title": title,
        "text": text,
        "summary": None,
        "author": None,
        "language": "en",
        "categories": ["a"],
        "published_at": "2024-06-24T10:00:00Z",
        "updated_at": None,
    }


def store(db, source, items):
    with archive.write(db):
        return store_items(db, source, items, StoryAssigner(db))


def test_new_seen_and_updated(tmp_path):
    db = archive.open_archive(tmp_path / "a.db")
    r = store(
        db, "s", [item("https://n.example/a/?utm_source=x", "g1"), item("https://n.example/b")]
    )
    assert (r.new, r.seen, r.updated) == (2, 0, 0)
    rows = list(db.query("SELECT url, story_id, matched_at, categories FROM articles ORDER BY id"))
    assert rows[0]["url"] == "https://n.example/a"
    assert all(r["story_id"] is not None and r["matched_at"] is None for r in rows)
    assert json.loads(rows[0]["categories"]) == ["a"]
    db.execute("UPDATE articles SET matched_at = '2024-01-01T00:00:00Z'")
    db.conn.commit()
    # Same URL in another form, and the same GUID under a new URL: both already archived.
    r = store(db, "s", [item("https://N.example/a#x"), item("https://n.example/moved", "g1")])
    assert (r.new, r.seen, r.updated) == (0, 2, 0)
    # Changed text: an update, re-matched, with the old version kept.
    r = store(db, "s", [item("https://n.example/b", text="corrected body")])
    assert (r.new, r.seen, r.updated) == (0, 0, 1)
    row = db.execute(
        "SELECT text, matched_at FROM articles WHERE url = 'https://n.example/b'"
    ).fetchone()
    assert row == ("corrected body", None)
    assert db.execute("SELECT count(*) FROM article_versions").fetchone()[0] == 1
    # The same GUID from another source is another article.
    assert store(db, "other", [item("https://n.example/c", "g1")]).new == 1
    found = known_articles(db, "s", ["https://n.example/a", "https://n.example/zzz"], ["g1"])
    assert set(found) == {"https://n.example/a", "g1"}


def test_seed_article_extracts_without_its_furniture():
    page = extract_article((FIXTURES / "seed_article.html").read_bytes(), url="https://turan.az/x")
    title = "U.S. Trafficking Report: Azerbaijan Does Not Fully Meet Minimum Standards"
    assert page["title"] == title
    assert page["text"].startswith('Azerbaijan remains on "Tier 2"')
    assert page["text"].rstrip().endswith("among other key steps.")
    for furniture in (
        "Leave a review",
        "Follow us on social networks",
        "News Line",
        title,
        "Oil prices rise",
        "Politics",
        "All rights reserved",
    ):
        assert furniture not in page["text"]
    assert page["published_at"] == "2024-06-24T14:05:00Z"
    assert page["language"] == "en"


def test_extract_command_prints_json_lines(cli, tmp_path):
    other = tmp_path / "other.html"
    other.write_text("<html lang='de'><body><p>kurz</p></body></html>", encoding="utf-8")
    result = cli(
        "extract", str(FIXTURES / "seed_article.html"), str(other), "--url", "https://turan.az/x"
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.output.splitlines()]
    assert len(lines) == 2
    assert set(lines[0]) == {"url", "title", "text", "published_at", "author", "language"}
    assert lines[0]["url"] == "https://turan.az/x" and "Tier 2" in lines[0]["text"]
    assert lines[1]["language"] == "de"
