"""The opt-in city gazetteer: capitals and large cities imply their country."""

from __future__ import annotations

import pytest

from alerts.config import Watch
from alerts.matcher import Matcher


@pytest.fixture(scope="module")
def with_cities() -> Matcher:
    return Matcher.compile(cities=True)


def test_off_by_default():
    assert Matcher.compile().match("", "Baku police said on Monday.").countries == []


def test_a_capital_implies_its_country(with_cities):
    assert with_cities.match("", "Baku police said on Monday.").countries == ["AZ"]
    assert with_cities.match("", "Talks in Nairobi ended.").countries == ["KE"]


def test_names_shared_with_a_comparable_city_or_a_word_do_not_count(with_cities):
    # Birmingham (England and Alabama), Victoria (a first name), Mobile (a word).
    text = "Birmingham fans and Victoria Mobile met at the station."
    assert with_cities.match("", text).countries == []


def test_us_local_news_reads_foreign_city_names_as_us_towns(with_cities):
    text = "Paris firefighters put out a kitchen fire, the Lamar County sheriff said."
    assert "FR" not in with_cities.match("", text).countries
    assert with_cities.match("", "An Alexandria man was hurt in the crash.").countries == []


def test_a_watch_can_opt_in_alone():
    watches = [
        Watch(name="baku-cities", countries=["AZ"], cities=True),
        Watch(name="baku-names", countries=["AZ"]),
    ]
    m = Matcher.compile(watches)
    res = m.match("", "Baku police said on Monday.")
    assert res.watches == ["baku-cities"]
    assert res.countries == []  # the global setting is off: the result lists names only
    assert m.match("", "Azerbaijan's police said.").watches == ["baku-cities", "baku-names"]


def test_the_config_key(tmp_path):
    from scheduler import load_config

    path = tmp_path / "newswatch.toml"
    path.write_text(
        '[gazetteer]\ncities = true\n\n[[watches]]\nname = "w"\ncountries = ["AZ"]\n'
        "cities = true\n",
        encoding="utf-8",
    )
    cfg = load_config(path)
    assert cfg.gazetteer.cities is True
    assert cfg.watches[0].cities is True
