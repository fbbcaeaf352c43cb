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


# Each class below added wrong countries to US and Canadian local news (issue 14: the city
# gazetteer must not lower precision below country names alone).


def test_a_city_named_like_a_us_or_canadian_city_needs_its_country_named(with_cities):
    # London, Ontario; Dublin, Ohio; Moscow, Idaho: local news names them bare.
    for text in (
        "London head coach Mike Smith said the series is not over.",
        "Dublin students took a karate class on Tuesday.",
        "The Moscow city council met on Monday.",
    ):
        assert with_cities.match("", text).countries == [], text
    # Another name of the country, or a neighbour, settles it; a capital does not support
    # itself ("London" is the capital of the United Kingdom).
    assert with_cities.match("", "Talks in London, Britain said, ended.").countries == ["GB"]
    assert with_cities.match("", "Moscow said Russian troops left.").countries == ["RU"]
    # Cities no US or Canadian city is named after still count alone.
    assert with_cities.match("", "Nairobi police said on Monday.").countries == ["KE"]


def test_a_city_inside_a_longer_proper_name_does_not_count(with_cities):
    assert with_cities.match("", "Tickets for the Brandon Nairobi Band sold out.").countries == []
    assert with_cities.match("", "He said his Isuzu Denver Rodeo was damaged.").countries == []
    assert with_cities.match("", "Closures included Yokohama Japanese Restaurant.").countries == []
    assert with_cities.match("", "Yokohama port officials said so.").countries == ["JP"]


def test_a_city_that_is_a_given_name_before_a_surname_does_not_count(with_cities):
    text = "From left are Mary Cole, Sydney McClain and Richard Brown."
    assert with_cities.match("", text).countries == []
    text = "From left are Mary Cole, Sydney McClain and Richard Brown, back from Australia."
    assert with_cities.match("", text).countries == ["AU"]
