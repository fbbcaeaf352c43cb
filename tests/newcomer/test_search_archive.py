"""`search` in the watch query language with filters and snippets, and the global
`--archive PATH` for a kept or copied archive without a config of its own."""

from __future__ import annotations

import json

import pytest
from support import fixture_archive

from crawler.search import SearchQueryError, to_fts


@pytest.fixture
def kept(tmp_path):
    path = tmp_path / "kept" / "copy.db"
    path.parent.mkdir()
    fixture_archive.build(path)
    return path


def search(cli, kept, *args):
    # no config file at all: --archive alone is enough
    return cli("--config", str(kept.parent / "none.toml"), "--archive", str(kept), "search", *args)


def ids(result) -> list[int]:
    return sorted(json.loads(line)["id"] for line in result.output.splitlines())


def test_archive_option_needs_no_config(cli, kept, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no ./newswatch.toml, no data/newswatch.toml here
    result = cli("--archive", str(kept), "search", "trafficking", "--json")
    assert result.exit_code == 0, result.output
    assert ids(result) == [1, 4]
    status = cli("--archive", str(kept), "status")
    assert status.exit_code == 0 and "turan-politics" in status.output


def test_filters_and_snippet(cli, kept, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    base = ("--archive", str(kept), "search")
    assert ids(cli(*base, "trafficking", "--source", "bbc-world", "--json")) == [4]
    # a country given by name or alpha-3 code: the matches' country codes
    assert ids(cli(*base, "trafficking", "--country", "Russia", "--json")) == [1]
    assert ids(cli(*base, "trafficking", "--country", "AZE", "--json")) == [1, 4]
    assert ids(cli(*base, "trafficking", "--watch", "azerbaijan", "--json")) == [4]
    assert ids(cli(*base, "trafficking", "--since", "2024-01-01", "--json")) == [1]
    table = cli(*base, "forced labour").output
    assert "snippet" in table.splitlines()[0]
    assert "[forced] [labour]" in table.replace("[Forced]", "[forced]")


def test_query_language_maps_or_says_why_not(cli, kept, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    base = ("--archive", str(kept), "search")
    # NEAR/n between two words works as in a watch
    # "Tier 2 for the third consecutive": four words between
    assert ids(cli(*base, "Tier NEAR/4 consecutive", "--json")) == [1]
    assert ids(cli(*base, "Tier NEAR/3 consecutive", "--json")) == []
    # lower-case "or" was silently a required word; now an error naming the fix
    result = cli(*base, "climate or labour")
    assert result.exit_code == 2 and "write 'OR'" in result.output
    assert ids(cli(*base, "climate OR labour", "--json")) == [2, 3]
    result = cli(*base, "trafficking NEAR/s Tier")
    assert result.exit_code == 2 and "NEAR/s" in result.output


@pytest.mark.parametrize(
    ("query", "fts"),
    [
        ("forced labour", '"forced" AND "labour"'),
        ('"forced labour" OR traffick*', '"forced labour" OR "traffick"*'),
        ("(a OR b) NOT c", '( "a" OR "b" ) NOT "c"'),
        ('"a b" NEAR/5 c', 'NEAR("a b" "c", 5)'),
    ],
)
def test_mapping(query, fts):
    assert to_fts(query) == fts


@pytest.mark.parametrize(
    "query",
    ["a or b", "a and b", "not a", "NOT a", "(a OR b) NEAR/3 c", "@trafficking", "a OR", "(a"],
)
def test_what_does_not_map_is_an_error(query):
    with pytest.raises(SearchQueryError):
        to_fts(query)


def test_unknown_watch_or_source_names_are_suggested(cli, kept, write_config):
    config = write_config(
        '[[sources]]\nname = "bbc-world"\nkind = "feed"\nurl = "https://e.org/f"\n'
        '[[watches]]\nname = "azerbaijan"\nquery = "x"\n'
    )
    result = cli(
        "--config", str(config), "--archive", str(kept), "search", "trafficking",
        "--watch", "azerbaijn", "--source", "bbc-wrld",
    )  # fmt: skip
    assert "no watch named 'azerbaijn' in the config (did you mean 'azerbaijan'?)" in result.output
    assert "did you mean 'bbc-world'?" in result.output
