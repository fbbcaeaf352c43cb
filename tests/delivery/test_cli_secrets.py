"""`newswatch alerts test|list|retry`, target URLs checked at config load, secrets kept out."""

from __future__ import annotations

import json
import logging

import pytest
from delivery.newsdata import T0

from alerts import outbox
from alerts.config import DeliverySettings, Target, Watch
from alerts.deliver import deliver_due
from alerts.logs import config_secrets, setup_logging
from crawler.archive import open_archive
from scheduler import load_config

SECRET = "s3cr3t-Passw0rd"


def config(write_config, smtp, *, extra: str = "") -> str:
    return str(
        write_config(
            f"""
            [archive]
            path = "{{archive}}"
            [[targets]]
            name = "mail"
            url = "mailto://newswatch:{SECRET}@127.0.0.1:{smtp.port}?from=nw@example.org&to=a@example.org"
            [[targets]]
            name = "dead"
            url = "mailto://newswatch:{SECRET}@127.0.0.1:1?from=nw@example.org&to=a@example.org"
            [[watches]]
            name = "trafficking"
            query = "trafficking"
            targets = ["mail", "dead"]
            {extra}
            """
        )
    )


def test_bad_target_url_is_a_config_error_without_its_secret(write_config, run_newswatch):
    path = write_config(
        f"""
        [[targets]]
        name = "good"
        url = "json://127.0.0.1:9/x"
        [[targets]]
        name = "typo"
        url = "mailtoo://user:{SECRET}@smtp.example.org"
        [[targets]]
        name = "half"
        url = "slack://T1JJ3T3L2/{SECRET}"
        """
    )
    result = run_newswatch("--config", str(path), "status")
    assert result.returncode == 2
    assert (
        "targets[1].url: target 'typo': Apprise cannot use this URL (unknown scheme"
        in result.stderr
    )
    assert "targets[2].url: target 'half': Apprise cannot use this URL" in result.stderr
    assert "targets[0]" not in result.stderr
    assert SECRET not in result.stderr + result.stdout


def test_alerts_test_reports_each_target(cli, write_config, smtp):
    result = cli("--config", config(write_config, smtp), "alerts", "test")
    assert result.exit_code == 1
    assert "ok      mail (mailto://****:****@127.0.0.1" in result.output
    assert "FAILED  dead (mailto://" in result.output
    assert SECRET not in result.output
    assert smtp.mailbox.subjects() == ["newswatch test message for mail"]
    one = cli("--config", config(write_config, smtp), "alerts", "test", "mail")
    assert one.exit_code == 0 and "dead" not in one.output
    assert cli("--config", config(write_config, smtp), "alerts", "test", "nope").exit_code == 2


@pytest.fixture
def daemon_logging():
    """The daemon's own log set-up (what `newswatch run` calls); pytest's handlers and the
    levels it changes are put back afterwards."""
    root = logging.getLogger()
    touched = ["apprise", "scrapy", "twisted", "apscheduler", "apscheduler.scheduler"]
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in touched})
    yield setup_logging
    handlers, level, levels = saved
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, lvl in levels.items():
        logging.getLogger(name).setLevel(lvl)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_secrets_stay_out_of_logs_errors_status_and_archive(
    cli, write_config, smtp, news, db, capsys, tmp_path, daemon_logging, log_format
):
    path = config(write_config, smtp)
    daemon_logging(log_format, level=logging.DEBUG, secrets=config_secrets(load_config(path)))
    assert logging.getLogger("apprise").getEffectiveLevel() >= logging.INFO
    news.add("A story")
    targets = [
        Target(name="mail", url=smtp.url(password=SECRET)),
        Target(name="dead", url=f"mailto://newswatch:{SECRET}@127.0.0.1:1?to=a@example.org"),
        Target(name="hook", url=f"json://user:{SECRET}@127.0.0.1:1/hook"),
    ]
    watches = [Watch(name="trafficking", query="x", targets=["mail", "dead", "hook"])]
    outbox.enqueue(db, watches, targets, now=T0)
    logging.getLogger("newswatch.test").debug("sending via %s", targets[1].url)
    # A bare secret (not inside a URL) is masked too: the config's passwords are known.
    logging.getLogger("newswatch.test").warning("login failed for password %s", SECRET)
    stats = deliver_due(db, watches, targets, DeliverySettings(), now=T0)
    assert (stats.sent, stats.retrying) == (1, 2)
    errors = " ".join(stats.errors) + json.dumps(outbox.list_alerts(db))
    status = (
        cli("--config", path, "status").output + cli("--config", path, "status", "--json").output
    )
    listing = cli("--config", path, "alerts", "list").output
    # the CLI reads the archive the config names; also check the one the deliveries wrote
    dump = "\n".join(open_archive(tmp_path / "archive.db").iterdump())
    logs = capsys.readouterr().err
    assert "sending via mailto://****:****@" in logs
    assert "login failed for password ****" in logs
    for seen in (logs, errors, status, listing, dump):
        assert SECRET not in seen


def test_alerts_list_and_retry(cli, write_config, smtp, news, db):
    path = config(write_config, smtp)
    news.add("Fails then retried")
    targets = [Target(name="dead", url="json://127.0.0.1:1/x")]
    watches = [Watch(name="trafficking", query="x", targets=["dead"])]
    outbox.enqueue(db, watches, targets, now=T0)
    deliver_due(db, watches, targets, DeliverySettings(max_attempts=1), now=T0)
    listing = cli("--config", path, "alerts", "list", "--status", "failed", "--json").output
    (row,) = [json.loads(line) for line in listing.splitlines()]
    assert (row["status"], row["target"], row["title"]) == ("failed", "dead", "Fails then retried")
    assert (
        "no alerts with status sent"
        in cli("--config", path, "alerts", "list", "--status", "sent").output
    )
    assert "1 alert(s)" in cli("--config", path, "alerts", "retry", str(row["id"])).output
    assert outbox.status_counts(db)["pending"] == 1
    deliver_due(db, watches, targets, DeliverySettings(max_attempts=1))  # retry: due now
    assert outbox.status_counts(db)["failed"] == 1
    assert "1 alert(s)" in cli("--config", path, "alerts", "retry", "--failed").output
    assert cli("--config", path, "alerts", "retry").exit_code == 2
    unknown = cli("--config", path, "alerts", "retry", "9999", str(row["id"]))
    assert "1 alert(s)" in unknown.output
    assert "no alert with id 9999" in unknown.output


@pytest.mark.parametrize("command", ["test", "list", "retry"])
def test_alerts_commands_have_help(cli, command):
    result = cli("alerts", command, "--help")
    assert result.exit_code == 0 and len(result.output) > 100
