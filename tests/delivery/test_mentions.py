"""Untrusted titles and text never ping anyone and Markdown titles arrive escaped (issue 13
item 8): real Apprise plugins (Discord, json:// in Markdown and text) posting to a real local
endpoint."""

from __future__ import annotations

import json

import pytest
from apprise.plugins.discord import NotifyDiscord
from delivery.newsdata import T0

from alerts import outbox
from alerts.config import DeliverySettings, Target, Watch
from alerts.deliver import deliver_due
from alerts.render import md_escape, no_mentions

TITLE = "*Breaking* @everyone <@&123456> look"
TEXT = "Call @here and <@987654> and <@!555> in <#4242> about trafficking; mail press@ngo.org."
LIVE = ("@everyone", "<@&123456>", "@here", "<@987654>", "<@!555>", "<#4242>")


def deliver(db, target: Target) -> None:
    watches = [Watch(name="trafficking", query="x", targets=[target.name])]
    outbox.enqueue(db, watches, [target], now=T0)
    stats = deliver_due(db, watches, [target], DeliverySettings(), now=T0)
    assert stats.sent == 1, stats.errors


def strings(value) -> str:
    """Every string in a JSON payload, joined (so escapes in the JSON text do not hide)."""
    if isinstance(value, dict):
        return " ".join(strings(v) for v in value.values())
    if isinstance(value, list):
        return " ".join(strings(v) for v in value)
    return str(value)


@pytest.fixture
def discord_hook(webhook, monkeypatch):
    # The plugin has no URL form for another host: its class attribute points at ours.
    monkeypatch.setattr(NotifyDiscord, "notify_url", webhook.base + "/api/webhooks")
    return webhook


def test_discord_gets_no_live_mention_and_an_escaped_title(db, news, discord_hook):
    news.add(TITLE, text=TEXT)
    deliver(db, Target(name="d", url="discord://4444555566/tokenTOKENtoken"))
    (post,) = discord_hook.posts
    sent = strings(post.json())
    for live in LIVE:
        assert live not in sent, (live, sent)
    assert "\\*Breaking\\*" in sent  # the title is Markdown-escaped, not bold
    assert "press@ngo.org" in sent.replace("\\", "")  # an address is no mention


@pytest.mark.parametrize("fmt", ["markdown", "text", "html"])
def test_every_format_neutralises_mentions(db, news, webhook, fmt):
    news.add(TITLE, text=TEXT)
    deliver(db, Target(name="j", url=webhook.json_url(), format=fmt))
    (post,) = webhook.posts
    body = post.json()
    sent = body["title"] + " " + body["message"]
    for live in LIVE:
        assert live not in sent, (fmt, live, sent)
    if fmt == "markdown":
        assert body["title"].startswith("\\[trafficking\\] \\*Breaking\\*")


def test_the_escapers_keep_text_readable():
    assert no_mentions("@everyone hi").replace("\u2060", "") == "@everyone hi"
    assert no_mentions("press@ngo.org") == "press@ngo.org"
    assert md_escape("<@&1>") == "&lt;@\u2060&1\\>"
    assert json.dumps(no_mentions("@here")) != json.dumps("@here")
