"""Config loading: the DESIGN.md example, env interpolation, and clear errors with key paths."""

from __future__ import annotations

import pytest

from scheduler import ConfigError, load_config

DESIGN_EXAMPLE = """
[archive]
path = "{archive}"

[crawl]
user_agent = "newswatch (+https://example.org/contact)"
interval = "30m"            # default per source
max_page_bytes = 10_000_000
obey_robots = true

[[sources]]
name = "turan-politics"
kind = "html"               # feed | html | sitemap
url = "https://turan.az/en/politics"
links = "a[href*='/en/politics/']"   # CSS selector for article links on the listing page
interval = "1h"

[[sources]]
name = "state-dept-tip"
kind = "feed"
url = "https://example.org/feeds/tip.xml"
full_text = true            # follow each item to its page and extract the article

[[targets]]
name = "team-mail"
url = "mailtos://${SMTP_USER}:${SMTP_PASSWORD}@smtp.example.org?to=alerts@example.org"

[[watches]]
name = "azerbaijan-trafficking"
countries = ["AZ"]
query = 'trafficking OR "forced labor" OR "Tier 2 Watch List"'
targets = ["team-mail"]
mode = "immediate"          # immediate | digest
"""

SECRET_ENV = {"SMTP_USER": "analyst", "SMTP_PASSWORD": "s3cr3t-pw"}


def test_design_example_loads(write_config, monkeypatch):
    for k, v in SECRET_ENV.items():
        monkeypatch.setenv(k, v)
    cfg = load_config(write_config(DESIGN_EXAMPLE))
    assert [s.name for s in cfg.sources] == ["turan-politics", "state-dept-tip"]
    assert cfg.sources[0].interval.total_seconds() == 3600
    assert cfg.sources[1].effective_interval(cfg.crawl).total_seconds() == 1800
    assert cfg.targets[0].url.startswith("mailtos://analyst:s3cr3t-pw@smtp.example.org")
    assert cfg.watches[0].countries == ["AZ"]


def test_default_config_loads_without_environment(monkeypatch):
    for k in list(SECRET_ENV):
        monkeypatch.delenv(k, raising=False)
    cfg = load_config("data/newswatch.toml")
    assert len(cfg.sources) >= 10
    kinds = {s.kind for s in cfg.sources}
    assert {"feed", "html"} <= kinds
    assert cfg.watches, "the default config has a watch"


def test_missing_environment_variable_is_named(write_config, monkeypatch):
    monkeypatch.setenv("SMTP_USER", "analyst")
    monkeypatch.delenv("SMTP_PASSWORD", raising=False)
    with pytest.raises(ConfigError) as e:
        load_config(write_config(DESIGN_EXAMPLE))
    assert e.value.problems == [("targets[0].url", "environment variable SMTP_PASSWORD is not set")]


def test_dollar_dollar_escapes_interpolation(write_config, monkeypatch):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    path = write_config(
        """
        [crawl]
        user_agent = "literal $${NOT_SET_ANYWHERE}"
        """
    )
    assert load_config(path).crawl.user_agent == "literal ${NOT_SET_ANYWHERE}"


@pytest.mark.parametrize(
    ("text", "path", "words"),
    [
        (
            """
            [[sources]]
            name = "a"
            kind = "feed"
            url = "https://example.org/a.xml"
            [[sources]]
            name = "b"
            kind = "feed"
            url = "https://example.org/b.xml"
            [[sources]]
            name = "c"
            kind = "feed"
            url = "https://example.org/c.xml"
            interval = "soon"
            """,
            "sources[2].interval",
            "invalid duration",
        ),
        (
            """
            [crawl]
            intervall = "1h"
            """,
            "crawl.intervall",
            "unknown key",
        ),
        (
            """
            [[sources]]
            name = "a"
            kind = "podcast"
            url = "https://example.org/a.xml"
            """,
            "sources[0].kind",
            "'feed', 'html' or 'sitemap'",
        ),
        (
            """
            [[sources]]
            name = "a"
            kind = "feed"
            url = "file:///etc/passwd"
            """,
            "sources[0].url",
            "http:// or https://",
        ),
        (
            """
            [[sources]]
            name = "a"
            kind = "feed"
            """,
            "sources[0].url",
            "required key is missing",
        ),
        (
            """
            [[sources]]
            name = "a"
            kind = "html"
            url = "https://example.org/"
            """,
            "sources[0]",
            "needs 'links'",
        ),
        (
            """
            [crawl]
            max_page_bytes = -5
            """,
            "crawl.max_page_bytes",
            "greater than 0",
        ),
        (
            """
            [[watches]]
            name = "w"
            countries = ["Azerbaijan"]
            """,
            "watches[0].countries",
            "ISO 3166-1",
        ),
        (
            """
            [[watches]]
            name = "w"
            countries = ["AZ"]
            targets = ["nobody"]
            """,
            "watches[0].targets[0]",
            "no target or tag named 'nobody'",
        ),
        (
            """
            [[sources]]
            name = "a"
            kind = "feed"
            url = "https://example.org/a.xml"
            [[sources]]
            name = "a"
            kind = "feed"
            url = "https://example.org/b.xml"
            """,
            "sources[1].name",
            "duplicate name 'a'",
        ),
        (
            """
            [delivery]
            timezone = "Mars/Olympus"
            """,
            "delivery.timezone",
            "unknown time zone",
        ),
    ],
)
def test_bad_values_name_the_key_path(write_config, text, path, words):
    with pytest.raises(ConfigError) as e:
        load_config(write_config(text))
    paths = [p for p, _ in e.value.problems]
    assert path in paths, e.value.problems
    message = dict(e.value.problems)[path]
    assert words in message


def test_invalid_toml_and_missing_file(write_config, tmp_path):
    with pytest.raises(ConfigError) as e:
        load_config(write_config("[crawl\nuser_agent = 1"))
    assert "not valid TOML" in str(e.value)
    with pytest.raises(ConfigError) as e:
        load_config(tmp_path / "nope.toml")
    assert "file not found" in str(e.value)


def test_bad_config_exits_2_names_file_and_key_and_writes_nothing(
    write_config, run_newswatch, tmp_path
):
    path = write_config(
        """
        [archive]
        path = "{archive}"
        [[sources]]
        name = "a"
        kind = "feed"
        url = "https://example.org/a.xml"
        interval = "every now and then"
        """
    )
    for command in (["status"], ["search", "x"], ["run", "--once"], ["crawl"], ["match"]):
        proc = run_newswatch("--config", str(path), *command, input="")
        assert proc.returncode == 2, (command, proc.stderr)
        assert str(path) in proc.stderr
        assert "sources[0].interval" in proc.stderr
        assert "Traceback" not in proc.stderr
    assert not (tmp_path / "archive.db").exists()


def test_config_from_environment_variable(write_config, run_newswatch, tmp_path):
    path = write_config('[archive]\npath = "{archive}"\n')
    proc = run_newswatch("status", "--json", env={"NEWSWATCH_CONFIG": str(path)})
    # that config's archive was looked for (read commands never create it)
    assert proc.returncode == 4, proc.stderr
    assert f"no archive at {tmp_path / 'archive.db'}" in proc.stderr


def test_secrets_never_in_error_messages(write_config, monkeypatch):
    monkeypatch.setenv("SMTP_USER", "analyst")
    monkeypatch.setenv("SMTP_PASSWORD", "s3cr3t-pw")
    text = DESIGN_EXAMPLE.replace('mode = "immediate"', 'mode = "sometimes"')
    with pytest.raises(ConfigError) as e:
        load_config(write_config(text))
    assert "watches[0].mode" in str(e.value)
    assert "s3cr3t-pw" not in str(e.value)
