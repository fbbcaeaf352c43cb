"""What arrives: escaping per format in real mail and real Slack payloads, subjects, long lines."""

from __future__ import annotations

import pytest
from apprise.plugins.slack import NotifySlack
from delivery.newsdata import T0
from support.smtp import SMTPServer

from alerts import outbox
from alerts.config import DeliverySettings, Target, Watch
from alerts.deliver import deliver_due
from alerts.render import Renderer, slack_escape, subject_line

EVIL = "Hello <script>alert(1)</script> <!channel> <@U024BE7LH> <https://evil.example|bank> @here"
WATCHES = [Watch(name="trafficking", query="x", targets=["t"])]


def cycle(db, targets):
    outbox.enqueue(db, WATCHES, targets, now=T0)
    return deliver_due(db, WATCHES, targets, DeliverySettings(), now=T0)


def test_html_mail_escapes_the_title(db, news, smtp):
    news.add(EVIL, text="A <b>bold</b> claim about trafficking & <img src=x onerror=alert(1)>.")
    assert cycle(db, [Target(name="t", url=smtp.url())]).sent == 1
    (html,) = smtp.mailbox.bodies("html")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img src=x" in html
    assert '<a href="https://news.example.org/a/1">' in html  # our own markup survives
    (subject,) = smtp.mailbox.subjects()
    assert subject.startswith("[trafficking] Hello <script>")  # text, not HTML


@pytest.fixture
def slack_hook(webhook, monkeypatch):
    # Apprise's Slack plugin has no URL form for another host: point its class attribute at
    # the local endpoint so the real plugin builds and posts the real payload.
    monkeypatch.setattr(NotifySlack, "webhook_url", webhook.base + "/services")
    return webhook


def test_slack_control_syntax_is_neutralised(db, news, slack_hook):
    news.add(EVIL)
    url = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7/#news"
    assert cycle(db, [Target(name="t", url=url)]).sent == 1
    (post,) = slack_hook.posts
    assert post.path == "/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7"
    attachment = post.json()["attachments"][0]
    text = attachment["text"] + attachment["title"]
    for live in ("<!channel>", "<@U024BE7LH>", "<https://evil.example", "@here"):
        assert live not in text
    assert "‹!\u2060channel› ‹@\u2060U024BE7LH›" in text  # still readable, no longer live
    assert "<https://news.example.org/a/1|" in attachment["text"]  # our link is a real link


def test_escapers_and_subjects():
    assert slack_escape("<!here> [x](https://e.org) @channel") == (
        "‹!\u2060here› ［x］(https://e.org) @\u2060channel"
    )
    assert subject_line("Breaking\r\nBcc: victim@example.org\x07\tnews") == (
        "Breaking Bcc: victim@example.org news"
    )
    assert len(subject_line("x" * 1000)) == 150
    md = Renderer().envs["markdown"].from_string("{{ t }}").render(t="*bold* [a](javascript:x)")
    assert md == r"\*bold\* \[a\]\(javascript:x\)"


def test_templates_can_be_overridden_from_config(db, news, webhook, tmp_path):
    (tmp_path / "alert.txt.j2").write_text("Custom: {{ item.title }} / {{ item.url | url }}\n")
    news.add("Overridden")
    targets = [Target(name="t", url=webhook.json_url())]
    outbox.enqueue(db, WATCHES, targets, now=T0)
    delivery = DeliverySettings(templates=str(tmp_path))
    deliver_due(db, WATCHES, targets, delivery, now=T0)
    assert webhook.posts[0].json()["message"] == "Custom: Overridden / https://news.example.org/a/1"


def test_long_lines_pass_a_strict_smtp_server(db, news):
    news.add("Long " * 300, text="trafficking " + "word" * 3000)
    with SMTPServer(strict=True) as strict:
        assert cycle(db, [Target(name="t", url=strict.url())]).sent == 1
        assert strict.mailbox.refused == 0
        assert all(len(line) <= 998 for line in strict.mailbox.raw[0].split(b"\r\n"))
