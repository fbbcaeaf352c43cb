"""The query language and the matcher's watch options: parse errors, operators, fields."""

from __future__ import annotations

import pytest

from alerts.config import Watch
from alerts.gazetteer import GazetteerError, build, fold
from alerts.matcher import Matcher
from alerts.query import QueryError, check_watches, parse

SETS = {"slavery": ["forced labor", "debt bondage", "insan alver*"]}


def matcher(*watches: Watch, aliases=None) -> Matcher:
    return Matcher.compile(list(watches), SETS, aliases)


@pytest.mark.parametrize(
    ("query", "message", "position"),
    [
        ('"forced labor', "unterminated quoted phrase", 1),
        ("a AND (b OR c", "( is never closed", 7),
        ("a OR b)", "unmatched )", 7),
        ("a AND", "the query ends where a term was expected", 6),
        ("@nope OR a", "unknown term set @nope", 1),
        ("a NEAR/x b", "NEAR needs a distance", 3),
        ("tra*ck", "a wildcard * may only end a term", 1),
        ("t*", "at least 3 characters", 1),
        ("OR a", "'OR' where a term was expected", 1),
        ("", "empty query", 1),
    ],
)
def test_parse_errors_name_the_position(query, message, position):
    with pytest.raises(QueryError) as e:
        parse(query, SETS)
    assert message in e.value.message
    assert e.value.position + 1 == position


def test_check_watches_gives_key_paths_and_names():
    watches = [
        Watch(name="ok", query="@slavery"),
        Watch(name="broken", query="a AND (b", exclude="@missing"),
    ]
    problems = check_watches(watches, {**SETS, "bad": ["x*y"]})
    paths = [p for p, _ in problems]
    assert paths == ["term_sets.bad[0]", "watches[1].query", "watches[1].exclude"]
    assert "watch 'broken'" in problems[1][1] and "position 7" in problems[1][1]
    assert "@missing" in problems[2][1]


def test_bad_query_fails_config_load_with_exit_2(write_config, run_newswatch):
    path = write_config(
        """
        [archive]
        path = "{archive}"
        [[watches]]
        name = "w"
        query = 'trafficking AND (Azerbaijan'
        """
    )
    proc = run_newswatch("match", "--config", str(path), input="text")
    assert proc.returncode == 2
    assert "watches[0].query" in proc.stderr and "watch 'w'" in proc.stderr
    assert "position 17" in proc.stderr


@pytest.mark.parametrize(
    ("query", "text", "fires"),
    [
        ("trafficking", "Human trafficking grows.", True),
        ("trafficking", "Traffickings", False),
        ("traffick*", "Traffickers were caught.", True),
        ('"forced labor"', "It was forced  labor.", False),
        ('"forced labor"', "It was Forced Labor.", True),
        ("a AND b", "a b", True),
        ("alpha beta", "alpha only", False),
        ("alpha OR beta", "beta only", True),
        ("alpha AND NOT beta", "alpha and beta", False),
        ("alpha AND NOT beta", "alpha alone", True),
        ("NOT beta", "nothing here", True),
        ("(alpha OR gamma) AND delta", "gamma then delta", True),
        ('Azerbaijan NEAR/3 "Tier 2"', "Azerbaijan stays on Tier 2.", True),
        ('Azerbaijan NEAR/3 "Tier 2"', "Azerbaijan, said the long report today, is Tier 2.", False),
        ('"Tier 2" NEAR/3 Azerbaijan', "Azerbaijan stays on Tier 2.", True),
        ("@slavery", "Azərbaycanda insan alverinə qarşı mübarizə", True),
        ("@slavery", "DEBT BONDAGE", True),
        ("café", "Cafe culture", True),
        # NEAR/s: one sentence; NOT NEAR: the left side's hits with none of the right near
        ("forced NEAR/s prostitution", "She was forced, they say, into prostitution.", True),
        ("forced NEAR/s prostitution", "She was forced out. Prostitution is legal.", False),
        ("forced NEAR/s prostitution", "She was forced out\nProstitution is legal", False),
        ("traffick* NOT NEAR/s drug*", "Police say drug gangs are trafficking.", False),
        ("traffick* NOT NEAR/s drug*", "Drugs were seized. Trafficking is rife.", True),
        ("traffick* NOT NEAR/2 arms", "arms and trafficking", False),
        ("traffick* NOT NEAR/2 arms", "arms were found, and later the trafficking", True),
        (
            "traffick* NOT NEAR/2 arms",
            "trafficking of people, and much later arms trafficking",
            True,
        ),
        ("a NOT NEAR/0 b", "a only", True),
        # a * inside a phrase: each starred word takes any ending, words one space apart
        ('"traffick* into"', "Women trafficked into Europe", True),
        ('"traffick* into"', "Trafficking, into the night", False),
        ('"торговл* людьми"', "Борьба с торговлей людьми", True),
        ('"victim* of trafficking"', "victims of trafficking", True),
        # a phrase's spaces may be written as hyphens
        ('"human trafficking"', "a human-trafficking ring", True),
        ("@slavery", "forced-labor camps", True),
        ('"victim* of trafficking"', "victims of drug trafficking", False),
    ],
)
def test_query_semantics(query, text, fires):
    m = matcher(Watch(name="w", query=query))
    assert (m.match("", text).watches == ["w"]) is fires


def test_a_match_shows_the_phrases_that_fired():
    m = matcher(Watch(name="w", query='("traffick* into" NOT NEAR/s drug*) NEAR/4 women'))
    assert m.match("", "Women trafficked into Europe.").watch_terms["w"] == [
        "Women",
        "trafficked into",
    ]


def test_countries_any_of_with_query_and_exclude():
    w = Watch(name="w", countries=["AZ", "GE"], query="@slavery", exclude="football")
    m = matcher(w)
    assert m.match("Georgia", "forced labor on farms").watches == ["w"]
    assert m.match("Armenia", "forced labor on farms").watches == []
    assert m.match("Georgia", "forced labor and football").watches == []
    assert m.match("Azərbaycan", "debt bondage").watch_terms["w"] == ["Azərbaycan", "debt bondage"]


def test_fields_and_sources():
    title_only = Watch(name="t", query="trafficking", fields=["title"])
    text_only = Watch(name="x", query="trafficking", fields=["text"])
    from_src = Watch(name="s", query="trafficking", sources=["turan"])
    m = matcher(title_only, text_only, from_src)
    assert m.match("Trafficking news", "nothing", source="turan").watches == ["t", "s"]
    assert m.match("News", "trafficking", source="bbc").watches == ["x"]
    assert m.match("", "trafficking", source=None).watches == ["x"]


def test_terms_carry_offsets():
    m = matcher(Watch(name="w", query="traffick*"))
    r = m.match("Azerbaijan", "Trafficking in Baku")
    doc = "Azerbaijan\n\nTrafficking in Baku"
    assert ("Azerbaijan", 0, 10) in r.terms and ("Trafficking", 12, 23) in r.terms
    for term, start, end in r.terms:
        assert doc[start:end] == term


def test_user_aliases_and_lookup():
    m = matcher(aliases={"AZ": ["Land of Fire"]})
    assert m.match("", "Tourists love the Land of Fire.").countries == ["AZ"]
    gaz = build({"AZ": ["Land of Fire"]})
    assert gaz.lookup("az") == "AZ"
    assert gaz.lookup("Азербайджан") == "AZ"
    assert gaz.lookup("Land of fire") == "AZ"
    assert gaz.lookup("Atlantis") is None
    with pytest.raises(GazetteerError, match="'QQ'"):
        build({"QQ": ["Nowhere"]})


def test_every_iso_country_is_named():
    gaz = build()
    assert len(gaz.labels) >= 249 and "XK" in gaz.labels
    m = Matcher.compile()
    missing = [c for c, name in gaz.labels.items() if c not in m.match("", name).countries]
    assert missing == []


def test_fold_keeps_offsets():
    for s in ["Côte d’Ivoire", "İstanbul Türkiye", "Azərbaycan", "ǅemal", "ﬁne", "Ёлка"]:
        assert len(fold(s)) == len(s)
    assert fold("Côte d’Ivoire") == "cote d'ivoire"
