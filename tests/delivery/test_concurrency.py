"""Fast delivery: reused Apprise objects, ``[delivery] concurrency_per_target``, TLS failures."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from delivery.newsdata import T0
from support.smtp import Mailbox, SMTPServer

from alerts import outbox
from alerts.config import DeliverySettings, Target, Watch
from alerts.deliver import deliver_due
from alerts.targets import _sender, send

REPO = Path(__file__).resolve().parents[2]
WATCHES = [Watch(name="trafficking", query="x", targets=["mail", "hook"])]


def cycle(db, targets, delivery, now=T0):
    outbox.enqueue(db, WATCHES, targets, now=now)
    return deliver_due(db, WATCHES, targets, delivery, now=now)


def test_concurrency_per_target_delivers_each_alert_exactly_once(db, news, webhook):
    for i in range(60):
        news.add(f"Story number {i}")
    with SMTPServer(strict=True) as strict:
        targets = [
            Target(name="mail", url=strict.url()),
            Target(name="hook", url=webhook.json_url()),
        ]
        stats = cycle(db, targets, DeliverySettings(concurrency_per_target=4))
        assert (stats.messages, stats.sent, stats.failed, stats.retrying) == (120, 120, 0, 0)
        expected = {f"[trafficking] Story number {i} (AZ)" for i in range(60)}
        mail = Counter(strict.mailbox.subjects())
        assert set(mail) == expected and set(mail.values()) == {1}
        hook = Counter(p.json()["title"] for p in webhook.posts)
        assert set(hook) == expected and set(hook.values()) == {1}
        assert strict.mailbox.refused == 0
        assert outbox.status_counts(db) == {
            "pending": 0,
            "sending": 0,
            "sent": 120,
            "failed": 0,
            "merged": 0,
        }

        again = cycle(
            db, targets, DeliverySettings(concurrency_per_target=4), T0 + timedelta(hours=1)
        )
        assert again.messages == 0 and len(strict.mailbox.messages) == 60


class _RefuseSome(Mailbox):
    """Refuses every message whose subject says 'refuse me', accepts the rest."""

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        if b"refuse me" in (envelope.original_content or envelope.content):
            return "554 5.6.0 Message refused"
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.parametrize("per_target", [1, 3])
def test_a_refused_message_never_stops_the_others(db, news, per_target):
    for i in range(12):
        news.add(f"Story {i} refuse me" if i in (2, 7) else f"Story {i}")
    server = SMTPServer()
    server.mailbox = _RefuseSome()
    with server:
        targets = [Target(name="mail", url=server.url())]
        stats = cycle(db, targets, DeliverySettings(concurrency_per_target=per_target))
        assert (stats.sent, stats.retrying, stats.failed) == (10, 2, 0)
        assert sorted(server.mailbox.subjects()) == sorted(
            f"[trafficking] Story {i} (AZ)" for i in range(12) if i not in (2, 7)
        )
    assert outbox.status_counts(db)["pending"] == 2


@pytest.mark.slow  # a real process
def test_crash_with_concurrency_repeats_at_most_n_messages(db, news, smtp, tmp_path):
    for i in range(20):
        news.add(f"Story {i}")
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
        deliver_due(db, watches, targets, DeliverySettings(concurrency_per_target=3), now=now)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stderr=subprocess.PIPE, text=True
    )
    smtp.mailbox.kill_pid_on_message = proc.pid
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode < 0, stderr  # killed by the SMTP server while sending
    before = Counter(smtp.mailbox.subjects())

    targets = [Target(name="mail", url=smtp.url())]
    watches = [Watch(name="trafficking", query="x", targets=["mail"])]
    outbox.release_abandoned(db, T0)
    deliver_due(db, watches, targets, DeliverySettings(), now=T0)
    after = Counter(smtp.mailbox.subjects())
    assert set(after) == {f"[trafficking] Story {i} (AZ)" for i in range(20)}
    repeated = sum(n - 1 for n in after.values())
    assert 1 <= repeated <= 3, (before, after)


def test_concurrency_per_target_is_validated(write_config, run_newswatch):
    assert DeliverySettings(concurrency_per_target=8).concurrency_per_target == 8
    path = write_config(
        """
        [archive]
        path = "{archive}"
        [delivery]
        concurrency_per_target = 0
        """
    )
    result = run_newswatch("--config", str(path), "status")
    assert result.returncode == 2
    assert "delivery.concurrency_per_target" in result.stderr
    assert str(path) in result.stderr


def test_a_reused_sender_never_waits_between_messages(smtp):
    # Apprise makes a reused plugin object sleep request_rate_per_sec (5.5 s for SMTP) between
    # messages; a fresh object never does. The cached object must behave like a fresh one.
    target = Target(name="mail", url=smtp.url())
    assert all(send(target, f"n{i}", "body", "text").ok for i in range(3))
    sender = _sender(target.url)
    assert sender is _sender(target.url)
    assert [plugin.request_rate_per_sec for plugin in sender] == [0]
    assert sorted(smtp.mailbox.subjects()) == ["n0", "n1", "n2"]


def test_tls_target_against_a_plain_server_fails_cleanly(smtp):
    url = smtp.url().replace("mailto://", "mailtos://").replace("mode=insecure", "mode=ssl")
    result = send(Target(name="tls", url=url), "subject", "body", "text")
    assert result.ok is False
    assert "AttributeError" not in (result.error or "")
