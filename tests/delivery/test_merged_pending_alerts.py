"""A first alert still waiting when its story merges (crawler/story_merge.py) into another:
one first alert per story, watch and target also across the merge. The waiting row is
settled without a message (status ``merged``, why in ``last_error``) when the live story
was already sent to that watch and target; it goes out, once, as the merged story when it
was not. The hourly limit and the preview count two merged stories as the one message
they make. Real SQLite, a real SMTP server (aiosmtpd); fixtures written for newswatch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from delivery.newsdata import T0

from alerts import outbox
from alerts.cli.run import print_cycle_summary
from alerts.config import DeliverySettings, Target, Watch
from alerts.deliver import deliver_due, next_slot
from alerts.preview import preview
from crawler import archive
from crawler.story_merge import merge_rows

DELIVERY = DeliverySettings(backoff="1m", max_backoff="10m", max_attempts=5)
WATCHES = [Watch(name="trafficking", query="x", targets=["mail"])]


def cycle(db, smtp, now, watches=WATCHES):
    targets = [Target(name="mail", url=smtp.url())]
    outbox.enqueue(db, watches, targets, now=now)
    return deliver_due(db, watches, targets, DELIVERY, now=now)


def rows(db) -> dict[int, dict]:
    return {r["story_id"]: r for r in db.query("SELECT * FROM alerts ORDER BY id")}


def fail_first_attempt(db, smtp, now, watches=WATCHES) -> None:
    """The next cycle's send is refused (the mail server is down): its row waits to retry."""
    smtp.stop()
    try:
        stats = cycle(db, smtp, now, watches)
    finally:
        smtp.start()
    assert (stats.sent, stats.retrying) == (0, 1), stats


def test_a_waiting_alert_merged_into_an_alerted_story_is_settled_unsent(db, news, smtp, capsys):
    s = news.add("Raid in Baku")
    assert cycle(db, smtp, T0).sent == 1
    assert smtp.mailbox.wait_for(1, timeout=30)
    t = news.add("Police raid in Baku", source="wire")
    fail_first_attempt(db, smtp, T0 + timedelta(minutes=1))
    assert rows(db)[t]["status"] == "pending" and rows(db)[t]["attempts"] == 1
    with archive.write(db):
        assert merge_rows(db, s, t)
    later = T0 + timedelta(hours=2)
    targets = [Target(name="mail", url=smtp.url())]
    # the preview shows no message for it either
    assert preview(db, WATCHES, targets, DELIVERY, now=later) == []
    stats = cycle(db, smtp, later)
    assert (stats.messages, stats.sent) == (0, 0)
    assert stats.merged == 1
    [subject] = smtp.mailbox.subjects()  # S's alert alone
    assert subject.startswith("[trafficking] Raid in Baku")
    settled = rows(db)[t]
    assert settled["status"] == "merged" and settled["sent_at"] is None
    assert f"merged into story {s}, alerted as alert {rows(db)[s]['id']}" in settled["last_error"]
    assert [r["id"] for r in outbox.list_alerts(db, status="merged")] == [settled["id"]]
    print_cycle_summary({"alerts": outbox.status_counts(db)})  # what `run --once` ends with
    assert "1 sent, 0 pending, 0 failed, 1 merged into alerted stories" in capsys.readouterr().out
    assert outbox.retry(db, [settled["id"]]) == 0  # settled: not sent again by a retry
    assert cycle(db, smtp, later + timedelta(hours=1)).sent == 0
    assert len(smtp.mailbox.subjects()) == 1


def test_a_waiting_alert_of_the_story_an_alerted_one_merged_into_is_settled(db, news, smtp):
    t = news.add("Raid in Baku")
    assert cycle(db, smtp, T0).sent == 1
    assert smtp.mailbox.wait_for(1, timeout=30)
    s = news.add("Police raid in Baku", source="wire")
    fail_first_attempt(db, smtp, T0 + timedelta(minutes=1))
    with archive.write(db):  # the alerted story merges into the one still waiting
        assert merge_rows(db, s, t)
    stats = cycle(db, smtp, T0 + timedelta(hours=2))
    assert (stats.messages, stats.sent) == (0, 0)
    settled = rows(db)[s]
    assert settled["status"] == "merged"
    assert (
        f"story {t} merged into it, alerted as alert {rows(db)[t]['id']}" in (settled["last_error"])
    )
    assert len(smtp.mailbox.subjects()) == 1


def test_a_waiting_alert_merged_into_a_story_never_alerted_goes_out_once(db, news, smtp):
    s = news.add("Raid in Baku", watch="elsewhere")  # a story the watch never matched
    t = news.add("Police raid in Baku", source="wire")
    fail_first_attempt(db, smtp, T0)
    with archive.write(db):
        assert merge_rows(db, s, t)
    later = T0 + timedelta(hours=2)
    stats = cycle(db, smtp, later)
    assert (stats.messages, stats.sent) == (1, 1)
    assert smtp.mailbox.wait_for(1, timeout=30)
    assert rows(db)[t]["status"] == "sent"
    assert cycle(db, smtp, later + timedelta(hours=1)).sent == 0
    assert len(smtp.mailbox.subjects()) == 1


def test_a_digest_row_merged_into_a_story_already_in_a_digest_shows_as_its_update(db, news, smtp):
    watches = [Watch(name="trafficking", query="x", targets=["mail"], mode="digest")]
    utc = ZoneInfo("UTC")
    # the merge stamps the story with the real clock: the digests run around it
    start = datetime.now(UTC) - timedelta(days=2)
    s = news.add("Raid in Baku", at=start)
    cycle(db, smtp, start, watches)  # queued for the digest time
    first = next_slot(["08:00"], start, utc)
    assert cycle(db, smtp, first, watches).sent == 1
    assert smtp.mailbox.wait_for(1, timeout=30)
    t = news.add("Police raid in Baku", source="wire", at=first)
    cycle(db, smtp, first + timedelta(hours=1), watches)  # T waits for the next digest
    assert rows(db)[t]["status"] == "pending"
    with archive.write(db):
        assert merge_rows(db, s, t)
    second = next_slot(["08:00"], datetime.now(UTC), utc)
    stats = cycle(db, smtp, second, watches)
    assert stats.messages == 1
    assert smtp.mailbox.wait_for(2, timeout=30)
    body = smtp.mailbox.bodies("plain")[1].replace("\r\n", "\n")
    assert "Updated since last sent" in body
    assert "- Raid in Baku · turan (+1 outlet)" in body and "Police raid" not in body
    assert rows(db)[t]["status"] == "merged"


def test_the_hourly_limit_and_the_preview_count_merged_stories_once(db, news, smtp):
    watches = [Watch(name="trafficking", query="x", targets=["mail"], max_per_hour=2)]
    targets = [Target(name="mail", url=smtp.url())]
    news.add("Floods in Ganja")
    t = news.add("Police raid in Baku", source="wire")
    s = news.add("Raid in Baku")
    assert outbox.enqueue(db, watches, targets, now=T0) == 3
    with archive.write(db):
        assert merge_rows(db, s, t)
    # two stories now, two messages: within the limit, no summary
    shown = preview(db, watches, targets, DELIVERY, now=T0)
    assert sorted((p.kind, p.stories) for p in shown) == [("alert", 1), ("alert", 1)]
    stats = deliver_due(db, watches, targets, DELIVERY, now=T0)
    assert (stats.messages, stats.sent) == (2, 3)
    kinds = [r["kind"] for r in db.query("SELECT kind FROM deliveries ORDER BY id")]
    assert kinds == ["alert", "alert"]


def test_a_summary_counts_two_merged_stories_as_one(db, news, smtp):
    watches = [Watch(name="trafficking", query="x", targets=["mail"], max_per_hour=1)]
    targets = [Target(name="mail", url=smtp.url())]
    news.add("Floods in Ganja")
    t = news.add("Police raid in Baku", source="wire")
    s = news.add("Raid in Baku")
    assert outbox.enqueue(db, watches, targets, now=T0) == 3
    with archive.write(db):
        assert merge_rows(db, s, t)
    [summary] = preview(db, watches, targets, DELIVERY, now=T0)
    assert (summary.kind, summary.stories, len(summary.alerts)) == ("summary", 2, 3)
