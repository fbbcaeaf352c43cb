"""The CLI frame: help everywhere, search and status over a real archive, bad config exits 2."""

from __future__ import annotations

import json

import click
import pytest
from support import fixture_archive

from scheduler import cli as newswatch_cli


def _commands(group: click.Group, prefix=()):
    for name, cmd in group.commands.items():
        yield (*prefix, name), cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*prefix, name))


ALL_COMMANDS = list(_commands(newswatch_cli))


def test_the_contract_commands_exist():
    names = {" ".join(path) for path, _ in ALL_COMMANDS}
    assert {
        "run",
        "crawl",
        "match",
        "extract",
        "search",
        "status",
        "alerts",
        "alerts test",
    } <= names


@pytest.mark.parametrize("path", [p for p, _ in ALL_COMMANDS], ids=lambda p: " ".join(p))
def test_every_command_has_help(cli, path):
    cmd = dict(ALL_COMMANDS)[path]
    assert cmd.help and cmd.help.strip(), f"newswatch {' '.join(path)} has no help text"
    result = cli(*path, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output
    assert cmd.help.strip().splitlines()[0][:30] in " ".join(result.output.split())


@pytest.fixture
def archive_config(write_config, tmp_path):
    fixture_archive.build(tmp_path / "archive.db")
    return write_config(
        """
        [archive]
        path = "{archive}"

        [[sources]]
        name = "turan-politics"
        kind = "feed"
        url = "https://example.org/turan.xml"

        [[sources]]
        name = "never-fetched"
        kind = "feed"
        url = "https://example.org/new.xml"
        """
    )


def test_search_prints_matches_as_json_lines(cli, archive_config):
    result = cli("--config", str(archive_config), "search", "trafficking", "--json")
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert {r["source"] for r in rows} == {"turan-politics", "bbc-world"}
    assert all({"published_at", "source", "title", "url"} <= set(r) for r in rows)


def test_search_limit_and_table(cli, archive_config):
    result = cli("search", "azerbaijan", "--limit", "1", "--json", "--config", str(archive_config))
    assert len(result.output.splitlines()) == 1
    result = cli("--config", str(archive_config), "search", "forced labour")
    assert result.exit_code == 0
    assert "un-news" in result.output and "2024-07-01" in result.output


def test_search_with_no_result_says_so(cli, archive_config):
    result = cli("--config", str(archive_config), "search", "zanzibar")
    assert result.exit_code == 0
    assert "no articles match" in result.output


def test_status_json_reports_sources_counts_and_alerts(cli, archive_config):
    result = cli("--config", str(archive_config), "status", "--json")
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert {line["section"] for line in lines} == {"source", "archive", "alerts", "daemon"}
    one = {line["section"]: line for line in lines if line["section"] != "source"}
    assert one["archive"]["articles"] == 4
    assert one["archive"]["path"].endswith("archive.db")
    assert one["alerts"]["pending"] == 1
    assert one["alerts"]["failed"] == 1
    assert one["alerts"]["sent"] == 1
    assert one["daemon"]["alive"] is False
    sources = {s["name"]: s for s in lines if s["section"] == "source"}
    assert sources["turan-politics"]["last_status"] == 200
    assert sources["turan-politics"]["articles"] == 1
    assert "last_attempt_at" not in sources["never-fetched"]
    assert sources["bbc-world"]["consecutive_failures"] == 3


def test_status_table_for_people(cli, archive_config):
    result = cli("--config", str(archive_config), "status")
    assert result.exit_code == 0
    assert "never fetched" in result.output
    assert "1 pending" in result.output and "1 failed" in result.output
    assert "[[targets]]" in result.output


def test_bad_config_exits_2_in_process(cli, write_config):
    path = write_config("[crawl]\nobey_robots = 'maybe'\n")
    result = cli("--config", str(path), "status")
    assert result.exit_code == 2
    assert "crawl.obey_robots" in result.output


def test_a_real_process_flushes_piped_output_before_its_fast_exit(archive_config, run_newswatch):
    """`main()` ends the process with os._exit: buffered output to a pipe must all arrive,
    with the command's exit code."""
    proc = run_newswatch(
        "--config",
        str(archive_config),
        "search",
        "trafficking",
        "--json",
        env={"PYTHONUNBUFFERED": ""},
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert {r["source"] for r in rows} == {"turan-politics", "bbc-world"}
    proc = run_newswatch("--config", str(archive_config), "search", "trafficking", "--limit", "x")
    assert proc.returncode == 2
    assert "Invalid value" in proc.stderr


LISTINGS = [
    ("search", "trafficking"),
    ("tiers", "AZ"),
    ("alerts", "list"),
    ("status",),
    ("dedupe",),
]


@pytest.mark.parametrize("command", LISTINGS, ids=" ".join)
def test_every_listing_command_prints_json_lines(cli, archive_config, command):
    result = cli("--config", str(archive_config), *command, "--json")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines, "no rows"
    assert all(isinstance(json.loads(line), dict) for line in lines)


def test_a_table_off_a_terminal_is_plain_aligned_text_at_full_width(cli, archive_config):
    result = cli("--config", str(archive_config), "search", "trafficking")
    lines = result.output.splitlines()
    header, rule, *rows = lines
    assert header.split() == ["date", "source", "outlets", "title", "snippet", "url"]
    assert set(rule.replace(" ", "")) == {"-"}
    # One line per row, nothing cut or wrapped at 80 columns, no box drawing.
    title = "U.S. Trafficking Report: Azerbaijan Does Not Fully Meet Minimum Standards"
    url = "https://turan.az/en/politics/us-trafficking-report-781839"
    (row,) = [r for r in rows if title in r]
    assert url in row and len(row) > 80
    assert not any(c in result.output for c in "│┃┏━─")
    # Columns line up: every row's url starts where the header's does.
    assert {r.index("https://") for r in rows} == {header.index("url")}


def test_plain_table_keeps_untrusted_cells_on_one_line():
    from crawler.cli.output import plain_table

    lines = plain_table(("a", "b"), [("x\ny", None), ("[bold]z[/bold]", 12)])
    assert lines == ["a               b", "--------------  --", "x y", "[bold]z[/bold]  12"]
