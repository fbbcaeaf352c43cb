"""From an alert mail to the story's page: with ``[serve] base_url`` set, a real mail (aiosmtpd)
links to the story in `newswatch serve`, and that page lists the story's outlets."""

from __future__ import annotations

import asyncio
import re

import httpx
from support import serve_archive as fx
from support.smtp import SMTPServer

from alerts import serve
from alerts.config import DeliverySettings, Target, Watch
from alerts.deliver import deliver_due
from alerts.schema import open_archive
from crawler.times import parse_iso

WATCHES = [Watch(name="trafficking", query="trafficking", targets=["team-mail"])]
NOW = parse_iso("2024-07-03T12:00:00Z")


def send_pending(path, base_url):
    """Deliver the fixture's pending alert to a real SMTP server; the mail's HTML body."""
    db = open_archive(path)
    with SMTPServer() as smtp:
        targets = [Target(name="team-mail", url=smtp.url())]
        stats = deliver_due(db, WATCHES, targets, DeliverySettings(), now=NOW, base_url=base_url)
        assert stats.sent == 1, stats
        (html,) = smtp.mailbox.bodies("html")
    db.close()
    return html


def test_alert_mail_links_to_the_story_page_with_its_outlets(tmp_path):
    path = tmp_path / "archive.db"
    stories = fx.build(path)
    html = send_pending(path, "https://news.example.org/newswatch/")
    story = stories[4]  # the pending alert's story
    link = f"https://news.example.org/newswatch/archive/stories/{story}"
    assert f'<a href="{link}">' in html

    # the page behind the link, served the way base_url says (under /newswatch/)
    ds = serve.build(path, base_url="https://news.example.org/newswatch/")
    path_part = re.sub(r"^https://news\.example\.org", "", link)

    async def fetch():
        transport = httpx.ASGITransport(app=ds.app())
        async with httpx.AsyncClient(transport=transport, base_url="http://proxy") as client:
            return await client.get(path_part)

    page = asyncio.run(fetch())
    assert page.status_code == 200
    assert "Outlets (1)" in page.text
    assert f'href="{fx.url(4)}"' in page.text
    assert 'href="/newswatch/archive/articles/5"' in page.text  # links keep the prefix


def test_no_base_url_no_link(tmp_path):
    path = tmp_path / "archive.db"
    fx.build(path)
    html = send_pending(path, None)
    assert "/archive/stories/" not in html
    assert "The story and its outlets" not in html
