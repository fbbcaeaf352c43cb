"""A batch of one source's items is looked up in the archive at once (crawler.store.Batch),
yet every item still sees what the items before it in the batch did: a second copy of an
article in the same batch is the same article, an update is seen once, and a copy whose
first was refused (its savepoint rolled back) is stored. Prepared items (canonical URL and
fingerprint computed in a parse worker) are stored as the unprepared ones are."""

from crawler import archive
from crawler.store import Batch, prepare_item, store_items
from crawler.stories import StoryAssigner


def item(url, guid=None, title="A title", text="Some words of the body."):
    return {
        "url": url,
        "guid": guid,
        "title": title,
        "text": text,
        "summary": None,
        "author": None,
        "language": "en",
        "categories": [],
        "published_at": "2026-11-30T08:00:00Z",
        "updated_at": None,
    }


def test_copies_within_one_batch_are_one_article(tmp_path):
    db = archive.open_archive(tmp_path / "a.db")
    items = [
        item("https://n.example/a", "g1"),
        item("https://N.example/a/?utm_source=x"),  # the same URL, another form
        item("https://n.example/moved", "g1"),  # the same GUID under another URL
        item("https://n.example/b", text="First words."),
        item("https://n.example/b", text="Corrected words."),  # changed within the batch
        item("https://n.example/b", text="Corrected words."),  # and seen again unchanged
    ]
    with archive.write(db):
        r = store_items(db, "s", items, StoryAssigner(db))
    assert (r.new, r.seen, r.updated) == (2, 3, 1)
    rows = db.execute("SELECT url, text FROM articles ORDER BY id").fetchall()
    assert rows == [
        ("https://n.example/a", "Some words of the body."),
        ("https://n.example/b", "Corrected words."),
    ]
    assert db.execute("SELECT count(*) FROM article_versions").fetchone()[0] == 1


def test_one_savepoint_per_item_with_a_shared_batch(tmp_path):
    """As the pipeline stores: one Batch for the source, each item in its own savepoint."""
    db = archive.open_archive(tmp_path / "a.db")
    with archive.write(db):
        store_items(db, "s", [item("https://n.example/old", "g0")], StoryAssigner(db))
    refused = item("https://n.example/c")
    refused["title"] = {"not": "text"}  # SQLite cannot bind it: this item's insert fails
    items = [
        prepare_item(item("https://n.example/old/", "g0", text="New words of the body.")),
        refused,
        item("https://n.example/c"),  # its first copy was refused: this one is new
        prepare_item(item("https://n.example/d")),
        item("https://n.example/d"),
    ]
    assigner = StoryAssigner(db)
    counts, errors = [0, 0, 0], 0
    with archive.write(db):
        batch = Batch(db, "s", items)
        for it in items:
            try:
                with archive.write(db):
                    r = store_items(db, "s", [it], assigner, batch=batch)
            except Exception:
                errors += 1
                continue
            counts = [counts[0] + r.new, counts[1] + r.seen, counts[2] + r.updated]
    assert errors == 1
    assert counts == [2, 1, 1]  # c and d new; d seen again; old updated
    urls = [u for (u,) in db.execute("SELECT url FROM articles ORDER BY id")]
    assert urls == ["https://n.example/old", "https://n.example/c", "https://n.example/d"]


def test_prepared_items_store_as_unprepared_ones(tmp_path):
    stored = []
    for prepared in (False, True):
        db = archive.open_archive(tmp_path / f"{prepared}.db")
        items = [item("https://n.example/x/?utm_medium=y", "g"), item("https://n.example/y")]
        if prepared:
            items = [prepare_item(i) for i in items]
            assert items[0]["_canonical_url"] == "https://n.example/x"
        with archive.write(db):
            store_items(db, "s", items, StoryAssigner(db))
        stored.append(
            db.execute("SELECT url, content_hash, fingerprint FROM articles ORDER BY id").fetchall()
        )
        db.close()
    assert stored[0] == stored[1]
    assert all(row[1] is not None and row[1] == row[2] for row in stored[0])
