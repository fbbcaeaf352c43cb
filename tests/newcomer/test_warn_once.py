"""The lower-case operator warning is printed once per query per command, also by the
commands that load their config twice (an edit is checked by loading the edited file)."""

from __future__ import annotations

import logging

import pytest

from alerts.schema import open_archive

CONFIG = """\
[archive]
path = "{archive}"

[[sources]]
name = "local-wire"
kind = "feed"
url = "https://local-wire.example.org/rss.xml"

[[watches]]
name = "labour"
query = 'trafficking or "forced labour"'
exclude = 'sport and football'
"""
OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>mine</title></head><body>
<outline type="rss" text="Rights Daily" xmlUrl="https://rights-daily.example.net/feed"/>
</body></opml>
"""


def _warnings(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "newswatch.config" and "lower-case" in r.getMessage()
    ]


@pytest.mark.parametrize(
    "args",
    [
        ("sources", "remove", "local-wire"),  # loads the config, then the edited file
        ("sources", "import", "{opml}"),  # the same
        ("sources", "list"),
        ("match", "-"),
        ("search", "trafficking"),
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_each_query_warns_once_per_command(cli, write_config, tmp_path, caplog, args):
    config = write_config(CONFIG)
    opml = tmp_path / "feeds.opml"
    opml.write_text(OPML, encoding="utf-8")
    if args[0] == "search":  # an archive to search
        open_archive(str(tmp_path / "archive.db"), create=True).close()
    args = [a.replace("{opml}", str(opml)) for a in args]
    with caplog.at_level(logging.WARNING, logger="newswatch.config"):
        result = cli("--config", str(config), *args, input='{"id": 1, "title": "t", "text": "x"}')
    assert result.exit_code == 0, result.output
    warned = _warnings(caplog)
    # one line for the query's 'or', one for the exclusion's 'and': each once
    assert sorted(w.split(": lower-case")[0] for w in warned) == [
        "config warning: watches[0].exclude",
        "config warning: watches[0].query",
    ], warned


def test_a_second_command_warns_again(cli, write_config, caplog):
    """Once per command, not once per process: a library caller or a later command (the
    same process in these tests) still sees it."""
    config = write_config(CONFIG)
    with caplog.at_level(logging.WARNING, logger="newswatch.config"):
        cli("--config", str(config), "sources", "list")
        cli("--config", str(config), "sources", "list")
    assert len(_warnings(caplog)) == 4


def test_what_a_person_sees(run_newswatch, write_config, tmp_path):
    config = write_config(CONFIG)
    proc = run_newswatch("--config", str(config), "sources", "remove", "local-wire")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("lower-case 'or'") == 1, proc.stderr
    assert proc.stderr.count("lower-case 'and'") == 1, proc.stderr
