"""An article stored anew while a match run is between reading it and writing its results
(a crawl and `newswatch match` or the daemon's timer may run at the same time) must be
matched again: its new words may name a watched country. Real archive file, two
connections (the crawl's and the match thread's), real store and matcher."""

from __future__ import annotations

from alerts import match_stage, schema
from alerts.stages import compile_matcher
from crawler import archive
from crawler.store import store_items
from crawler.stories import StoryAssigner
from scheduler import load_config


def _item(text: str) -> dict:
    return {"url": "https://x.example/a", "guid": None, "title": "Baku news", "text": text,
            "summary": None, "author": None, "language": "en", "categories": [],
            "published_at": "2026-11-30T10:00:00Z", "updated_at": None}  # fmt: skip


def test_a_version_stored_during_a_match_run_is_matched(tmp_path):
    path = tmp_path / "nw.toml"
    path.write_text(
        f'[archive]\npath = "{tmp_path / "a.db"}"\n'
        '[[watches]]\nname = "az"\ncountries = ["AZ"]\nquery = "trafficking"\n'
    )
    cfg = load_config(path)
    matcher = compile_matcher(cfg)
    crawl = schema.open_archive(cfg.archive.path)
    match = schema.open_archive(cfg.archive.path)
    try:
        with archive.write(crawl):
            store_items(crawl, "a", [_item("Azerbaijan hosts a football match in Baku.")],
                        StoryAssigner(crawl, cfg.dedupe))  # fmt: skip
        rows = match_stage._select(match, "matched_at IS NULL ORDER BY id LIMIT ?", [500])
        with archive.write(crawl):  # another source brings the article's new words
            stored = store_items(
                crawl,
                "b",
                [_item("Azerbaijan police broke up a human trafficking ring.")],
                StoryAssigner(crawl, cfg.dedupe),
            )
        assert stored.updated == 1
        match_stage._run(match, matcher, rows, match_stage.MatchStats(), pending=True)
        match_stage.match_pending(match, matcher)  # the next run
        assert [r["watch"] for r in match.query("SELECT watch FROM matches")] == ["az"]
    finally:
        crawl.close()
        match.close()
