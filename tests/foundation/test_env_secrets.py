"""What a config load remembers of ``${VAR}`` values and how they are shown (crawler/env_secrets.py)."""

from __future__ import annotations

from alerts.secrets import redact_login
from crawler.env_secrets import conceal
from scheduler import load_config


def test_values_from_the_environment_are_shown_as_their_variable(write_config, monkeypatch):
    monkeypatch.setenv("FEED_KEY", "Zx81long-key")
    monkeypatch.setenv("LANG_CODE", "en")  # short: only inside the string it was put in
    path = write_config(
        """
        [archive]
        path = "{archive}"
        [crawl]
        user_agent = "literal $${FEED_KEY} and ${LANG_CODE}"
        [[sources]]
        name = "s"
        kind = "feed"
        url = "https://h.example/${LANG_CODE}/${FEED_KEY}/rss"
        """
    )
    cfg = load_config(path)
    url = cfg.sources[0].url
    assert url == "https://h.example/en/Zx81long-key/rss"  # the crawler's real URL
    assert conceal(url) == "https://h.example/${LANG_CODE}/${FEED_KEY}/rss"
    # in free text (an error quoting the URL), the long value goes, "en" stays readable
    error = f"TimeoutError: Getting {url} took longer than 1 s (sent when ready)"
    assert conceal(error) == (
        "TimeoutError: Getting https://h.example/en/${FEED_KEY}/rss took longer than 1 s"
        " (sent when ready)"
    )
    assert "Zx81long-key" not in redact_login(f"failed: {url}")
    # $${FEED_KEY} is the literal text, not the value: nothing to hide
    assert cfg.crawl.user_agent == "literal ${FEED_KEY} and en"


def test_a_config_error_quotes_the_variable_not_its_value(write_config, run_newswatch):
    path = write_config(
        """
        [crawl]
        interval = "${FEED_KEY}"
        [[sources]]
        name = "k"
        kind = "feed"
        url = "${FEED_KEY}"
        """
    )
    done = run_newswatch("--config", str(path), "sources", "list", env={"FEED_KEY": "sekrit999"})
    assert done.returncode == 2
    assert "sekrit999" not in done.stdout + done.stderr
    assert "invalid duration '${FEED_KEY}'" in done.stderr
    assert "got '${FEED_KEY}'" in done.stderr
