"""bench/bench_soak.py's premise: every item its feeds publish is a story of its own, so one
matching item owes one alert; and its reconciliation names an alert owed and not sent.

The items go through the real story levels (reprints and events) in a real archive file,
in the order the daemon stores them (each cycle, every feed's newest item)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from crawler import archive
from crawler.stories import StoryAssigner

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"newswatch_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


items = _load("soak_feeds")
sys.path.insert(0, str(BENCH))  # bench_soak imports soak_feeds as the bench runs it
soak = _load("bench_soak")


def _store(db, feeds: int, cycles: int) -> dict[str, int]:
    """Store cycle by cycle every feed's item; the story each item got, by token."""
    stories = {}
    with archive.write(db):
        assigner = StoryAssigner(db)
        for k in range(1, cycles + 1):
            for feed in range(feeds):
                title, text = items.story_text(feed, k)
                token = f"f{feed}i{k}"
                cur = db.execute(
                    "INSERT INTO articles (url, guid, source, title, summary, language,"
                    " fetched_at) VALUES (?, ?, ?, ?, ?, 'en', ?)",
                    [
                        f"http://soak.invalid/{token}",
                        token,
                        f"feed{feed}",
                        title,
                        text,
                        archive.utcnow(),
                    ],
                )
                stories[token] = assigner.assign(cur.lastrowid)
    return stories


def test_every_soak_item_is_a_story_of_its_own(tmp_path):
    # the old items ("Report f3i57: forced labour found on farms") differed by their number
    # only: the event level rightly joined every feed's item 57 (700 matching items, 198
    # stories and alerts in a 150-cycle soak)
    db = archive.open_archive(tmp_path / "soak.db")
    try:
        stories = _store(db, feeds=12, cycles=60)
    finally:
        db.close()
    assert len(set(stories.values())) == len(stories) == 720


def test_an_items_code_names_it_again_in_a_mail():
    for feed, k in [(0, 10), (3, 57), (49, 150), (12, 5)]:
        title, _ = items.story_text(feed, k)
        found = items.CODE.search(f"[labour] {title}")
        assert items.token_of(found) == f"f{feed}i{k}"
    assert "forced labour" in items.story_text(4, 20)[0]
    assert "forced labour" not in " ".join(items.story_text(4, 21))


def _archive_with_alerts(path: Path, statuses: list[str]) -> None:
    """An archive with one matching article, its match and its alert, per status."""
    from alerts import schema

    db = schema.open_archive(path)
    with archive.write(db):
        for i, status in enumerate(statuses):
            token = f"f{i}i10"
            aid = db.execute(
                "INSERT INTO articles (url, guid, source, title, fetched_at, matched_at)"
                " VALUES (?, ?, 'feed', 't', ?, ?)",
                [f"http://soak.invalid/{token}", token, archive.utcnow(), archive.utcnow()],
            ).lastrowid
            db.execute(
                "INSERT INTO stories (id, article_id, first_seen_at) VALUES (?, ?, ?)",
                [aid, aid, archive.utcnow()],
            )
            db.execute("UPDATE articles SET story_id = ? WHERE id = ?", [aid, aid])
            db.execute(
                "INSERT INTO matches (article_id, story_id, watch, matched_at)"
                " VALUES (?, ?, 'labour', ?)",
                [aid, aid, archive.utcnow()],
            )
            db.execute(
                "INSERT INTO alerts (watch, story_id, target, status, created_at)"
                " VALUES ('labour', ?, 'mail', ?, ?)",
                [aid, status, archive.utcnow()],
            )
    db.close()


def test_reconciliation_names_an_alert_owed_and_not_sent(tmp_path, capsys):
    path = tmp_path / "soak.db"
    _archive_with_alerts(path, ["sent", "pending"])
    tokens = {"f0i10", "f1i10"}
    lost = soak.reconcile(path, tokens, tokens, {"f0i10": 1.0})
    out = capsys.readouterr().out
    assert lost == 1
    assert "LOST: 1 alerts owed and not sent" in out


def test_reconciliation_is_clean_when_every_alert_is_mailed(tmp_path, capsys):
    path = tmp_path / "soak.db"
    _archive_with_alerts(path, ["sent", "sent"])
    tokens = {"f0i10", "f1i10"}
    assert soak.reconcile(path, tokens, tokens, {"f0i10": 1.0, "f1i10": 2.0}) == 0
    assert "LOST" not in capsys.readouterr().out
