"""Alerts read at a glance: headline-first subjects, one message per story per target
whatever the number of watches, the phrases that fired, an excerpt around the first match;
in text, Markdown, HTML and Slack as they arrive."""

from __future__ import annotations

import json

import pytest
from apprise.plugins.slack import NotifySlack
from delivery.newsdata import T0

from alerts import outbox
from alerts.config import DeliverySettings, Target, Watch
from alerts.deliver import deliver_due
from alerts.render import excerpt, headline_subject, matched_phrases
from crawler.archive import write

TERMS = [
    "Trafficking in Persons",
    "trafficking in persons",
    "trafficking victims",
    "TIP report",
    "Trafficking in Persons Report",
    "Trafficking",
    "Persons",
    "trafficking",
    "persons",
    "victims",
]


def second_watch(db, story: int, watch: str, terms=("forced labour",)) -> None:
    """The match stage's row for another watch that matched the same story."""
    (article,) = [r["id"] for r in db.query("SELECT id FROM articles WHERE story_id = ?", [story])]
    with write(db):
        db.execute(
            "INSERT INTO matches (article_id, story_id, watch, countries, terms, matched_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [article, story, watch, json.dumps(["AZ", "GE"]), json.dumps(list(terms)), "x"],
        )
        db.execute(
            "UPDATE matches SET matched_at = ? WHERE watch = ?", ["2026-03-02T06:00:00Z", watch]
        )


def cycle(db, watches, targets):
    outbox.enqueue(db, watches, targets, now=T0)
    return deliver_due(db, watches, targets, DeliverySettings(), now=T0)


def test_two_watches_one_story_one_message_naming_both(db, news, smtp, webhook):
    story = news.add("State Department keeps Azerbaijan on Tier 2")
    second_watch(db, story, "labour")
    targets = [Target(name="mail", url=smtp.url()), Target(name="hook", url=webhook.json_url())]
    watches = [
        Watch(name="trafficking", query="x", targets=["mail", "hook"]),
        Watch(name="labour", query="y", countries=["GE"], targets=["mail", "hook"]),
    ]
    stats = cycle(db, watches, targets)
    # the outbox keeps one row per (watch, story, target); one message per (story, target)
    assert (stats.sent, stats.messages) == (4, 2)
    assert outbox.status_counts(db)["sent"] == 4
    (subject,) = smtp.mailbox.subjects()
    # the watches' own countries lead the tag (labour watches GE)
    assert subject == "[trafficking, labour] State Department keeps Azerbaijan on Tier 2 (GE +1)"
    (post,) = webhook.posts
    body = post.json()["message"]
    assert "Watches: trafficking, labour" in body
    assert "Matched: trafficking, forced labour" in body
    # each watch's hourly count sees its message
    rows = list(db.query("SELECT watch, alerts FROM deliveries WHERE target = 'mail'"))
    assert sorted((r["watch"], r["alerts"]) for r in rows) == [("labour", 1), ("trafficking", 1)]


def test_subject_is_headline_first_and_at_most_150_characters():
    title = "State Department keeps Azerbaijan on Tier 2 in annual trafficking report " * 4
    subject = headline_subject("[tip]", title, "(AZ +7)")
    assert len(subject) == 150
    assert subject.startswith("[tip] State Department keeps Azerbaijan")
    assert subject.endswith("… (AZ +7)")
    assert headline_subject("[tip]", "Short", "") == "[tip] Short"


def test_matched_lists_phrases_once_whatever_their_case():
    assert matched_phrases(TERMS) == [
        "trafficking victims",
        "TIP report",
        "Trafficking in Persons Report",
    ]
    # a word that is only inside another word (not a phrase's word) stays
    assert matched_phrases(["Iran", "Iranian"]) == ["Iran", "Iranian"]
    assert matched_phrases([["labor", 3, 8], ["Labor", 9, 14]]) == ["labor"]


def test_excerpt_is_centred_on_the_first_match():
    text = "Opening words. " * 40 + "The TIP report came out. " + "Closing words. " * 40
    piece = excerpt(text, ["trafficking", "TIP report"], 120)
    assert "TIP report" in piece and piece.startswith("…") and piece.endswith("…")
    at = piece.index("TIP report") + len("TIP report") // 2
    assert abs(at - len(piece) / 2) < 15
    # the earliest match in the text, not the first term listed
    text2 = "x " * 200 + "forced labour here " + "y " * 100 + "trafficking there " + "z " * 200
    assert "forced labour" in excerpt(text2, ["trafficking", "forced labour"], 80)


@pytest.fixture
def slack_hook(webhook, monkeypatch):
    monkeypatch.setattr(NotifySlack, "webhook_url", webhook.base + "/services")
    return webhook


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "slack"])
def test_every_format_shows_headline_watches_and_phrases(db, news, webhook, slack_hook, fmt):
    story = news.add("Azerbaijan stays on Tier 2", terms=TERMS)
    second_watch(db, story, "labour", terms=("Trafficking in Persons Report", "forced labour"))
    if fmt == "slack":
        target = Target(name="t", url="slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7/#n")
    else:
        target = Target(name="t", url=webhook.json_url(), format=fmt)
    watches = [
        Watch(name="trafficking", query="x", targets=["t"]),
        Watch(name="labour", query="y", targets=["t"]),
    ]
    assert cycle(db, watches, [target]).messages == 1
    (post,) = webhook.posts
    if fmt == "slack":
        attachment = post.json()["attachments"][0]
        title, body = attachment["title"], attachment["text"]
    else:
        title, body = post.json()["title"], post.json()["message"]
    plain = body.replace("\\", "")
    title = title.replace("\\", "").replace("［", "[").replace("］", "]")  # Slack's look-alikes
    assert title.startswith("[trafficking, labour] Azerbaijan stays on Tier 2")
    assert "trafficking, labour" in plain
    matched = [line for line in plain.splitlines() if "Matched:" in line]
    assert len(matched) == 1
    for phrase in ("trafficking victims", "TIP report", "Trafficking in Persons Report"):
        assert phrase in matched[0] or phrase.replace(" ", "\u00a0") in matched[0]
    assert matched[0].count("Trafficking in Persons Report") == 1
    assert "Persons," not in matched[0] and "victims," not in matched[0].replace(
        "trafficking victims,", ""
    )
