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
from delivery.test_story_outlets import feed
from support.httpserver import LocalServer

from alerts.deliver import next_slot
from alerts.stages import compile_matcher, process_stage
from crawler import archive
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
    process_stage(cfg, matcher, now=at + timedelta(hours=2))
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
