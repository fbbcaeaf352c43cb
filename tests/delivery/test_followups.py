"""Follow-ups of an alerted story (issue 16 item 2, issue 15 item 3): an update of the alerted
article and material growth of its story, per watch setting (``on_update``, ``on_growth``).

Real parts throughout: articles stored by the crawler's own store (crawler/store.py with the
real story assigner, so a changed page becomes a version and a near-copy from another outlet
joins the story), the real matcher, the daemon's process stage (match, queue, deliver), and
a real SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from support.smtp import SMTPServer

from alerts import match_stage, schema
from alerts.stages import compile_matcher, process_stage
from crawler import archive
from crawler.store import store_items
from crawler.stories import StoryAssigner
from scheduler import load_config

RAID = (
    "Police in Baku said on Monday that a trafficking ring had moved dozens of workers from "
    "villages in the south of Azerbaijan to building sites abroad. Officers raided three flats "
    "in the capital and freed twelve people who had been held there for weeks. The workers "
    "told investigators that their passports were taken on arrival and that they were paid "
    "nothing for months. Prosecutors said that the inquiry would continue and that more "
    "arrests were expected in the coming days. A spokesman for the interior ministry thanked "
    "the families who had come forward with information about the missing workers."
)
CHARGED = "On Tuesday prosecutors charged five men with human trafficking and forced labour."
GEORGIA = "Georgian border guards said the same ring also moved workers through Georgia."
TIER = "The State Department kept Azerbaijan on Tier 2 in its 2025 Trafficking in Persons report."
QUIET = "A spokesman for the city council declined to comment on the raid."


def item(n: str, title: str, text: str, hour: int = 8) -> dict:
    return {
        "url": f"https://news.example.org/{n}",
        "guid": n,
        "title": title,
        "text": text,
        "language": "en",
        "published_at": f"2026-11-23T{hour:02d}:00:00Z",
    }


class World:
    """An archive, a config with one watch mailing a local SMTP server, and the stages."""

    def __init__(self, tmp_path, smtp: SMTPServer, watch: str):
        self.path = tmp_path / "archive.db"
        self.smtp = smtp
        self.config = tmp_path / "newswatch.toml"
        self.config.write_text(
            f"[archive]\npath = '{self.path}'\n"
            f"[[targets]]\nname = 'mail'\nurl = '{smtp.url()}'\nformat = 'text'\n"
            "[[watches]]\nname = 'trafficking'\nquery = 'trafficking'\ntargets = ['mail']\n"
            + watch,
            encoding="utf-8",
        )
        self.cfg = load_config(self.config)
        self.matcher = compile_matcher(self.cfg)
        schema.open_archive(self.path).close()

    def store(self, source: str, *items: dict) -> None:
        """What a crawl of ``source`` stores: new articles, or new versions of known ones."""
        db = archive.open_archive(self.path)
        try:
            with archive.write(db):
                store_items(db, source, list(items), StoryAssigner(db))
        finally:
            db.close()

    def process(self, now: datetime | None = None) -> dict:
        """The daemon's stage after a collection: match, queue, deliver."""
        return process_stage(self.cfg, self.matcher, now=now)

    def rows(self, sql: str, params=()) -> list[dict]:
        db = schema.open_archive(self.path)
        try:
            return list(db.query(sql, params))
        finally:
            db.close()

    def sent(self) -> int:
        """Messages received so far: a delivery returns after the server accepted each."""
        return len(self.smtp.mailbox.messages)

    def mails(self, count: int) -> list[tuple[str, str]]:
        """The first ``count`` messages (subject, body); fails if fewer arrive."""
        assert self.smtp.mailbox.wait_for(count, timeout=30), self.smtp.mailbox.subjects()
        bodies = [b.replace("\r\n", "\n") for b in self.smtp.mailbox.bodies("plain")]
        return list(zip(self.smtp.mailbox.subjects(), bodies, strict=True))


@pytest.fixture
def world(tmp_path, smtp):
    def make(watch: str = "") -> World:
        return World(tmp_path, smtp, watch)

    return make


def test_an_update_alert_goes_out_once_per_new_version(world, tmp_path):
    w = world("countries = ['AZ', 'GE']\non_update = 'alert'\n")
    w.store("turan", item("raid", "Raid in Baku", RAID))
    w.process()
    ((subject, _),) = w.mails(1)
    assert subject == "[trafficking] Raid in Baku (AZ)"

    # the publisher updates the article: a new title and a new paragraph naming Georgia
    w.store("turan", item("raid", "Raid in Baku: five charged", f"{RAID} {CHARGED} {GEORGIA}"))
    w.process()
    subject, body = w.mails(2)[1]
    assert subject.startswith("[trafficking] Updated: Raid in Baku: five charged")
    assert "(new: GE)" in subject
    assert "Title changed (was: Raid in Baku)" in body
    assert "prosecutors charged five men" in body  # what the new text adds
    assert "Officers raided three flats" not in body.split("What is new:")[1].split("\n\n")[0]
    assert "New countries: Georgia" in body

    # restarts (a new process: the stage again, and a re-match of the archive) repeat nothing
    w.process()
    db = schema.open_archive(w.path)
    try:
        match_stage.rematch_archive(db, compile_matcher(w.cfg))
    finally:
        db.close()
    w.process()
    assert w.sent() == 2

    # a second new version: one more update alert, for that version
    w.store(
        "turan", item("raid", "Raid in Baku: five charged", f"{RAID} {CHARGED} {GEORGIA} {TIER}")
    )
    w.process()
    subject, body = w.mails(3)[2]
    assert subject.startswith("[trafficking] Updated:") and "AZ Tier 2" in subject
    assert "New tier statements: Azerbaijan: Tier 2 (2025)" in body
    assert "Title changed" not in body
    w.process()
    assert w.sent() == 3
    sent = w.rows("SELECT change_id FROM alerts WHERE status = 'sent' ORDER BY id")
    assert len(sent) == 3 and sent[0]["change_id"] == 0 and len({r["change_id"] for r in sent}) == 3


def test_by_default_an_update_sends_no_immediate_mail_and_the_digest_lists_it(world):
    w = world()  # the defaults: on_update = "digest"
    now = datetime.now(UTC)
    w.store("turan", item("raid", "Raid in Baku", RAID))
    w.process(now)
    w.mails(1)
    w.store("turan", item("raid", "Raid in Baku: five charged", f"{RAID} {CHARGED}"))
    w.process(now)
    assert w.sent() == 1  # no second immediate alert
    # the immediate watch's digest time (08:00) comes: one digest listing the update
    w.process(now + timedelta(days=1))
    subject, body = w.mails(2)[1]
    assert subject == "[trafficking] digest: 1 updated story"
    assert "Raid in Baku: five charged" in body and "Updated: title changed; text changed" in body
    w.process(now + timedelta(days=2))
    assert w.sent() == 2


def test_ignore_sends_nothing_on_update(world):
    w = world("on_update = 'ignore'\n")
    now = datetime.now(UTC)
    w.store("turan", item("raid", "Raid in Baku", RAID))
    w.process(now)
    w.mails(1)
    w.store("turan", item("raid", "Raid in Baku: five charged", f"{RAID} {CHARGED}"))
    w.process(now)
    w.process(now + timedelta(days=1))
    assert w.sent() == 1
    assert w.rows("SELECT * FROM alerts WHERE change_id != 0") == []


def test_growth_with_a_new_country_alerts_once_and_mere_coverage_never(world):
    w = world("countries = ['AZ', 'GE']\non_growth = 'alert'\n")
    w.store("turan", item("raid", "Raid in Baku", RAID))
    w.process()
    w.mails(1)

    # another outlet's copy adding nothing new: "+1 outlet", no alert
    w.store("daily", item("daily-raid", "Baku police free twelve", f"{RAID} {QUIET}", hour=9))
    w.process()
    story = w.rows("SELECT story_id FROM articles WHERE guid = 'raid'")[0]["story_id"]
    joined = w.rows("SELECT story_id FROM articles WHERE guid = 'daily-raid'")[0]["story_id"]
    assert joined == story  # the same story, so this is later coverage
    assert w.sent() == 1

    # a wire's copy naming Georgia: the story grew, one alert naming what is new
    w.store("wire", item("wire-raid", "Ring also used Georgia", f"{RAID} {GEORGIA}", hour=10))
    w.process()
    subject, body = w.mails(2)[1]
    assert subject.startswith("[trafficking] Story grows: Raid in Baku") and "(new: GE)" in subject
    assert "New countries: Georgia" in body
    assert "A later article: Ring also used Georgia" in body and "Source: wire" in body

    # a fourth outlet repeating Georgia: known now, no alert; restarts repeat nothing
    w.store("agency", item("agency-raid", "Georgia link", f"{RAID} {GEORGIA} {QUIET}", hour=11))
    w.process()
    w.process()
    assert w.sent() == 2
    assert len(w.rows("SELECT * FROM articles WHERE story_id = ?", [story])) == 4


def test_growth_outside_the_watch_countries_or_by_default_is_no_immediate_alert(world):
    w = world("countries = ['AZ']\non_growth = 'alert'\n")
    w.store("turan", item("raid", "Raid in Baku", RAID))
    w.process()
    w.mails(1)
    # Georgia is not a country this watch follows
    w.store("wire", item("wire-raid", "Ring also used Georgia", f"{RAID} {GEORGIA}", hour=10))
    w.process()
    assert w.sent() == 1
    # a new tier statement about Azerbaijan is
    w.store("state", item("state-raid", "Tier 2 again", f"{RAID} {TIER}", hour=11))
    w.process()
    subject, body = w.mails(2)[1]
    assert "Story grows" in subject and "(new: AZ Tier 2)" in subject
    assert "New tier statements: Azerbaijan: Tier 2 (2025)" in body


def test_default_growth_waits_for_the_digest(world):
    w = world()
    now = datetime.now(UTC)
    w.store("turan", item("raid", "Raid in Baku", RAID))
    w.process(now)
    w.mails(1)
    w.store("wire", item("wire-raid", "Ring also used Georgia", f"{RAID} {GEORGIA}", hour=10))
    w.process(now)
    assert w.sent() == 1
    w.process(now + timedelta(days=1))
    subject, body = w.mails(2)[1]
    assert subject == "[trafficking] digest: 1 updated story"
    assert "Story grows: new: Georgia" in body


def test_a_digest_watch_lists_the_update_once_with_what_changed(world):
    w = world("mode = 'digest'\n")
    # 14:00 UTC today: 12 hours earlier is before the 08:00 digest, which has then come
    # (with the clock's own time of day the test failed from 20:00 to 08:00 UTC)
    now = datetime.now(UTC).replace(hour=14, minute=0, second=0, microsecond=0)
    w.store("turan", item("raid", "Raid in Baku", RAID))
    w.process(now - timedelta(hours=12))  # queued for the next 08:00
    w.process(now)  # which has come: the first digest
    assert "digest: 1 story" in w.mails(1)[0][0]
    w.store("turan", item("raid", "Raid in Baku: five charged", f"{RAID} {CHARGED}"))
    w.process(now)
    w.process(now + timedelta(days=1))
    subject, body = w.mails(2)[1]
    assert subject == "[trafficking] digest: 1 updated story"
    assert body.count("Raid in Baku: five charged") == 1
    assert "Updated: title changed; text changed" in body
    w.process(now + timedelta(days=2))
    assert w.sent() == 2


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "slack"])
def test_every_format_says_what_is_new(world, fmt):
    from alerts.alert_items import alert_item, group_by_country
    from alerts.render import Renderer

    w = world("countries = ['AZ', 'GE']\non_update = 'alert'\non_growth = 'alert'\n")
    w.store("turan", item("raid", "Raid in Baku", RAID))
    w.process()
    w.store("turan", item("raid", "Raid in Baku: five charged", f"{RAID} {CHARGED}"))
    w.store("wire", item("wire-raid", "Ring also used Georgia", f"{RAID} {GEORGIA} {TIER}", 10))
    w.process()
    assert len(w.mails(3)) == 3
    db = schema.open_archive(w.path)
    try:
        rows = list(db.query("SELECT * FROM alerts WHERE change_id != 0 ORDER BY id"))
        items = [alert_item(db, r) for r in rows]
    finally:
        db.close()
    renderer = Renderer()
    (update,) = [i for i in items if i["change"]["kind"] == "update"]
    (growth,) = [i for i in items if i["change"]["kind"] == "growth"]
    subject, body = renderer.render(
        "alert", fmt, watch="trafficking", watches=["trafficking"], item=update
    )
    assert "Updated:" in subject and "Updated:" in body and "Title changed" in body
    assert "prosecutors charged five men" in body
    subject, body = renderer.render(
        "alert", fmt, watch="trafficking", watches=["trafficking"], item=growth
    )
    assert "Story grows:" in subject and "Story grows:" in body
    assert "New countries: Georgia" in body and "Azerbaijan: Tier 2" in body
    _, digest = renderer.render(
        "digest",
        fmt,
        watch="trafficking",
        summary=False,
        limit=None,
        count=0,
        groups=[],
        updated=[update, growth],
    )
    assert "Updated since last sent" in digest
    assert "title changed; text changed" in digest and "new: Georgia" in digest
    # past max_per_hour, a follow-up rolls into the summary with the stories: still told
    _, summary = renderer.render(
        "digest",
        fmt,
        watch="trafficking",
        summary=True,
        limit=1,
        count=1,
        groups=group_by_country([update]),
        updated=[],
    )
    assert "Updated: title changed; text changed" in summary


def test_run_once_sends_one_updated_mail_per_new_version(tmp_path, run_newswatch, smtp):
    """The daemon's path end to end: `newswatch run --once` processes crawl a local feed
    whose full-text article is updated between runs; an immediate watch with
    on_update = "alert" gets the first alert, one "Updated:" mail, and nothing more."""
    from support.httpserver import LocalServer

    server = LocalServer().start()
    try:
        base = server.url("").rstrip("/")

        def publish(title: str, summary: str, updated: str, paragraphs: list[str]) -> None:
            server.add(
                "/feed.xml",
                content_type="application/rss+xml",
                body='<?xml version="1.0"?><rss version="2.0"'
                ' xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>Local</title>'
                f"<item><title>{title}</title><link>{base}/news/raid</link><guid>raid</guid>"
                "<pubDate>Mon, 23 Nov 2026 08:00:00 GMT</pubDate>"
                f"<atom:updated>{updated}</atom:updated><description>{summary}</description>"
                "</item></channel></rss>",
            )
            body = "".join(f"<p>{p}</p>" for p in paragraphs)
            server.add(
                "/news/raid",
                content_type="text/html",
                body=f"<html lang='en'><head><title>{title}</title></head><body><article>"
                f"<h1>{title}</h1>{body}</article></body></html>",
            )

        config = tmp_path / "newswatch.toml"
        config.write_text(
            f"[archive]\npath = '{tmp_path / 'archive.db'}'\n"
            "[crawl]\nallow_private_addresses = true\n"
            f"[[sources]]\nname = 'local'\nkind = 'feed'\nurl = '{base}/feed.xml'\n"
            "full_text = true\n"
            f"[[targets]]\nname = 'mail'\nurl = '{smtp.url()}'\nformat = 'text'\n"
            "[[watches]]\nname = 'trafficking'\nquery = 'trafficking'\ntargets = ['mail']\n"
            "on_update = 'alert'\n",
            encoding="utf-8",
        )

        def run_once() -> None:
            proc = run_newswatch("run", "--once", "--config", str(config))
            assert proc.returncode == 0, proc.stderr

        publish("Raid in Baku", "Twelve freed.", "2026-11-23T08:00:00Z", [RAID])
        run_once()
        assert smtp.mailbox.subjects() == ["[trafficking] Raid in Baku (AZ)"]
        publish(
            "Raid in Baku: five charged",
            "Twelve freed; five charged.",
            "2026-11-24T09:30:00Z",
            [RAID, CHARGED],
        )
        run_once()
        assert len(smtp.mailbox.subjects()) == 2
        assert smtp.mailbox.subjects()[1].startswith(
            "[trafficking] Updated: Raid in Baku: five charged"
        )
        assert "prosecutors charged five men" in smtp.mailbox.bodies("plain")[1]
        run_once()  # a restart with nothing new: no mail repeated
        assert len(smtp.mailbox.subjects()) == 2
    finally:
        server.stop()


def test_a_follow_up_alert_keeps_to_max_per_hour(world):
    w = world("on_update = 'alert'\nmax_per_hour = 1\n")
    now = datetime.now(UTC)
    w.store("turan", item("raid", "Raid in Baku", RAID))
    w.process(now)
    w.mails(1)
    w.store("turan", item("raid", "Raid in Baku: five charged", f"{RAID} {CHARGED}"))
    w.process(now)  # the hour's one message is spent: held
    assert w.sent() == 1
    w.process(now + timedelta(hours=1, minutes=1))
    subject, body = w.mails(2)[1]
    assert subject.startswith("[trafficking] Updated: Raid in Baku: five charged")
    assert "prosecutors charged five men" in body


def test_an_update_that_adds_a_followed_country_is_growth_too(world):
    w = world("countries = ['AZ', 'GE']\non_update = 'ignore'\non_growth = 'alert'\n")
    w.store("turan", item("raid", "Raid in Baku", RAID))
    w.process()
    w.mails(1)
    # an update adding nothing the watch follows: ignored, as on_update says
    w.store("turan", item("raid", "Raid in Baku: five charged", f"{RAID} {CHARGED}"))
    w.process()
    assert w.sent() == 1
    # an update naming Georgia: the story grew, on_growth = "alert" applies
    w.store("turan", item("raid", "Raid in Baku: five charged", f"{RAID} {CHARGED} {GEORGIA}"))
    w.process()
    subject, body = w.mails(2)[1]
    assert subject.startswith("[trafficking] Updated:") and "(new: GE)" in subject
    assert "New countries: Georgia" in body
    w.process()
    assert w.sent() == 2


def test_two_versions_between_match_runs_are_told_against_the_one_sent(world):
    # The alerted version is v0; v1 (new title, new sentence) and v2 (one more sentence, the
    # same title as v1) both arrive before the next match run: the update says all that is
    # new since v0, not only since v1, which nobody was told about.
    w = world("countries = ['AZ', 'GE']\non_update = 'alert'\n")
    w.store("turan", item("raid", "Raid in Baku", RAID))
    w.process()
    w.mails(1)
    w.store("turan", item("raid", "Raid in Baku: five charged", f"{RAID} {CHARGED}"))
    w.store("turan", item("raid", "Raid in Baku: five charged", f"{RAID} {CHARGED} {GEORGIA}"))
    w.process()
    subject, body = w.mails(2)[1]
    assert subject.startswith("[trafficking] Updated: Raid in Baku: five charged")
    assert "Title changed (was: Raid in Baku)" in body
    assert "prosecutors charged five men" in body and "New countries: Georgia" in body
    # a later version is told against v2, the one matched last
    w.store(
        "turan", item("raid", "Raid in Baku: five charged", f"{RAID} {CHARGED} {GEORGIA} {TIER}")
    )
    w.process()
    subject, body = w.mails(3)[2]
    assert "Title changed" not in body and "prosecutors charged" not in body
    assert "New tier statements: Azerbaijan: Tier 2 (2025)" in body
