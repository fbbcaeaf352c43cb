"""One malformed item never drops its feed: each item is read and stored on its own, a bad
one is counted and its first problem recorded, the others are kept, and the body is read
again next time when an item the feed gave was not stored."""

from __future__ import annotations

import json

import pytest
import sqlite_utils
from support.httpserver import LocalServer

from crawler.feeds import parse_feed, parse_feed_for_store

GOOD = [(f"Good story {i}", f"https://news.example/good/{i}") for i in range(1, 6)]


def rss(extra: str, cut: int | None = None) -> bytes:
    items = [
        f"<item><title>{t}</title><link>{u}</link><description>About {t}.</description></item>"
        for t, u in GOOD
    ]
    if cut is not None:  # the third item broken off after ``cut`` characters
        items[2] = items[2][:cut]
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        f"{''.join(items[:3])}{extra}{''.join(items[3:])}</channel></rss>"
    ).encode()


def atom(extra: str) -> bytes:
    entries = "".join(
        f'<entry><title>{t}</title><link href="{u}"/><id>{u}</id>'
        "<updated>2024-06-24T10:00:00Z</updated></entry>"
        for t, u in GOOD
    )
    return (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>'
        f"{entries}{extra}</feed>"
    ).encode()


def json_feed(bad: dict | None = None, **top) -> bytes:
    items = [{"id": u, "url": u, "title": t, "content_text": f"About {t}."} for t, u in GOOD]
    if bad is not None:
        items.insert(2, {"id": "bad", "url": "https://news.example/bad", **bad})
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": items, **top}
    return json.dumps(doc).encode()


BAD_ITEMS = {
    "rss-ipv6-link": rss("<item><title>Bad</title><link>http://[::1</link></item>"),
    "atom-bad-href": atom('<entry><title>Bad</title><link href="http://[x"/><id>b</id></entry>'),
    "json-title-int": json_feed({"title": 5}),
    "json-summary-list": json_feed({"summary": []}),
    "json-content-int": json_feed({"content_html": 1}),
    "json-date-int": json_feed({"date_published": 1}),
    "json-authors-int": json_feed({"authors": 1}),
    "json-tags-int": json_feed({"tags": 1}),
    "json-language-object": json_feed({"language": {}}),
    "json-url-list": json_feed({"url": ["x"]}),
    "json-item-not-object": json.dumps(
        {
            "version": "https://jsonfeed.org/version/1",
            "items": [*json.loads(json_feed())["items"], 7],
        }
    ).encode(),
}


@pytest.mark.parametrize("name", sorted(BAD_ITEMS))
@pytest.mark.parametrize("parse", [parse_feed, parse_feed_for_store])
def test_one_bad_item_is_counted_and_the_others_kept(name, parse):
    result = parse(BAD_ITEMS[name], url="https://news.example/feed")
    assert result.error_class is None, result.problem
    assert sorted(i["title"] for i in result.items) == sorted(t for t, _ in GOOD)
    assert result.bad_items == 1
    assert result.item_problem.startswith("item ")


def test_markup_that_makes_feedparser_raise_loses_only_its_item():
    # A broken-off <link> with an <item> inside: feedparser's strict and loose parsers
    # both raise KeyError('links') on this; the document is then read item by item.
    nested = "<item><title>Inner</title><link>https://news.example/inner</link></item>"
    good = rss("")
    at = good.index(b"good/3</link>") + len("good/")
    result = parse_feed(good[:at] + nested.encode() + good[at:], url="https://news.example/feed")
    assert result.error_class is None
    assert "KeyError" in result.problem
    titles = sorted(i["title"] for i in result.items)
    assert titles == sorted([t for t, _ in GOOD if t != "Good story 3"] + ["Inner"])
    assert result.bad_items == 1 and "not closed" in result.item_problem


def test_the_first_problem_names_the_item_and_the_field():
    result = parse_feed(json_feed({"title": 5}), url="https://news.example/feed")
    assert result.item_problem == "item 3: 'title' is int, not a string"
    result = parse_feed(BAD_ITEMS["rss-ipv6-link"], url="https://news.example/feed")
    assert "'http://[::1'" in result.item_problem


def test_a_json_feed_whose_items_is_not_a_list_is_a_parse_error():
    result = parse_feed(json_feed(items=True), url="https://news.example/feed")
    assert result.error_class == "parse_error"
    assert "'items' is bool" in result.problem


def test_a_bad_feed_level_language_keeps_the_items_and_says_so():
    result = parse_feed(json_feed(language={}), url="https://news.example/feed")
    assert len(result.items) == 5 and all(i["language"] is None for i in result.items)
    assert "'language' is dict" in result.problem


CONFIG = """
[archive]
path = "{archive}"
[crawl]
allow_private_addresses = true
obey_robots = false
autothrottle = false
retries = 0
download_timeout = "5s"
"""


def source(name: str, url: str) -> str:
    return f'[[sources]]\nname = "{name}"\nkind = "feed"\nurl = "{url}"\n'


@pytest.fixture
def feed_server():
    server = LocalServer().start()
    yield server
    server.stop()


@pytest.mark.slow
def test_a_crawl_keeps_every_good_item_and_records_the_bad_one(
    feed_server, write_config, run_newswatch, tmp_path
):
    names = ["rss-ipv6-link", "atom-bad-href", "json-language-object", "json-title-int"]
    text = CONFIG
    for name in names:
        body = BAD_ITEMS[name].replace(b"news.example/good/", f"{name}.example/".encode())
        feed_server.add(f"/{name}", body=body, content_type="application/rss+xml")
        text += source(name, feed_server.url(f"/{name}"))
    cfg = write_config(text)
    proc = run_newswatch("crawl", "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    db = sqlite_utils.Database(tmp_path / "archive.db")
    for name in names:
        titles = {
            r["title"] for r in db.query("SELECT title FROM articles WHERE source = ?", [name])
        }
        assert titles == {t for t, _ in GOOD}, (name, proc.stderr)
        row = db["sources"].get(name)
        assert row["last_error_class"] == "parse_error", name
        assert "1 unreadable item(s) left out" in row["last_error"], row["last_error"]
        assert row["items_seen"] == 6 and row["items_new"] == 5
        assert row["consecutive_failures"] == 0


@pytest.mark.slow
def test_an_item_the_archive_refuses_loses_no_other_and_the_feed_is_read_again(
    feed_server, write_config, run_newswatch, tmp_path
):
    feed_server.add("/feed", body=rss(""), content_type="application/rss+xml", etag='"v1"')
    cfg = write_config(CONFIG + source("poisoned", feed_server.url("/feed")))
    run_newswatch("crawl", "--config", str(cfg))  # creates the archive
    db = sqlite_utils.Database(tmp_path / "archive.db")
    db.execute("DELETE FROM articles")
    db.execute("UPDATE sources SET etag = NULL, body_hash = NULL")
    # A real archive refusal of one row (as a full disk or a constraint would).
    db.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON articles WHEN NEW.title = 'Good story 2'"
        " BEGIN SELECT RAISE(ABORT, 'refused by the archive'); END"
    )
    db.conn.commit()
    proc = run_newswatch("crawl", "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    titles = {r["title"] for r in db.query("SELECT title FROM articles")}
    assert titles == {t for t, _ in GOOD} - {"Good story 2"}
    row = db["sources"].get("poisoned")
    assert row["last_error_class"] == "store_error"
    assert "1 of 5 items could not be stored" in row["last_error"]
    assert "refused by the archive" in row["last_error"]
    # Not every item was stored: no validator may let the next crawl skip this body.
    assert row["etag"] is None and row["body_hash"] is None
    db.execute("DROP TRIGGER refuse")
    db.conn.commit()
    proc = run_newswatch("crawl", "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    titles = {r["title"] for r in db.query("SELECT title FROM articles")}
    assert titles == {t for t, _ in GOOD}
    row = db["sources"].get("poisoned")
    assert row["last_error_class"] is None and row["etag"] == '"v1"' and row["body_hash"]


def test_half_a_surrogate_pair_in_json_is_replaced_and_the_item_kept():
    # "\ud800" is valid JSON but no UTF-8 text: SQLite would refuse the item.
    body = json_feed({"title": "Half \ud800 pair", "tags": ["\udc00"]})
    result = parse_feed(body, url="https://news.example/feed")
    assert result.bad_items == 0 and len(result.items) == 6
    bad = next(i for i in result.items if i["url"] == "https://news.example/bad")
    assert bad["title"] == "Half \ufffd pair" and bad["categories"] == ["\ufffd"]
    for item in result.items:
        json.dumps(item, ensure_ascii=False).encode("utf-8")  # storable
