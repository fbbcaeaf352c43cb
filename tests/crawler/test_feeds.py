"""Feed parsing: every format, every encoding trap, and hostile XML."""

from pathlib import Path

import pytest

from crawler.feeds import parse_feed

FEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "crawler" / "feeds"


def parse(name, headers=None):
    return parse_feed((FEEDS / name).read_bytes(), url="https://base.example/feed", headers=headers)


@pytest.mark.parametrize(
    ("name", "version", "url", "title", "published"),
    [
        (
            "rss20.xml",
            "rss20",
            "https://news.example/world/tip-report/?utm_source=rss&utm_medium=feed",
            "Azerbaijan remains on Tier 2 & other findings",
            "2024-06-24T14:05:00Z",
        ),
        ("rss10.rdf", "rss10", "https://rdf.example/a", "RDF item one", "2024-06-24T08:00:00Z"),
        ("rss091.xml", "rss091u", "https://old.example/item1", "Old style item", None),
        (
            "atom10.xml",
            "atom10",
            "https://atom.example/fr/rapport",
            "Le rapport TIP",
            "2024-06-24T14:30:00Z",
        ),
        (
            "atom03.xml",
            "atom03",
            "https://atom03.example/e1",
            "Atom 0.3 entry",
            "2024-06-24T08:00:00Z",
        ),
        (
            "jsonfeed.json",
            "json1.1",
            "https://json.example/posts/1",
            "JSON Feed item",
            "2024-06-24T10:00:00Z",
        ),
    ],
)
def test_each_format_gives_its_first_item(name, version, url, title, published):
    result = parse(name)
    assert result.error_class is None
    assert result.version == version
    first = result.items[0]
    assert (first["url"], first["title"], first["published_at"]) == (url, title, published)


def test_rss_fields_are_plain_text_in_utc():
    first = parse("rss20.xml").items[0]
    assert first["guid"] == "tip-2024-az"
    assert first["summary"] == "The State Department\u2019s report kept Azerbaijan on Tier 2."
    assert first["text"] == "First paragraph of the report story.\n\nSecond paragraph & more."
    assert first["author"] == "TURAN correspondent"
    assert first["categories"] == ["Politics", "Human rights"]
    assert first["language"] == "en"


def test_atom_keeps_author_language_and_updated():
    entry = parse("atom10.xml").items[0]
    assert entry["author"] == "Jeanne Dupont"
    assert entry["language"] == "fr"
    assert entry["updated_at"] == "2024-06-25T09:30:00Z"
    assert entry["text"] == "Texte complet de l'article."


def test_malformed_xml_keeps_the_good_items_and_says_so():
    result = parse("malformed.xml")
    assert result.error_class is None
    assert result.problem and "SAXParseException" in result.problem
    assert [i["title"] for i in result.items[:2]] == ["Good item one", "Good item two"]


def test_billion_laughs_is_not_expanded():
    result = parse("billion_laughs.xml")
    assert all(len(i["title"] or "") < 100 for i in result.items)
    assert "lollollol" not in repr(result.items)


def test_xxe_reads_no_file():
    result = parse("xxe.xml")
    assert "root:" not in repr(result.items)
    assert result.items and result.items[0]["url"] == "https://xxe.example/1"


def test_feed_declared_utf8_but_encoded_cp1252():
    item = parse("cp1252_declared_utf8.xml").items[0]
    assert item["title"] == "\u201cCaf\u00e9 news\u201d \u2013 Baku"
    assert item["summary"] == "Stra\u00dfe \u20ac prices"


def test_utf16_feed():
    item = parse("utf16.xml").items[0]
    assert item["title"] == "Привет, Баку — ünïcödé"


def test_html_is_not_a_feed():
    result = parse("not_a_feed.html", headers={"content-type": "text/html"})
    assert result.error_class == "not_a_feed"
    assert result.items == []


def test_garbage_is_a_parse_error():
    result = parse_feed(b"\x00\x01 nothing here", url="https://x.example/")
    assert result.error_class == "parse_error"


def test_duplicate_guids_within_a_feed_are_one_item():
    result = parse("dup_guids.xml")
    assert [i["guid"] for i in result.items] == ["same", "other"]
    assert result.items[0]["title"] == "First copy"


def test_items_without_dates_are_kept_undated():
    result = parse("no_dates.xml")
    assert len(result.items) == 2
    assert all(i["published_at"] is None and i["updated_at"] is None for i in result.items)


@pytest.mark.parametrize(
    "name", sorted(p.name for p in FEEDS.iterdir() if p.suffix in (".xml", ".rdf"))
)
def test_buffered_sax_reader_gives_what_the_standard_reader_gives(name, monkeypatch):
    """feedparser reads through our SAX reader (expat's buffer_text on, for speed); the
    parsed feed must be exactly what the standard library's reader gives."""
    import xml.sax

    import feedparser

    import crawler.feeds

    assert type(xml.sax.make_parser(feedparser.api.PREFERRED_XML_PARSERS)).__module__ == (
        crawler.feeds.__name__
    )
    body = (FEEDS / name).read_bytes()

    def parsed():
        d = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
        return d.get("version"), d.get("bozo"), repr(d.get("bozo_exception")), d.feed, d.entries

    ours = parsed()
    monkeypatch.setattr(feedparser.api, "PREFERRED_XML_PARSERS", ["xml.sax.expatreader"])
    assert parsed() == ours
