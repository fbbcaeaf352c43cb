"""When messages go: digests at their time grouped by country, max_per_hour, quiet hours."""

from __future__ import annotations

from datetime import timedelta

from delivery.newsdata import T0

from alerts import outbox
from alerts.config import DeliverySettings, Target, Watch
from alerts.deliver import deliver_due

BERLIN = DeliverySettings(timezone="Europe/Berlin")


def test_digest_at_its_time_grouped_by_country(db, news, webhook):
    targets = [Target(name="t", url=webhook.json_url())]
    watches = [
        Watch(name="daily", query="x", targets=["t"], mode="digest", digest_at=["08:00", "18:00"])
    ]
    news.add("Baku story", watch="daily", countries=("AZ",), sources=("apa", "bbc"))
    news.add("Tbilisi story", watch="daily", countries=("GE",))
    news.add("Both", watch="daily", countries=("GE", "AZ"), tiers=(("AZ", "Tier 2"),))
    outbox.enqueue(db, watches, targets, now=T0)  # 07:00 in Berlin
    assert deliver_due(db, watches, targets, BERLIN, now=T0).held == 3
    assert deliver_due(db, watches, targets, BERLIN, now=T0 + timedelta(minutes=59)).messages == 0
    stats = deliver_due(db, watches, targets, BERLIN, now=T0 + timedelta(hours=1))  # 08:00
    assert (stats.messages, stats.sent) == (1, 3)
    (post,) = webhook.posts
    assert post.json()["title"] == "[daily] digest: 3 stories"
    body = post.json()["message"]
    az, ge = body.index("== Azerbaijan =="), body.index("== Georgia ==")
    assert az < body.index("- Baku story (turan, +2 outlets") < ge
    assert ge < body.index("- Tbilisi story") and body.count("- Both") == 2
    assert "Tier: Azerbaijan: Tier 2" in body

    # The Baku story gains a source after it went out: not alerted again, shown as updated
    # in the next digest (which a new story triggers at 18:00).
    db.execute(
        "UPDATE stories SET updated_at = '2026-03-02T09:00:00Z', article_count = 4,"
        ' sources = \'["turan", "apa", "bbc", "trend"]\' WHERE id = 1'
    )
    db.conn.commit()
    news.add("Evening story", watch="daily", countries=("AZ",), at=T0 + timedelta(hours=3))
    outbox.enqueue(db, watches, targets, now=T0 + timedelta(hours=3))
    deliver_due(db, watches, targets, BERLIN, now=T0 + timedelta(hours=3))
    assert deliver_due(db, watches, targets, BERLIN, now=T0 + timedelta(hours=11)).sent == 1
    evening = webhook.posts[1].json()["message"]
    assert "- Evening story" in evening
    assert "Updated since last sent" in evening and "- Baku story (turan, +3 outlets)" in evening
    assert outbox.status_counts(db)["sent"] == 4


def test_max_per_hour_rolls_the_rest_into_one_summary(db, news, webhook):
    targets = [Target(name="t", url=webhook.json_url())]
    watches = [Watch(name="busy", query="x", targets=["t"], max_per_hour=3)]
    for i in range(6):
        news.add(f"Story {i}", watch="busy")
    outbox.enqueue(db, watches, targets, now=T0)
    stats = deliver_due(db, watches, targets, DeliverySettings(), now=T0)
    assert (stats.messages, stats.sent) == (3, 6)
    titles = [p.json()["title"] for p in webhook.posts]
    assert titles.count("[busy] 4 more stories this hour") == 1
    summary = next(
        p.json()["message"] for p in webhook.posts if "more stories" in p.json()["title"]
    )
    assert all(f"Story {i}" in summary for i in range(2, 6))

    # More news within the hour is held (not dropped) until the hour has passed.
    news.add("Late story", watch="busy", at=T0 + timedelta(minutes=20))
    outbox.enqueue(db, watches, targets, now=T0 + timedelta(minutes=20))
    assert (
        deliver_due(db, watches, targets, DeliverySettings(), now=T0 + timedelta(minutes=20)).held
        == 1
    )
    assert (
        deliver_due(db, watches, targets, DeliverySettings(), now=T0 + timedelta(minutes=61)).sent
        == 1
    )
    assert len(webhook.posts) == 4


def test_quiet_hours_hold_then_deliver(db, news, webhook):
    targets = [Target(name="t", url=webhook.json_url())]
    watches = [Watch(name="night", query="x", targets=["t"], quiet_hours="22:00-07:30")]
    news.add("Overnight", watch="night")
    outbox.enqueue(db, watches, targets, now=T0)  # 07:00 Berlin: quiet
    assert deliver_due(db, watches, targets, BERLIN, now=T0).held == 1
    (row,) = outbox.list_alerts(db)
    assert row["next_attempt_at"] == "2026-03-02T06:30:00Z" and row["attempts"] == 0
    assert deliver_due(db, watches, targets, BERLIN, now=T0 + timedelta(minutes=29)).sent == 0
    assert deliver_due(db, watches, targets, BERLIN, now=T0 + timedelta(minutes=30)).sent == 1
    assert len(webhook.posts) == 1


def test_a_digest_of_updated_stories_alone(db, news, webhook):
    """No new story by the next digest time, but one already sent gained sources: it still
    gets its digest, once."""
    targets = [Target(name="t", url=webhook.json_url())]
    watches = [
        Watch(name="daily", query="x", targets=["t"], mode="digest", digest_at=["08:00", "18:00"])
    ]
    news.add("Baku story", watch="daily", countries=("AZ",), sources=("apa", "bbc"))
    outbox.enqueue(db, watches, targets, now=T0)  # 07:00 in Berlin
    deliver_due(db, watches, targets, BERLIN, now=T0)
    assert deliver_due(db, watches, targets, BERLIN, now=T0 + timedelta(hours=1)).sent == 1
    # Nothing updated yet: the 18:00 slot sends nothing.
    assert deliver_due(db, watches, targets, BERLIN, now=T0 + timedelta(hours=11)).messages == 0
    # 18:10 in Berlin, after the 18:00 digest time: it waits for the next one, at 08:00.
    db.execute(
        "UPDATE stories SET updated_at = '2026-03-02T17:10:00Z', article_count = 4,"
        ' sources = \'["turan", "apa", "bbc", "trend"]\' WHERE id = 1'
    )
    db.conn.commit()
    before_slot = T0 + timedelta(hours=11, minutes=30)  # 18:30 Berlin
    assert deliver_due(db, watches, targets, BERLIN, now=before_slot).messages == 0
    stats = deliver_due(db, watches, targets, BERLIN, now=T0 + timedelta(hours=25))  # 08:00
    assert (stats.messages, stats.sent) == (1, 0)
    post = webhook.posts[-1].json()
    assert post["title"] == "[daily] digest: 1 updated story"
    assert "Updated since last sent" in post["message"]
    assert "- Baku story (turan, +3 outlets)" in post["message"]
    later = T0 + timedelta(hours=35)  # 18:00 the next day: shown once, not again
    assert deliver_due(db, watches, targets, BERLIN, now=later).messages == 0
    assert len(webhook.posts) == 2
