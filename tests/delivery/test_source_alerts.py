"""Source-health alerts: one message when a source keeps failing, one when it recovers."""

from __future__ import annotations

from delivery.newsdata import T0

from alerts.config import HealthSettings, Target
from alerts.source_alerts import notify_source_health
from crawler.archive import write


def set_failures(db, n: int, error: str = "") -> None:
    with write(db):
        db.execute(
            "INSERT INTO sources (name, kind, url, consecutive_failures, last_error_class,"
            " last_error) VALUES ('turan', 'html', 'https://turan.az/', ?, 'HttpError', ?)"
            " ON CONFLICT(name) DO UPDATE SET consecutive_failures = excluded.consecutive_failures,"
            " last_error = excluded.last_error",
            [n, error],
        )


def test_failing_then_recovered_once_each(db, webhook, smtp):
    health = HealthSettings(targets=["ops"], after_failures=3)
    targets = [
        Target(name="hook", url=webhook.json_url(), tags=["ops"]),
        Target(name="mail", url=smtp.url(), tags=["ops"]),
    ]
    set_failures(db, 2, "503 from https://user:pw123456@turan.az/")
    assert notify_source_health(db, health, targets, now=T0) == 0
    set_failures(db, 3, "503 from https://user:pw123456@turan.az/")
    assert notify_source_health(db, health, targets, now=T0) == 2
    assert notify_source_health(db, health, targets, now=T0) == 0  # told once
    set_failures(db, 4)
    assert notify_source_health(db, health, targets, now=T0) == 0
    set_failures(db, 0)
    assert notify_source_health(db, health, targets, now=T0) == 2
    assert notify_source_health(db, health, targets, now=T0) == 0
    assert [p.json()["title"] for p in webhook.posts] == [
        "newswatch: source turan is failing",
        "newswatch: source turan has recovered",
    ]
    assert "failed 3 times in a row" in webhook.posts[0].json()["message"]
    assert "pw123456" not in webhook.posts[0].json()["message"]
    assert len(smtp.mailbox.messages) == 2


def test_no_health_targets_sends_nothing(db, webhook):
    set_failures(db, 9)
    targets = [Target(name="hook", url=webhook.json_url())]
    assert notify_source_health(db, HealthSettings(), targets, now=T0) == 0
    assert webhook.posts == []
