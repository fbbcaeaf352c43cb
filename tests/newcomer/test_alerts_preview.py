"""`newswatch alerts preview`: the next digest or alerts as delivery would build them, with
nothing sent and nothing in the outbox changed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from delivery.newsdata import T0, News
from delivery.test_followups import CHARGED, RAID, World, item
from support.smtp import SMTPServer
from support.webhook import Webhook

from alerts import outbox
from alerts.config import DeliverySettings, Target, Watch
from alerts.deliver import deliver_due, next_slot
from alerts.schema import open_archive


@pytest.fixture
def webhook():
    hook = Webhook().start()
    yield hook
    hook.stop()


@pytest.fixture
def setup(tmp_path, webhook):
    """An archive with two stories waiting for a digest watch and one (matched by two
    watches) waiting for immediate alerts, and a config naming the same watches."""
    path = tmp_path / "archive.db"
    db = open_archive(path)
    news = News(db)
    news.add("Hazelnut pickers freed in Ganja", watch="daily", terms=("forced labour",))
    news.add("Shelter opens in Batumi", watch="daily", countries=("GE",))
    story = news.add("Border guards trained on trafficking", watch="now")
    news.add("Border guards trained on trafficking (copy)", watch="other")  # another story
    # the same story matched by a second immediate watch: one message naming both
    article = next(db.query("SELECT article_id FROM matches WHERE story_id = ?", [story]))
    db.execute(
        "INSERT INTO matches (article_id, story_id, watch, countries, terms, matched_at)"
        " VALUES (?, ?, 'other', '[\"AZ\"]', '[]', ?)",
        [article["article_id"], story, "2026-03-02T06:00:00Z"],
    )
    db.conn.commit()
    targets = [Target(name="hook", url=webhook.json_url())]
    watches = [
        Watch(name="daily", query="x", targets=["hook"], mode="digest", digest_at=["08:00"]),
        Watch(name="now", query="y", targets=["hook"]),
        Watch(name="other", query="z", targets=["hook"]),
    ]
    outbox.enqueue(db, watches, targets, now=T0)
    config = tmp_path / "newswatch.toml"
    config.write_text(
        f'[archive]\npath = "{path}"\n'
        f'[[targets]]\nname = "hook"\nurl = "{webhook.json_url()}"\n'
        '[[watches]]\nname = "daily"\nquery = "x"\ntargets = ["hook"]\nmode = "digest"\n'
        '[[watches]]\nname = "now"\nquery = "y"\ntargets = ["hook"]\n'
        '[[watches]]\nname = "other"\nquery = "z"\ntargets = ["hook"]\n',
        encoding="utf-8",
    )
    yield db, str(config), watches, targets
    db.close()


def _snapshot(db) -> tuple[list, list]:
    alerts = [dict(r) for r in db.query("SELECT * FROM alerts ORDER BY id")]
    deliveries = [dict(r) for r in db.query("SELECT * FROM deliveries ORDER BY id")]
    return alerts, deliveries


def _previews(cli, config: str, *args: str) -> list[dict]:
    result = cli("--config", config, "alerts", "preview", "--json", *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_preview_is_the_message_delivery_then_sends(cli, setup, webhook):
    db, config, watches, targets = setup
    before = _snapshot(db)

    (digest,) = _previews(cli, config, "--watch", "daily")
    assert (digest["kind"], digest["watch"], digest["stories"]) == ("digest", "daily", 2)
    assert "Hazelnut pickers freed in Ganja" in digest["body"]
    assert "Shelter opens in Batumi" in digest["body"]
    assert "Border guards" not in digest["body"]

    alerts = _previews(cli, config, "--watch", "now")
    (alert,) = alerts  # one story: one message, naming both watches that wait with it
    assert alert["kind"] == "alert" and alert["watch"] == "now, other"
    assert alert["subject"].startswith("[now, other] Border guards trained on trafficking")
    everything = _previews(cli, config)
    assert len(everything) == 3  # the digest, that alert, and 'other''s own second story

    # nothing sent, nothing marked
    assert webhook.posts == []
    assert _snapshot(db) == before

    # what delivery then sends is what the preview showed
    deliver_due(db, watches, targets, DeliverySettings(), now=T0)  # the immediate ones
    slot = next_slot(["08:00"], T0, ZoneInfo("UTC"))
    deliver_due(db, watches, targets, DeliverySettings(), now=slot)  # the digest
    sent = {p.json()["title"]: p.json()["message"] for p in webhook.posts}
    assert len(sent) == 3
    for m in everything:
        assert sent[m["subject"]].strip() == m["body"].strip()


def test_formats_filters_and_nothing_waiting(cli, setup):
    db, config, _, _ = setup
    before = _snapshot(db)
    (html,) = _previews(cli, config, "--watch", "daily", "--format", "html")
    assert html["format"] == "html" and "<" in html["body"]
    assert "Hazelnut pickers freed in Ganja" in html["body"]
    (md,) = _previews(cli, config, "--watch", "daily", "--format", "markdown")
    assert md["format"] == "markdown" and md["body"] != html["body"]

    text = cli("--config", config, "alerts", "preview", "--watch", "daily")
    assert text.exit_code == 0, text.output
    assert "=== digest to hook (text, 2 stories" in text.stdout
    assert "Subject: " in text.stdout and "Shelter opens in Batumi" in text.stdout

    bad = cli("--config", config, "alerts", "preview", "--watch", "dialy")
    assert bad.exit_code == 2 and "did you mean 'daily'?" in bad.output
    assert _snapshot(db) == before

    # once sent, nothing waits
    with db.conn:
        db.execute("UPDATE alerts SET status = 'sent', sent_at = '2026-03-02T06:00:00Z'")
    empty = cli("--config", config, "alerts", "preview", "--watch", "now")
    assert empty.exit_code == 0 and empty.stdout == ""
    assert "nothing waiting for watch 'now'" in empty.stderr


@pytest.fixture
def smtp():
    server = SMTPServer().start()
    yield server
    server.stop()


def test_a_follow_up_waiting_for_the_digest_previews_as_sent(cli, tmp_path, smtp):
    """An update of an alerted story, queued for the immediate watch's digest (the default
    on_update): the preview shows that digest, and it is the mail that then arrives."""
    w = World(tmp_path, smtp, "")
    now = datetime.now(UTC)
    w.store("turan", item("raid", "Raid in Baku", RAID))
    w.process(now)
    w.mails(1)
    w.store("turan", item("raid", "Raid in Baku: five charged", f"{RAID} {CHARGED}"))
    w.process(now)
    waiting = w.rows("SELECT * FROM alerts WHERE status != 'sent' ORDER BY id")
    assert len(waiting) == 1 and waiting[0]["change_id"]

    (digest,) = _previews(cli, str(w.config), "--watch", "trafficking")
    assert digest["kind"] == "digest" and digest["alerts"] == [waiting[0]["id"]]
    assert "Raid in Baku: five charged" in digest["body"]
    assert w.rows("SELECT * FROM alerts WHERE status != 'sent' ORDER BY id") == waiting
    assert w.sent() == 1

    w.process(now + timedelta(days=1))  # the digest time comes
    subject, body = w.mails(2)[1]
    assert subject == digest["subject"]
    assert body.strip() == digest["body"].strip()


def test_a_digest_whose_time_has_come_is_due_at_the_next_delivery(setup):
    # The digest waits for 08:00 after its stories were queued (T0 is 06:00 UTC); once that
    # time has passed without a delivery (the daemon was stopped, say), the next delivery
    # sends it: the preview must not name the next day's 08:00.
    from alerts.preview import preview
    from crawler.times import iso

    db, _config, watches, targets = setup
    slot = next_slot(["08:00"], T0, ZoneInfo("UTC"))
    (before,) = preview(db, watches, targets, DeliverySettings(), watch="daily", now=T0)
    assert before.due == iso(slot)
    later = slot + timedelta(hours=3)
    (after,) = preview(db, watches, targets, DeliverySettings(), watch="daily", now=later)
    assert after.due is None
    # and a delivery at that moment does send it
    deliver_due(db, watches, targets, DeliverySettings(), now=later)
    sent = db.query("SELECT * FROM deliveries WHERE watch = 'daily' AND kind = 'digest'")
    assert [d["alerts"] for d in sent] == [2]


def test_past_max_per_hour_the_preview_is_the_summary_delivery_sends(tmp_path, webhook):
    """Five stories wait for a watch allowed three messages an hour: delivery sends two
    alerts and one summary of the other three, and the preview shows exactly that; once the
    hour's messages are used up, the preview shows the next ones with the time they go."""
    from alerts.preview import preview
    from crawler.times import iso

    db = open_archive(tmp_path / "archive.db")
    news = News(db)
    titles = [f"Story {n} on trafficking" for n in range(1, 6)]
    for title in titles:
        news.add(title, watch="now")
    targets = [Target(name="hook", url=webhook.json_url())]
    watches = [Watch(name="now", query="y", targets=["hook"], max_per_hour=3)]
    outbox.enqueue(db, watches, targets, now=T0)
    settings = DeliverySettings()
    before = _snapshot(db)

    shown = preview(db, watches, targets, settings, now=T0)
    assert sorted(p.kind for p in shown) == ["alert", "alert", "summary"]
    (summary,) = [p for p in shown if p.kind == "summary"]
    assert summary.stories == 3 and len(summary.alerts) == 3
    for title in titles[2:]:
        assert title in summary.body
    assert all(p.due is None for p in shown)
    assert _snapshot(db) == before and webhook.posts == []

    stats = deliver_due(db, watches, targets, settings, now=T0)
    assert stats.messages == 3 and stats.sent == 5
    sent = {p.json()["title"]: p.json()["message"] for p in webhook.posts}
    assert len(sent) == 3
    for p in shown:
        assert sent[p.subject].strip() == p.body.strip()

    # the hour's three messages are spent: two new stories wait until it has passed
    for title in ("Story 6 on trafficking", "Story 7 on trafficking"):
        news.add(title, watch="now")
    outbox.enqueue(db, watches, targets, now=T0)
    later = preview(db, watches, targets, settings, now=T0)
    assert [p.kind for p in later] == ["alert", "alert"]
    assert {p.due for p in later} == {iso(T0 + timedelta(hours=1))}
    assert deliver_due(db, watches, targets, settings, now=T0).messages == 0  # held
    deliver_due(db, watches, targets, settings, now=T0 + timedelta(hours=1))
    sent = {p.json()["title"]: p.json()["message"] for p in webhook.posts[3:]}
    assert len(sent) == 2
    for p in later:
        assert sent[p.subject].strip() == p.body.strip()
