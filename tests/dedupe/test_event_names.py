"""Cross-language evidence of one event (issue 15): names folded across scripts and
diacritics, cognate stems and numbers join two languages' reports of one event; another event
of the same kind, the same language, an old article, or a thin overlap do not. Fixtures
written for newswatch (invented places and people)."""

from __future__ import annotations

from crawler.crosslang import CrossLanguageIndex
from crawler.event_names import Features, fold, names_of

DAY = 86400.0
T0 = 1_800_000_000.0

QUAKE_EN = (
    "Magnitude 6.4 earthquake strikes Varnesko, 212 dead",
    "A magnitude 6.4 earthquake struck the Varnesko region of Teldoria on Monday, killing 212 "
    "people and injuring 1,350, the interior ministry said. President Miroslav Kadrević "
    "declared three days of national mourning. Rescue teams from Austria and Slovenia arrived "
    "in the city of Brelina, where the Sveti Kuzma hospital was evacuated. The Teldorian Red "
    "Cross opened 14 shelters.",
)
QUAKE_ES = (
    "Un terremoto de magnitud 6,4 sacude Varnesko: 212 muertos",
    "Un terremoto de magnitud 6,4 sacudió el lunes la región de Varnesko, en Teldoria, y dejó "
    "212 muertos y 1.350 heridos, según el ministerio del interior. El presidente Miroslav "
    "Kadrevic decretó tres días de luto nacional. Equipos de rescate de Austria y Eslovenia "
    "llegaron a la ciudad de Brelina, donde fue evacuado el hospital Sveti Kuzma. La Cruz Roja "
    "teldoria abrió 14 refugios.",
)
# Another earthquake, another country, other names and tolls: told in the same words.
OTHER_QUAKE_ES = (
    "Un terremoto de magnitud 5,8 sacude Osmira: 37 muertos",
    "Un terremoto de magnitud 5,8 sacudió el jueves la provincia de Osmira, en Galvenia, y "
    "dejó 37 muertos y 410 heridos, según la protección civil. La primera ministra Ilse "
    "Marquardt visitó la ciudad de Dornhaven, donde el hospital San Telmo fue evacuado. La Cruz "
    "Roja abrió 6 refugios.",
)
# Unrelated news in a third language, for the crowd.
MARKET_DE = (
    "Börse schließt fester",
    "Der Leitindex schloss am Freitag 0,8 Prozent höher. Händler verwiesen auf gute Zahlen "
    "aus dem Einzelhandel und einen schwächeren Ölpreis.",
)


def features(doc: tuple[str, str], language: str) -> Features:
    return names_of(doc[0], doc[1], language)


def index_with(*docs, threshold: float = 0.25) -> CrossLanguageIndex:
    """An index holding (key, story, (title, text), language, time) articles."""
    index = CrossLanguageIndex(window_seconds=3 * DAY, threshold=threshold)
    for key, story, doc, lang, at in docs:
        index.add(key, story, features(doc, lang), lang, at)
    return index


def test_fold_transliterates_and_drops_diacritics() -> None:
    assert fold("Erdoğan") == fold("Erdogan") == fold("ERDOGAN") == "erdogan"
    assert fold("Эрдоган") == "erdogan"
    assert fold("Łódź") == "lodz"
    assert fold("Kadrević") == fold("Kadrevic")


def test_names_are_capitals_inside_sentences_and_acronyms() -> None:
    terms = set(
        names_of(
            "Talks resume", "Talks resumed in Brelina. Officials of the UNHCR met.", "en"
        ).terms
    )
    assert "@brelina" in terms and "@unhcr" in terms
    # a capital that starts a sentence or a headline names nothing
    assert "@talks" not in terms and "@officials" not in terms
    assert "~talks" in terms and "~offic" in terms


def test_german_capitals_inside_sentences_are_names_too() -> None:
    # German capitalises nouns as well: they are kept (they match no other language's names)
    terms = set(names_of("", "Die Regierung in Brelina rief die UNO an.", "de").terms)
    assert {"@regierung", "@brelina", "@uno", "~breli"} <= terms
    assert "@die" not in terms


def test_numbers_are_one_across_separators_and_not_part_of_names() -> None:
    for text in ("about 12,500 people", "about 12.500 people", "about 12 500 people"):
        assert "#12500" in names_of("", text, "en").terms
    assert "#4.7" in names_of("", "reached 4,7 metres", "es").terms
    assert "#4.7" in names_of("", "reached 4.7 metres", "en").terms
    terms = names_of("", "COVID-19 cases rose by 3 in G20 states", "en").terms
    assert not any(t.startswith("#") for t in terms)


def test_one_event_in_two_languages_joins() -> None:
    index = index_with((1, 100, QUAKE_EN, "en", T0), (2, 200, MARKET_DE, "de", T0))
    assert index.find(features(QUAKE_ES, "es"), "es", T0 + 3600) == 100


def test_another_event_of_the_same_kind_stays_apart() -> None:
    index = index_with((1, 100, QUAKE_EN, "en", T0), (2, 200, MARKET_DE, "de", T0))
    assert index.find(features(OTHER_QUAKE_ES, "es"), "es", T0 + 3600) is None


def test_the_same_language_is_never_compared() -> None:
    index = index_with((1, 100, QUAKE_EN, "en", T0))
    assert index.find(features(QUAKE_EN, "en"), "en-GB", T0) is None
    assert index.find(features(QUAKE_EN, "en"), "es", T0) == 100


def test_articles_outside_the_window_are_not_joined() -> None:
    index = index_with((1, 100, QUAKE_EN, "en", T0))
    assert index.find(features(QUAKE_ES, "es"), "es", T0 + 4 * DAY) is None
    assert index.find(features(QUAKE_ES, "es"), "es", T0 - 2 * DAY) == 100


def test_threshold_zero_is_off_and_accept_can_refuse() -> None:
    index = index_with((1, 100, QUAKE_EN, "en", T0), threshold=0.0)
    assert index.find(features(QUAKE_ES, "es"), "es", T0) is None
    index.threshold = 0.25
    assert index.find(features(QUAKE_ES, "es"), "es", T0, accept=lambda story: False) is None
    assert index.find(features(QUAKE_ES, "es"), "es", T0, accept=lambda story: True) == 100


def test_a_thin_overlap_does_not_join() -> None:
    # two names in common and nothing else: a high cosine over a few terms is chance
    index = index_with((1, 100, ("Nota", "Visita de Kadrević a Brelina."), "es", T0))
    thin = names_of("", "在 Brelina 会见了 Kadrević", "zh")
    assert index.find(thin, "zh", T0) is None


def test_numbers_that_differ_keep_two_reports_apart() -> None:
    # the same names and words, but every toll, magnitude and count differs
    changed = (
        QUAKE_ES[0].replace("6,4", "5,1").replace("212", "48"),
        QUAKE_ES[1]
        .replace("6,4", "5,1")
        .replace("212", "48")
        .replace("1.350", "260")
        .replace("14", "9"),
    )
    index = index_with((1, 100, QUAKE_EN, "en", T0))
    assert index.find(features(changed, "es"), "es", T0) is None


def test_moving_an_article_to_another_story() -> None:
    index = index_with((1, 100, QUAKE_EN, "en", T0))
    index.add(1, 300, features(QUAKE_EN, "en"), "en", T0)
    assert index.find(features(QUAKE_ES, "es"), "es", T0) == 300


def test_expiry_bounds_the_index_and_reuses_its_slots() -> None:
    index = CrossLanguageIndex(window_seconds=DAY, threshold=0.25)
    langs = ("en", "es", "fr")
    for i in range(6000):
        at = T0 + i * 60.0  # 1,440 articles a day
        doc = (
            f"Report {i}",
            f"Officials in Brelina counted {i} visitors at the Kuzma {i % 7} fair.",
        )
        f = names_of(*doc, langs[i % 3])
        index.find(f, langs[i % 3], at)
        index.add(i, i, f, langs[i % 3], at)
        if i == 3000:
            size = index.nbytes
    assert len(index) <= 3 * 1440 + 1
    assert index.nbytes < 1.5 * size
    # an expired article is gone from every look-up
    old = names_of("Report 5", "Officials in Brelina counted 5 visitors at the Kuzma 5 fair.", "de")
    assert all(key > 1000 for _, key, _ in index.scores(old, "de", T0 + 6000 * 60.0))


def test_dates_are_one_term_across_languages() -> None:
    texts = {
        "en": "The vote on December 18 was postponed.",
        "es": "La votación del 18 de diciembre fue aplazada.",
        "de": "Die Abstimmung am 18. Dezember wurde verschoben.",
        "pl": "Głosowanie 18 grudnia przełożono.",
        "zh": "12 月 18 日的投票被推迟。",
    }
    for lang, text in texts.items():
        assert "#d12-18" in names_of("", text, lang).terms, lang
    # a year after a month is no day
    assert not any(t.startswith("#d") for t in names_of("", "In May 2020 it rained.", "en").terms)


def test_an_article_without_text_finds_nothing_and_is_kept_apart() -> None:
    index = index_with((1, 100, QUAKE_EN, "en", T0))
    empty = names_of(None, None, None)
    assert len(empty) == 0
    assert index.find(empty, None, T0) is None
    index.add(2, 200, empty, None, T0)
    assert index.find(features(QUAKE_ES, "es"), "es", T0) == 100


# Through the real story assigner (crawler/stories.py, crawler/event_stories.py).
def _store(db, settings, docs):
    from crawler import archive
    from crawler.store import store_items
    from crawler.stories import StoryAssigner

    stories = []
    with archive.write(db):
        assigner = StoryAssigner(db, settings)
        for source, (title, text), language in docs:
            url = f"https://{source}.example/quake"
            item = {
                "url": url,
                "guid": None,
                "title": title,
                "text": text,
                "summary": None,
                "author": None,
                "language": language,
                "categories": [],
                "published_at": "2024-05-07T09:00:00Z",
                "updated_at": None,
            }
            store_items(db, source, [item], assigner)
            sql = "SELECT story_id FROM articles WHERE url = ?"
            stories.append(db.execute(sql, [url]).fetchone()[0])
    return stories


def test_stored_reports_in_two_languages_join_one_story_when_turned_on(db) -> None:
    from crawler.config import DedupeSettings

    docs = [
        ("daily", QUAKE_EN, "en"),
        ("diario", QUAKE_ES, "es"),
        ("gaceta", OTHER_QUAKE_ES, "es"),
    ]
    en, es, other = _store(db, DedupeSettings(cross_language_threshold=0.25), docs)
    assert en == es
    assert other != en


def test_cross_language_joins_are_off_by_default(db) -> None:
    from crawler.config import DedupeSettings

    en, es = _store(db, DedupeSettings(), [("daily", QUAKE_EN, "en"), ("diario", QUAKE_ES, "es")])
    assert en != es


def test_after_a_restart_a_report_in_another_language_still_joins(tmp_path) -> None:
    from crawler import archive
    from crawler.config import DedupeSettings

    settings = DedupeSettings(cross_language_threshold=0.25)
    path = tmp_path / "restart.db"
    db = archive.open_archive(path)
    (en,) = _store(db, settings, [("daily", QUAKE_EN, "en")])
    db.close()
    db = archive.open_archive(path)  # a new process: both indexes load from the archive
    (es,) = _store(db, settings, [("diario", QUAKE_ES, "es")])
    db.close()
    assert en == es
