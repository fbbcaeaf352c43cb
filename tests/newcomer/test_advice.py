"""Messages that say what to do: the setting that lifts a private-address refusal, one
line when every source failed alike, "did you mean" for keys, countries and names, a
warning for lower-case operators in a query, counts in the right number."""

from __future__ import annotations

import logging

import pytest
from support.httpserver import LocalServer
from support.smtp import free_port

from crawler.advice import all_failed_alike
from crawler.config_file import ConfigError
from crawler.fetch_outcomes import SourceResult
from crawler.words import counted
from scheduler import load_config

TARGET = '[[targets]]\nname = "team-mail"\nurl = "json://127.0.0.1:9/x"\n'


def test_a_refused_private_address_names_the_setting(run_newswatch, write_config):
    server = LocalServer().start()
    try:
        server.add("/feed.xml", body=b"<rss/>", content_type="application/rss+xml")
        config = write_config(
            f'[archive]\npath = "{{archive}}"\n[[sources]]\nname = "local"\nkind = "feed"\n'
            f'url = "{server.url("/feed.xml")}"\n'
        )
        proc = run_newswatch("--config", str(config), "crawl")
        row = next(ln for ln in proc.stderr.splitlines() if ln.startswith("local "))
        assert "private_address_refused" in row and "allow_private_addresses = true" in row
    finally:
        server.stop()


def test_every_source_failing_alike_is_one_line(run_newswatch, write_config):
    # two sources on ports nothing listens on: the same error class for both
    config = write_config(
        '[archive]\npath = "{archive}"\n[crawl]\nallow_private_addresses = true\n'
        + "".join(
            f'[[sources]]\nname = "s{i}"\nkind = "feed"\nurl = "http://127.0.0.1:{free_port()}/f"\n'
            for i in range(2)
        )
    )
    proc = run_newswatch("--config", str(config), "crawl")
    assert proc.returncode == 3
    assert "0 of 2 sources fetched, 0 new articles" in proc.stderr
    assert "all 2 sources failed with connection: no network?" in proc.stderr
    proc = run_newswatch("--config", str(config), "run", "--once")
    assert "all 2 sources failed with connection: no network?" in proc.stdout
    # each failure is logged once, as a warning naming the problem
    for name in ("s0", "s1"):
        lines = [ln for ln in proc.stderr.splitlines() if f"source {name}" in ln]
        assert len(lines) == 1, proc.stderr
        assert "WARNING" in lines[0] and "connection" in lines[0]


def test_all_failed_alike_only_when_it_is_so():
    def r(name, status, cls):
        return SourceResult(name, status=status, error_class=cls)

    assert all_failed_alike([r("a", "error", "dns"), r("b", "error", "dns")]).startswith(
        "all 2 sources failed with dns: no network?"
    )
    assert all_failed_alike([r("a", "error", "dns"), r("b", "ok", None)]) is None
    assert all_failed_alike([r("a", "error", "dns"), r("b", "error", "http_5xx")]) is None
    assert all_failed_alike([r("a", "error", "dns")]) is None  # its own row says it
    as_dicts = [{"status": "timeout", "error_class": "timeout"}] * 3
    assert "all 3 sources failed with timeout" in all_failed_alike(as_dicts)


@pytest.mark.parametrize(
    ("text", "where", "hint"),
    [
        ('[crawl]\nintervall = "1h"\n', "crawl.intervall", "did you mean 'interval'?"),
        ('[[watchs]]\nname = "w"\n', "watchs", "did you mean 'watches'?"),
        (
            '[[sources]]\nname = "a"\nkind = "feed"\nurl = "https://e.org/f"\nfull_txt = true\n',
            "sources[0].full_txt",
            "did you mean 'full_text'?",
        ),
        (
            '[[watches]]\nname = "w"\ncountries = ["AZE"]\n',
            "watches[0].countries",
            "did you mean 'AZ'?",
        ),
        (
            '[[watches]]\nname = "w"\ncountries = ["Azerbaijan"]\n',
            "watches[0].countries",
            "did you mean 'AZ'?",
        ),
        (
            TARGET + '[[watches]]\nname = "w"\nquery = "x"\ntargets = ["team-mial"]\n',
            "watches[0].targets[0]",
            "did you mean 'team-mail'?",
        ),
        (
            '[[sources]]\nname = "turan-politics"\nkind = "feed"\nurl = "https://e.org/f"\n'
            '[[watches]]\nname = "w"\nquery = "x"\nsources = ["turan-politcs"]\n',
            "watches[0].sources[0]",
            "did you mean 'turan-politics'?",
        ),
    ],
)
def test_did_you_mean(write_config, text, where, hint):
    with pytest.raises(ConfigError) as e:
        load_config(write_config(text))
    line = next(ln for ln in str(e.value).splitlines() if ln.strip().startswith(where))
    assert hint in line


def test_no_suggestion_when_nothing_is_close(write_config):
    with pytest.raises(ConfigError) as e:
        load_config(
            write_config('[crawl]\nzzzz = 1\n[[watches]]\nname = "w"\ncountries = ["QQ"]\n')
        )
    assert "did you mean" not in str(e.value)


def test_lower_case_operators_warn(write_config, caplog):
    config = write_config(
        TARGET + '[[watches]]\nname = "w"\n'
        'query = \'trafficking or "forced labour" and "this or that"\'\n'
    )
    with caplog.at_level(logging.WARNING, logger="newswatch.config"):
        load_config(config)
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "watches[0].query: lower-case 'or'" in warned and "write 'OR'" in warned
    assert "lower-case 'and'" in warned
    assert warned.count("lower-case") == 2  # the quoted "this or that" is a phrase
    caplog.clear()
    upper = write_config(
        TARGET + "[[watches]]\nname = \"w\"\nquery = 'a OR b AND NOT c'\n", "u.toml"
    )
    with caplog.at_level(logging.WARNING, logger="newswatch.config"):
        load_config(upper)
    assert not caplog.records


def test_counts_read_right():
    assert counted(1, "match") == "1 match"
    assert counted(3, "match") == "3 matches"
    assert counted(1, "source") == "1 source"
    assert counted(0, "story") == "0 stories"
    assert counted(2, "tier statement") == "2 tier statements"
    assert counted(1, "alert mail") == "1 alert mail"


def test_a_refused_target_url_gives_apprises_reason(run_newswatch, tmp_path):
    proc = run_newswatch(
        "init", "--target", "mailto://", cwd=tmp_path, env={"NEWSWATCH_CONFIG": ""}
    )
    assert proc.returncode == 2
    assert "Invalid ~From~ email specified" in proc.stderr
    assert "incomplete or invalid" not in proc.stderr
    assert not (tmp_path / "newswatch.toml").exists()  # nothing written


def test_discovery_obeys_the_private_address_rule(run_newswatch, write_config):
    server = LocalServer().start()
    try:
        server.add(
            "/",
            body=b'<html><head><link rel="alternate" type="application/rss+xml" href="/f.xml">'
            b"</head></html>",
            content_type="text/html",
        )
        config = write_config('[archive]\npath = "{archive}"\n')
        proc = run_newswatch("--config", str(config), "sources", "discover", server.url("/"))
        assert proc.returncode == 1
        assert "private_address_refused" in proc.stderr
        assert "allow_private_addresses = true" in proc.stderr
        assert not any(path == "/" for _, path, _ in server.requests)
    finally:
        server.stop()


def test_demo_keep_says_where_and_how_to_use_it(run_newswatch, tmp_path):
    proc = run_newswatch("demo", "--keep", str(tmp_path / "kept"), timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "is deleted" not in proc.stdout
    assert f"the demo archive is kept: {tmp_path / 'kept' / 'demo.db'}" in proc.stdout
    hint = next(ln for ln in proc.stdout.splitlines() if ln.startswith("explore it: "))
    args = hint.removeprefix("explore it: newswatch ").split()
    found = run_newswatch(*args, "--json", cwd=tmp_path)  # the printed command works as is
    assert found.returncode == 0 and "Azerbaijan" in found.stdout


def test_a_missing_default_config_says_where_it_looked(run_newswatch, tmp_path):
    proc = run_newswatch("status", cwd=tmp_path, env={"NEWSWATCH_CONFIG": ""})
    assert proc.returncode == 2
    assert f"in the working directory {tmp_path}" in proc.stderr
    assert "newswatch init" in proc.stderr
    named = run_newswatch("status", "--config", "mine.toml", cwd=tmp_path)
    assert named.returncode == 2 and "newswatch init" not in named.stderr  # it was named
