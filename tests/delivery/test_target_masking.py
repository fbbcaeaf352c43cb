"""Target URLs are shown masked everywhere (issue 13 item 6): user, password, token hosts,
path tokens, +header, -query and ?query values, for every kind of target, in `status`,
`status --json`, `alerts test`, errors and logs (text and JSON, extra fields and exception
text). A '#' in a password is refused at config load."""

from __future__ import annotations

import json
import logging

import pytest

from alerts.logs import config_secrets, setup_logging
from alerts.schema import open_archive
from alerts.secrets import mask_url, redact_text
from scheduler import load_config

# Each URL carries secrets in every position its scheme has; SECRETS lists them.
TARGETS = {
    "json": "json://juser1:jPass123@127.0.0.1:1/services/T0SECRET1/B0SECRET2/xoxb-0sekret-3"
    "?-q=QSECRET4a&+X-Token=HSECRET5a&:payload=PSECRET6a",
    "xml": "xml://xuser1:xPass123@127.0.0.1:1/hooks/XTOKEN7a?+Authorization=XHDR8abc",
    "form": "form://fuser1:fPass123@127.0.0.1:1/f/FTOKEN9a?-apikey=FQUERY10a",
    "slack": "slack://SLKTOKA11/SLKTOKB12/SLKTOKC13abc/#alerts",
    "discord": "discord://4444555566667777/DISCORDTOK14abcdef",
    "tgram": "tgram://123456789:TGRAMTOK15abcdef/987654321",
    "mailto": "mailto://muser1:mPass123@127.0.0.1:1?to=someone@example.org&from=nw@example.org",
}
SECRETS = [
    "juser1", "jPass123", "T0SECRET1", "B0SECRET2", "xoxb-0sekret-3", "QSECRET4a",
    "HSECRET5a", "PSECRET6a", "xuser1", "xPass123", "XTOKEN7a", "XHDR8abc", "fuser1",
    "fPass123", "FTOKEN9a", "FQUERY10a", "SLKTOKA11", "SLKTOKB12", "SLKTOKC13abc",
    "4444555566667777", "DISCORDTOK14abcdef", "123456789", "TGRAMTOK15abcdef", "987654321",
    "muser1", "mPass123",
]  # fmt: skip
LOCAL = ("json", "xml", "form", "mailto")  # the ones `alerts test` may really try


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


@pytest.fixture
def config(write_config, tmp_path):
    targets = "\n".join(
        f'[[targets]]\nname = "{name}"\nurl = "{url}"' for name, url in TARGETS.items()
    )
    path = write_config(f'[archive]\npath = "{{archive}}"\n{targets}\n')
    open_archive(tmp_path / "archive.db").close()  # read commands never create one
    return str(path)


@pytest.mark.parametrize("url", TARGETS.values(), ids=TARGETS.keys())
def test_every_secret_position_is_masked(url):
    shown = mask_url(url)
    assert leaks(shown) == [], shown
    assert shown.split("://")[0] == url.split("://")[0]  # still says what kind of target
    # Free text quoting the URL (an error, a log line) is masked the same way.
    assert leaks(redact_text(f"failed to send to {url}: refused")) == []


def test_status_and_status_json_show_no_secret(cli, config):
    plain = cli("--config", config, "status")
    as_json = cli("--config", config, "status", "--json")
    assert plain.exit_code == 0 and as_json.exit_code == 0
    shown = [json.loads(line) for line in as_json.output.splitlines()]
    urls = {row["name"]: row["url"] for row in shown if row["section"] == "target"}
    assert set(urls) == set(TARGETS)
    assert urls["json"].startswith("json://****:****@127.0.0.1:1/services/****/****/****?")
    assert leaks(plain.output + as_json.output) == []


def test_alerts_test_failures_show_no_secret(cli, config):
    for name in LOCAL:
        result = cli("--config", config, "alerts", "test", name)
        assert result.exit_code != 0, result.output  # port 1: nothing listens
        assert f"FAILED  {name} ({name}://" in result.output
        assert leaks(result.output) == [], result.output


@pytest.fixture
def daemon_logging():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    yield setup_logging
    root.handlers[:], level = saved
    root.setLevel(level)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_logs_mask_message_extra_fields_and_exception_text(
    config, capsys, daemon_logging, log_format
):
    daemon_logging(log_format, secrets=config_secrets(load_config(config)))
    log = logging.getLogger("newswatch.test")
    for url in TARGETS.values():
        log.warning("sending to %s", url, extra={"event": "send", "target": {"url": url}})
        try:
            raise ConnectionError(f"HTTPConnectionPool: Max retries exceeded with url: {url}")
        except ConnectionError:
            log.exception("delivery failed", extra={"error": url.split("://")[1]})
    err = capsys.readouterr().err
    assert err.count("delivery failed") == len(TARGETS)
    if log_format == "json":
        lines = [json.loads(line) for line in err.splitlines()]
        assert all("****" in line["target"]["url"] for line in lines if "target" in line)
    assert leaks(err) == [], err


def test_a_hash_in_a_password_is_refused_with_the_way_out(write_config, run_newswatch):
    path = write_config(
        '[[targets]]\nname = "mail"\nurl = "mailto://me:pa#ss99@127.0.0.1:1?to=a@example.org&from=nw@example.org"\n'
    )
    result = run_newswatch("--config", str(path), "status")
    assert result.returncode == 2
    assert "targets[0].url: target 'mail'" in result.stderr
    assert "'#'" in result.stderr and "'%23'" in result.stderr
    assert "pa#ss99" not in result.stderr + result.stdout
    encoded = write_config(
        '[[targets]]\nname = "mail"\nurl = "mailto://me:pa%23ss99@127.0.0.1:1?to=a@example.org&from=nw@example.org"\n',
        name="encoded.toml",
    )
    assert load_config(encoded).targets[0].name == "mail"
