"""Two stories of one event merged by a later report (crawler/story_merge.py), as the analyst
sees it, end to end: three outlets' own reports crawled from local feeds by `newswatch
crawl`, matched and delivered by the daemon's process stage to a real SMTP server, searched
with `newswatch search`. A watch alerted on the story that merged away gets no second
immediate alert from the report that merged it; the merged story shows its outlets as
"+N outlets" in the digest and in search. Fixtures written for newswatch."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dedupe.test_event_drift import NIGHT, TOLL
from dedupe.test_event_views import QUAKE_SURVIVORS
from delivery.newsdata import T0
from delivery.test_story_outlets import feed
from support.clock import later_before_slot
from support.httpserver import LocalServer

from alerts import outbox
from alerts.config import DeliverySettings, Target, Watch
from alerts.deliver import deliver_due, next_slot
from alerts.stages import compile_matcher, process_stage
from crawler import archive, times
from crawler.story_merge import merge_rows
from scheduler import load_config

SURVIVORS = ("survivors", QUAKE_SURVIVORS, "Tue, 07 May 2024 09:00:00 GMT")
TOLL_REPORT = ("toll", TOLL, "Tue, 07 May 2024 10:00:00 GMT")
NIGHT_REPORT = ("night", NIGHT, "Tue, 07 May 2024 20:00:00 GMT")


@pytest.fixture
def server():
    s = LocalServer().start()
    yield s
    s.stop()


def test_a_merged_story_alerts_once_and_shows_every_outlet(
    tmp_path, server, smtp, cli, run_newswatch
):
    base = server.url("").rstrip("/")
    rss = "application/rss+xml"
    for outlet in ("a", "b", "c"):
        server.add(f"/{outlet}.xml", content_type=rss, body=feed(base, outlet, []))
    config = tmp_path / "newswatch.toml"
    # "football pitch": the survivors piece and the night report say it, the toll report
    # does not; so the watches match the story that merges away, not the one it joins
    config.write_text(
        f"[archive]\npath = '{tmp_path / 'archive.db'}'\n"
        "[crawl]\nallow_private_addresses = true\n"
        + "".join(
            f"[[sources]]\nname = 'outlet-{o}'\nkind = 'feed'\nurl = '{base}/{o}.xml'\n"
            for o in ("a", "b", "c")
        )
        + f"[[targets]]\nname = 'mail'\nurl = '{smtp.url()}'\nformat = 'text'\n"
        "[[watches]]\nname = 'now'\nquery = '\"football pitch\"'\ntargets = ['mail']\n"
        "[[watches]]\nname = 'daily'\nquery = '\"football pitch\"'\ntargets = ['mail']\n"
        "mode = 'digest'\ndigest_at = ['08:00']\n",
        encoding="utf-8",
    )
    cfg = load_config(config)
    matcher = compile_matcher(cfg)
    utc = ZoneInfo("UTC")

    def crawl(outlet: str, item) -> None:
        server.add(f"/{outlet}.xml", content_type=rss, body=feed(base, outlet, [item]))
        proc = run_newswatch("crawl", "--config", str(config))
        assert proc.returncode == 0, proc.stderr

    def stories() -> dict[str, int]:
        db = archive.open_archive(tmp_path / "archive.db")
        try:
            return dict(db.execute("SELECT source, story_id FROM articles").fetchall())
        finally:
            db.close()

    # the survivors piece and the toll report: two stories; the watch alerts on the first
    crawl("a", SURVIVORS)
    crawl("b", TOLL_REPORT)
    first = stories()
    assert first["outlet-a"] != first["outlet-b"]
    earlier = datetime.now(UTC) - timedelta(days=2)
    process_stage(cfg, matcher, now=earlier)
    process_stage(cfg, matcher, now=next_slot(["08:00"], earlier, utc))
    assert smtp.mailbox.wait_for(2, timeout=30), smtp.mailbox.subjects()
    alert, digest = smtp.mailbox.subjects()
    assert alert.startswith(f"[now] {QUAKE_SURVIVORS[0]}") and digest.startswith("[daily]")

    # the night report agrees with both and merges the survivors' story into the toll's
    crawl("c", NIGHT_REPORT)
    now = stories()
    assert now["outlet-a"] == now["outlet-b"] == now["outlet-c"] == first["outlet-b"]

    # no second immediate alert, though the night report matches the watch in a story it
    # never alerted on by that id
    at = datetime.now(UTC)
    process_stage(cfg, matcher, now=at)
    process_stage(cfg, matcher, now=later_before_slot(at, ["08:00"], utc))
    assert len(smtp.mailbox.subjects()) == 2

    # search: one story, every outlet of it
    found = cli("--config", str(config), "search", '"football pitch"', "--json")
    assert found.exit_code == 0, found.output
    rows = [json.loads(line) for line in found.stdout.splitlines()]
    assert {r["source"] for r in rows} == {"outlet-a", "outlet-c"}
    assert {r["story_id"] for r in rows} == {first["outlet-b"]}
    assert {r["other_outlets"] for r in rows} == {2}

    # the next digest lists the story alerted on as updated, with the merged story's
    # outlets, once
    process_stage(cfg, matcher, now=next_slot(["08:00"], at, utc) + timedelta(minutes=1))
    assert smtp.mailbox.wait_for(3, timeout=30), smtp.mailbox.subjects()
    subject = smtp.mailbox.subjects()[2]
    body = smtp.mailbox.bodies("plain")[2].replace("\r\n", "\n")
    assert subject.startswith("[daily]")
    assert "Updated since last sent" in body
    assert f"- {QUAKE_SURVIVORS[0]} (outlet-a, +2 outlets" in body
    assert body.count(QUAKE_SURVIVORS[0]) == 1 and NIGHT[0] not in body
    assert len(smtp.mailbox.subjects()) == 3


DELIVERY = DeliverySettings(backoff="1m", max_backoff="10m", max_attempts=3)
WATCHES = [Watch(name="trafficking", query="trafficking", targets=["mail"])]


def cycle(db, smtp, now):
    targets = [Target(name="mail", url=smtp.url())]
    outbox.enqueue(db, WATCHES, targets, now=now)
    return deliver_due(db, WATCHES, targets, DELIVERY, now=now)


def later_coverage(db, story: int, at) -> None:
    """Another outlet's report stored into ``story`` and matched by the watch."""
    stamp = times.iso(at)
    with archive.write(db):
        article = db.execute(
            "INSERT INTO articles (url, source, title, text, published_at, fetched_at,"
            " story_id, matched_at) VALUES ('https://wire.example/later', 'wire', 'Later',"
            " 'Later report on trafficking.', ?, ?, ?, ?)",
            [stamp, stamp, story, stamp],
        ).lastrowid
        db.execute(
            "INSERT INTO matches (article_id, story_id, watch, countries, terms, matched_at)"
            " VALUES (?, ?, 'trafficking', '[\"AZ\"]', '[]', ?)",
            [article, story, stamp],
        )


def test_a_chain_of_merges_keeps_one_immediate_alert(db, news, smtp):
    t = news.add("The story that merged away")
    assert cycle(db, smtp, T0).sent == 1
    # two stories the watch never matched; T merges into S, then S into R
    s = news.add("The story it joined", watch="elsewhere")
    r = news.add("The story that absorbed both", watch="elsewhere")
    with archive.write(db):
        assert merge_rows(db, s, t) and merge_rows(db, r, s)
    later = T0 + timedelta(hours=1)
    later_coverage(db, r, later)  # later coverage of the merged story, matched by the watch
    assert cycle(db, smtp, later).sent == 0
    assert len(smtp.mailbox.subjects()) == 1


def test_rows_queued_for_two_stories_that_merge_go_out_as_one_message(db, news, smtp):
    t = news.add("First report")
    s = news.add("Second report")
    targets = [Target(name="mail", url=smtp.url())]
    assert outbox.enqueue(db, WATCHES, targets, now=T0) == 2  # two stories, two rows
    with archive.write(db):  # the crawl merges them before the rows went out
        assert merge_rows(db, t, s)
    stats = deliver_due(db, WATCHES, targets, DELIVERY, now=T0)
    assert (stats.messages, stats.sent) == (1, 2)
    assert smtp.mailbox.wait_for(1, timeout=30)
    assert len(smtp.mailbox.subjects()) == 1


def test_a_digest_lists_two_queued_stories_that_merge_once(db, news, smtp):
    watches = [Watch(name="trafficking", query="x", targets=["mail"], mode="digest")]
    t = news.add("First report")
    s = news.add("Second report")
    targets = [Target(name="mail", url=smtp.url())]
    assert outbox.enqueue(db, watches, targets, now=T0) == 2
    with archive.write(db):
        assert merge_rows(db, t, s)
    stats = deliver_due(db, watches, targets, DELIVERY, now=T0 + timedelta(days=1))
    assert (stats.messages, stats.sent) == (1, 2)
    assert smtp.mailbox.wait_for(1, timeout=30)
    body = smtp.mailbox.bodies("plain")[0]
    assert body.count("First report") == 1 and "Second report" not in body
