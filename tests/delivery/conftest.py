"""Fixtures for delivery tests: an archive with matched stories, a local SMTP server, a webhook."""

from __future__ import annotations

import pytest
from delivery.newsdata import News
from support.smtp import SMTPServer
from support.webhook import Webhook

from alerts.schema import open_archive


@pytest.fixture
def db(tmp_path):
    database = open_archive(tmp_path / "archive.db")
    yield database
    database.close()


@pytest.fixture
def news(db):
    return News(db)


@pytest.fixture
def smtp():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def webhook():
    hook = Webhook().start()
    yield hook
    hook.stop()
