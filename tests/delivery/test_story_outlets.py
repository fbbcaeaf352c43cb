"""Later coverage of one story, as the analyst sees it (issue 15 item 3), end to end: two
outlets' own reports of one event, crawled from local feeds by `newswatch crawl` (the event
level joins the second to the first one's story), matched and delivered by the daemon's process
stage to a real SMTP server, searched with `newswatch search`. The second report is never a
new immediate alert; it shows as "+1 outlet" on the story in the search results and in the
digest (the story listed as updated since it was last sent). Fixtures written for newswatch."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from support.clock import later_before_slot
from support.httpserver import LocalServer

from alerts.deliver import next_slot
from alerts.stages import compile_matcher, process_stage
from scheduler import load_config

A = (
    "Police free 37 workers from Ganja brick kilns in trafficking raid",
    "Police in Ganja freed 37 workers held at two brick kilns on Wednesday and arrested the "
    "kilns' owner, Rauf Aliyev, on charges of human trafficking and forced labour, the "
    "interior ministry said. The workers, recruited from villages near Lankaran with promises "
    "of factory jobs, had their passports taken and were paid nothing for eleven months. "
    "Investigators said a second site in Mingachevir was being searched.",
)
B = (
    "Ganja kiln owner Rauf Aliyev arrested, 37 forced labourers freed",
    "Thirty-seven people were freed from brick kilns in Ganja after a police raid on "
    "Wednesday, and kiln owner Rauf Aliyev was detained on human trafficking and forced "
    "labour charges. The interior ministry said the workers had been lured from Lankaran "
    "villages with the promise of factory work, stripped of their passports and left unpaid "
    "for eleven months. A site in Mingachevir is also being searched.",
)


def feed(base: str, outlet: str, items: list[tuple[str, str, str]]) -> str:
    entries = "".join(
        f"<item><title>{title}</title><link>{base}/{outlet}/{slug}</link><guid>{slug}</guid>"
        f"<pubDate>{published}</pubDate><description>{text}</description></item>"
        for slug, (title, text), published in items
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel>'
        f"<title>{outlet}</title><link>{base}/{outlet}</link>{entries}</channel></rss>"
    )


@pytest.fixture
def server():
    s = LocalServer().start()
    yield s
    s.stop()


def test_later_coverage_is_plus_outlets_in_search_and_digest_never_an_alert(
    tmp_path, server, smtp, cli, run_newswatch
):
    base = server.url("").rstrip("/")
    rss = "application/rss+xml"
    server.add(
        "/a.xml",
        content_type=rss,
        body=feed(base, "a", [("kilns", A, "Wed, 25 Nov 2026 09:00:00 GMT")]),
    )
    server.add("/b.xml", content_type=rss, body=feed(base, "b", []))
    config = tmp_path / "newswatch.toml"
    config.write_text(
        f"[archive]\npath = '{tmp_path / 'archive.db'}'\n"
        "[crawl]\nallow_private_addresses = true\n"
        f"[[sources]]\nname = 'outlet-a'\nkind = 'feed'\nurl = '{base}/a.xml'\n"
        f"[[sources]]\nname = 'outlet-b'\nkind = 'feed'\nurl = '{base}/b.xml'\n"
        f"[[targets]]\nname = 'mail'\nurl = '{smtp.url()}'\nformat = 'text'\n"
        "[[watches]]\nname = 'now'\nquery = 'trafficking'\ntargets = ['mail']\n"
        "[[watches]]\nname = 'daily'\nquery = 'trafficking'\ntargets = ['mail']\n"
        "mode = 'digest'\ndigest_at = ['08:00']\n",
        encoding="utf-8",
    )
    cfg = load_config(config)
    matcher = compile_matcher(cfg)
    utc = ZoneInfo("UTC")

    def crawl() -> None:
        proc = run_newswatch("crawl", "--config", str(config))
        assert proc.returncode == 0, proc.stderr

    def mails() -> list[tuple[str, str]]:
        bodies = [b.replace("\r\n", "\n") for b in smtp.mailbox.bodies("plain")]
        return list(zip(smtp.mailbox.subjects(), bodies, strict=True))

    # The first outlet's report: one immediate alert, and the digest (both in the past, so
    # that the second report, stored at the real time below, comes after them)
    crawl()
    earlier = datetime.now(UTC) - timedelta(days=2)
    process_stage(cfg, matcher, now=earlier)
    process_stage(cfg, matcher, now=next_slot(["08:00"], earlier, utc))
    assert smtp.mailbox.wait_for(2, timeout=30), smtp.mailbox.subjects()
    (alert, first_digest) = mails()
    assert alert[0].startswith(f"[now] {A[0]}")
    assert A[0] in first_digest[1] and "outlet" not in first_digest[1].replace("outlet-a", "")

    # The second outlet's own report of the same event joins the story
    server.add(
        "/b.xml",
        content_type=rss,
        body=feed(base, "b", [("aliyev", B, "Wed, 25 Nov 2026 13:00:00 GMT")]),
    )
    crawl()

    found = cli("--config", str(config), "search", "brick kilns", "--json")
    assert found.exit_code == 0, found.output
    rows = [json.loads(line) for line in found.stdout.splitlines()]
    assert {r["source"] for r in rows} == {"outlet-a", "outlet-b"}
    assert len({r["story_id"] for r in rows}) == 1  # one story
    assert {r["other_outlets"] for r in rows} == {1}
    table = cli("--config", str(config), "search", "brick kilns")
    assert table.exit_code == 0, table.output
    original = next(line for line in table.stdout.splitlines() if "outlet-a" in line)
    assert "+1 outlet" in original

    # never a new immediate alert, whatever the number of deliveries
    now = datetime.now(UTC)
    process_stage(cfg, matcher, now=now)
    process_stage(cfg, matcher, now=later_before_slot(now, ["08:00"], utc))
    assert len(smtp.mailbox.subjects()) == 2
    # the digest after it lists the story as updated, with the other outlet
    process_stage(cfg, matcher, now=next_slot(["08:00"], now, utc) + timedelta(minutes=1))
    assert smtp.mailbox.wait_for(3, timeout=30), smtp.mailbox.subjects()
    subject, digest = mails()[2]
    assert subject.startswith("[daily]")
    assert "Updated since last sent" in digest
    assert f"- {A[0]} (outlet-a, +1 outlet" in digest
    assert B[0] not in digest  # the story, not the second report, is what is listed
    assert len(smtp.mailbox.subjects()) == 3
