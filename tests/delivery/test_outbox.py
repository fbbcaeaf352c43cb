"""The outbox against real targets: each alert once per target, retries, crashes, failures."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from delivery.newsdata import T0

from alerts import outbox
from alerts.config import DeliverySettings, Target, Watch
from alerts.deliver import deliver_due
from crawler import times

REPO = Path(__file__).resolve().parents[2]
DELIVERY = DeliverySettings(backoff="1m", max_backoff="10m", max_attempts=3)


def cycle(db, watches, targets, now, delivery=DELIVERY):
    outbox.enqueue(db, watches, targets, now=now)
    return deliver_due(db, watches, targets, delivery, now=now)


def test_each_story_reaches_each_target_once(db, news, smtp, webhook):
    news.add("First story")
    news.add("Second story", countries=("AZ", "GE"))
    news.add("Other watch", watch="elsewhere")
    targets = [
        Target(name="mail", url=smtp.url(), tags=["team"]),
        Target(name="hook", url=webhook.json_url(), tags=["team"]),
        Target(name="unused", url=webhook.json_url("unused")),
    ]
    watches = [Watch(name="trafficking", query="trafficking", targets=["team"])]

    stats = cycle(db, watches, targets, T0)
    assert (stats.messages, stats.sent, stats.failed) == (4, 4, 0)
    assert sorted(smtp.mailbox.subjects()) == [
        "[trafficking] First story (AZ)",
        "[trafficking] Second story (AZ +1)",
    ]
    assert sorted(p.json()["title"] for p in webhook.posts) == sorted(smtp.mailbox.subjects())
    assert {p.path for p in webhook.posts} == {"/hook"}
    assert outbox.status_counts(db) == {
        "pending": 0,
        "sending": 0,
        "sent": 4,
        "failed": 0,
        "merged": 0,
    }

    # A second cycle, and a re-run of the match stage's output, send nothing new.
    again = cycle(db, watches, targets, T0 + timedelta(minutes=30))
    assert again.messages == 0
    assert len(smtp.mailbox.messages) == 2 and len(webhook.posts) == 2


def test_alert_content(db, news, webhook):
    news.add(
        "Tier report", sources=("apa", "bbc"), tiers=(("AZ", "Tier 2"),), terms=("trafficking",)
    )
    targets = [Target(name="hook", url=webhook.json_url())]
    watches = [Watch(name="trafficking", query="x", targets=["hook"])]
    cycle(db, watches, targets, T0)
    body = webhook.posts[0].json()["message"]
    for expected in (
        "Watch: trafficking",
        "Countries: Azerbaijan",
        "Tier: Azerbaijan: Tier 2 (2025)",
        "Source: turan (+2 outlets)",
        "Published: 2026-03-02",
        "Matched: trafficking",
        "URL: https://news.example.org/a/1",
        "The report on trafficking was published.",
    ):
        assert expected in body
    assert len(body) < 1200  # the excerpt, not the whole article


def test_target_added_later_gets_recent_matches_only(db, news, webhook):
    news.add("Old story", at=T0 - timedelta(days=10))
    news.add("Recent story", at=T0 - timedelta(hours=3))
    watches = [Watch(name="trafficking", query="x", targets=[])]
    assert outbox.enqueue(db, watches, [], now=T0) == 0  # no targets: matches wait
    targets = [Target(name="hook", url=webhook.json_url())]
    watches = [Watch(name="trafficking", query="x", targets=["hook"])]
    cycle(db, watches, targets, T0)
    assert [p.json()["title"] for p in webhook.posts] == ["[trafficking] Recent story (AZ)"]


def test_smtp_down_for_one_cycle_then_delivered_exactly_once(db, news, smtp):
    news.add("During the outage")
    targets = [Target(name="mail", url=smtp.url(password="hunter2-secret"))]
    watches = [Watch(name="trafficking", query="x", targets=["mail"])]
    smtp.stop()
    first = cycle(db, watches, targets, T0)
    assert (first.sent, first.retrying) == (0, 1)
    (row,) = outbox.list_alerts(db)
    assert row["status"] == "pending" and row["attempts"] == 1
    assert row["next_attempt_at"] == "2026-03-02T06:01:00Z"  # backoff 1m
    assert row["last_error"] and "hunter2-secret" not in row["last_error"]
    smtp.start()
    assert cycle(db, watches, targets, T0 + timedelta(seconds=30)).messages == 0  # not yet due
    second = cycle(db, watches, targets, T0 + timedelta(minutes=1))
    assert second.sent == 1
    third = cycle(db, watches, targets, T0 + timedelta(hours=1))
    assert third.messages == 0
    assert smtp.mailbox.subjects() == ["[trafficking] During the outage (AZ)"]


def test_webhook_500_then_429_then_200_delivers_once(db, news, webhook):
    news.add("Flaky endpoint")
    webhook.script(500, (429, {"Retry-After": "60"}))
    targets = [Target(name="hook", url=webhook.json_url())]
    watches = [Watch(name="trafficking", query="x", targets=["hook"])]
    now = T0
    for _ in range(5):
        cycle(db, watches, targets, now)
        now += timedelta(minutes=10)
    assert webhook.answered == [500, 429, 200]
    assert len(webhook.posts) == 1
    (row,) = outbox.list_alerts(db)
    assert (row["status"], row["attempts"]) == ("sent", 3)


def test_failed_after_max_attempts_with_capped_backoff(db, news, webhook):
    news.add("Never accepted")
    webhook.default = 500
    targets = [Target(name="hook", url=webhook.json_url())]
    watches = [Watch(name="trafficking", query="x", targets=["hook"])]
    delivery = DeliverySettings(backoff="1m", max_backoff="3m", max_attempts=4)
    now, waits = T0, []
    for _ in range(4):
        stats = cycle(db, watches, targets, now, delivery)
        (row,) = outbox.list_alerts(db)
        if row["next_attempt_at"]:
            waits.append(times.parse_iso(row["next_attempt_at"]) - now)
            now = times.parse_iso(row["next_attempt_at"])
    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=3)]
    assert stats.failed == 1
    assert row["status"] == "failed" and "500" in row["last_error"]
    assert cycle(db, watches, targets, now + timedelta(days=1), delivery).messages == 0
    assert len(webhook.answered) == 4

    assert outbox.retry(db, failed=True, now=now) == 1
    webhook.default = 200
    assert cycle(db, watches, targets, now + timedelta(seconds=1), delivery).sent == 1


@pytest.mark.slow  # a real process
def test_crash_between_send_and_mark_repeats_at_most_once(db, news, smtp, tmp_path):
    news.add("Sent just before the crash")
    archive = tmp_path / "archive.db"
    script = textwrap.dedent(
        f"""
        from datetime import datetime, UTC
        from alerts import outbox
        from alerts.config import DeliverySettings, Target, Watch
        from alerts.deliver import deliver_due
        from crawler.archive import open_archive
        db = open_archive({str(archive)!r})
        targets = [Target(name="mail", url={smtp.url()!r})]
        watches = [Watch(name="trafficking", query="x", targets=["mail"])]
        now = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
        outbox.enqueue(db, watches, targets, now=now)
        deliver_due(db, watches, targets, DeliverySettings(), now=now)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stderr=subprocess.PIPE, text=True
    )
    smtp.mailbox.kill_pid_on_message = proc.pid
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode < 0, stderr  # killed by the SMTP server while sending
    assert len(smtp.mailbox.messages) == 1
    (row,) = outbox.list_alerts(db)
    assert row["status"] == "sending"

    targets = [Target(name="mail", url=smtp.url())]
    watches = [Watch(name="trafficking", query="x", targets=["mail"])]
    # Before the lease runs out nothing is sent twice; after it, the message goes once more.
    assert deliver_due(db, watches, targets, DELIVERY, now=T0 + timedelta(minutes=5)).sent == 0
    assert deliver_due(db, watches, targets, DELIVERY, now=T0 + outbox.LEASE).sent == 1
    assert deliver_due(db, watches, targets, DELIVERY, now=T0 + timedelta(hours=2)).sent == 0
    assert len(smtp.mailbox.messages) == 2
