"""Country names in context and in more languages: the sense rules and the language gate."""

from __future__ import annotations

import shutil
import sys

import pytest

from alerts import gazetteer
from alerts.gazetteer import GazetteerError
from alerts.language import detect_language
from alerts.matcher import Matcher


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.compile()


def test_us_context_score_counts_different_signals(matcher):
    senses = matcher.gazetteer.senses
    assert senses.us_score("Talks in Tbilisi and Moscow went on.") == 0
    local = "ATLANTA - Cobb County and Fulton County officials, and a state Rep. from Ohio"
    assert senses.us_score(local) >= 3


def test_a_us_place_needs_us_context_or_a_local_cue(matcher):
    world = "Georgia said talks with the European Union would resume next month."
    assert matcher.match("", world).countries == ["GE"]
    local = "Georgia lawmakers met in Atlanta; Cobb County and Fulton County sent delegates."
    assert matcher.match("", local).countries == []


def test_support_keeps_the_country_in_a_us_article(matcher):
    text = (
        "Lebanon's army said Hezbollah fired rockets, and Beirut braced for more. "
        "Cobb County and Fulton County veterans in Ohio watched the news."
    )
    assert "LB" in matcher.match("", text).countries


def test_spread_reads_every_mention_as_the_person(matcher):
    text = "Principal Chad Boyer opened the meeting. Later Chad thanked the parents."
    assert matcher.match("", text).countries == []


def test_names_of_another_language_fire_only_in_that_language(matcher):
    german = "Die Bundesregierung sprach mit Vertretern des Libanons und der Türkei über Hilfe."
    assert matcher.match("", german).countries == ["LB", "TR"]
    assert matcher.match("", german, language="de").countries == ["LB", "TR"]
    # The same German word inside an English sentence is a band name, not Lebanon.
    english = "The band Libanon played the festival in Austin on Saturday night."
    assert matcher.match("", english).countries == []
    # A stated language wins over detection.
    assert matcher.match("", english, language="de-DE").countries == ["LB"]


def test_scripts_other_than_latin_fire_in_any_text(matcher):
    assert matcher.match("", "Quote: «Россия» was the headline.").countries == ["RU"]


def test_every_configured_language_gives_names():
    table = gazetteer._load_toml("languages.toml")
    assert set(table) >= {
        "en", "es", "fr", "de", "ru", "ar", "pt", "zh", "ja", "it", "tr", "fa", "pl", "nl",
        "uk", "id", "ko", "hi", "az",
    }  # fmt: skip
    gaz = gazetteer.build()
    for lang in table:
        if lang == "en":
            continue
        assert any(n.langs and lang in n.langs for n in gaz.names) or lang in {
            "ar", "fa", "hi", "zh", "ja", "ko", "ru", "uk",
        }, lang  # fmt: skip


def test_a_bad_sense_rule_names_the_file_and_entry(tmp_path, monkeypatch):
    data = tmp_path / "gazetteer"
    shutil.copytree(gazetteer.DATA, data)
    path = data / "context.toml"
    path.write_text(
        path.read_text(encoding="utf-8") + '\n[[senses]]\nnames = ["chad"]\nafter = "(unclosed"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(gazetteer, "DATA", data)
    with pytest.raises(GazetteerError, match=r"context\.toml: senses\[\d+\]\.after"):
        gazetteer.build()


def test_an_unknown_language_is_a_clear_error():
    with pytest.raises(GazetteerError, match="xx"):
        gazetteer.build(languages=("en", "xx"))


def test_match_records_take_the_language_a_record_states(matcher):
    from alerts.match_stage import match_records, read_articles

    text = "The band Libanon played the festival in Austin on Saturday night."
    lines = f'{{"id": 1, "text": "{text}", "language": "de"}}\n{{"id": 2, "text": "{text}"}}\n'
    out = list(match_records(matcher, read_articles(lines)))
    assert [o["countries"] for o in out] == [["LB"], []]


def test_function_words_settle_a_language_without_the_model(monkeypatch):
    gaz = gazetteer.build()
    monkeypatch.setitem(sys.modules, "py3langid", None)  # importing it now fails
    german = "Die Regierung hat am Montag in Berlin mitgeteilt, dass der Vertrag mit den Nachbarn nicht verlängert wird und die Gespräche noch andauern."
    english = "The government said on Monday that the treaty with its neighbours would not be renewed and that talks were still going on."
    assert detect_language(german, gaz.function_words, gaz.function_share) == "de"
    assert detect_language(english, gaz.function_words, gaz.function_share) == "en"


def test_culture_and_origin_are_not_the_country(matcher):
    text = (
        "Crowds watched the dragon dance at the Chinese New Year parade; a Kenyan-born runner won."
    )
    assert matcher.match("", text).countries == []


def test_lookup_reads_names_in_every_language_and_case_form(matcher):
    gaz = matcher.gazetteer
    assert [gaz.lookup(n) for n in ("Россия", "Polska", "Україна", "美国", "Libanon")] == [
        "RU", "PL", "UA", "US", "LB",
    ]  # fmt: skip
