"""Tier statements read from a formula alone (``basis`` "formula") stored in the archive reach
the user only while ``[gazetteer] tier_formulas`` is on: an archive that stored one while the
option was on, then read with the shipped default (off), shows it nowhere - not in the alert
mail, the digest, `alerts preview`, `newswatch tiers` or `newswatch serve`; with the option
on, it shows everywhere (and `tiers` says its basis).

Real parts: the crawler's store and story assigner, the real matcher with the option on
(which stores the formula reading), the daemon's process stage, a real SMTP server, the CLI
in process and the Datasette app."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from alerts import match_stage, outbox, schema, serve
from alerts.stages import compile_matcher, process_stage
from crawler import archive
from crawler.store import store_items
from crawler.stories import StoryAssigner
from scheduler import load_config

TEXT = (
    "Police in Baku said on Monday that a trafficking ring had moved dozens of workers to "
    "building sites abroad. Azerbaijan does not fully comply with the minimum standards for "
    "the elimination of trafficking and is not making significant efforts to do so. The "
    "State Department kept Georgia on Tier 1 in its 2025 Trafficking in Persons report."
)
WORDS = "Tier: Georgia: Tier 1 (2025)"  # a statement in words: shown either way
FORMULA = "Tier: Azerbaijan: Tier 3 (2025)"  # the formula alone gives it


def config_text(path, smtp, formulas: bool) -> str:
    return (
        f"[archive]\npath = '{path}'\n"
        + ("[gazetteer]\ntier_formulas = true\n" if formulas else "")
        + f"[[targets]]\nname = 'mail'\nurl = '{smtp.url()}'\nformat = 'text'\n"
        "[[watches]]\nname = 'now'\nquery = 'trafficking'\ntargets = ['mail']\n"
        "[[watches]]\nname = 'daily'\nquery = 'trafficking'\ntargets = ['mail']\n"
        "mode = 'digest'\ndigest_at = ['08:00']\n"
    )


@pytest.fixture
def stored(tmp_path, smtp):
    """An archive whose one article was matched with ``tier_formulas`` on (so its formula
    reading is stored) and whose alerts wait in the outbox; returns a function giving the
    config path for ``formulas`` on or off."""
    path = tmp_path / "archive.db"
    on = tmp_path / "on.toml"
    on.write_text(config_text(path, smtp, True), encoding="utf-8")
    schema.open_archive(path).close()
    db = archive.open_archive(path)
    with archive.write(db):
        item = {
            "url": "https://news.example.org/raid",
            "guid": "raid",
            "title": "Raid in Baku",
            "text": TEXT,
            "language": "en",
            "published_at": "2026-11-23T08:00:00Z",
        }
        store_items(db, "turan", [item], StoryAssigner(db))
    db.close()
    db = schema.open_archive(path)
    cfg = load_config(on)
    match_stage.match_pending(db, compile_matcher(cfg))
    outbox.enqueue(db, cfg.watches, cfg.targets, now=datetime.now(UTC))
    basis = {r["country"]: r["basis"] for r in db.query("SELECT * FROM tier_statements")}
    db.close()
    assert basis == {"AZ": "formula", "GE": "words"}

    def config(formulas: bool):
        c = tmp_path / f"newswatch-{formulas}.toml"
        c.write_text(config_text(path, smtp, formulas), encoding="utf-8")
        return c

    return path, config


@pytest.mark.parametrize("formulas", [False, True], ids=["default", "tier_formulas"])
def test_alerts_digests_and_preview(cli, stored, smtp, formulas):
    _path, config = stored
    c = config(formulas)
    result = cli("--config", str(c), "alerts", "preview", "--json")
    assert result.exit_code == 0, result.output
    previews = {p["kind"]: p for p in map(json.loads, result.stdout.splitlines())}
    assert set(previews) == {"alert", "digest"}
    for p in previews.values():
        assert WORDS in p["body"]
        assert (FORMULA in p["body"]) is formulas

    cfg = load_config(c)
    now = datetime.now(UTC)
    process_stage(cfg, compile_matcher(cfg), now=now)  # the immediate alert
    process_stage(cfg, compile_matcher(cfg), now=now + timedelta(days=1))  # the digest
    assert smtp.mailbox.wait_for(2, timeout=30), smtp.mailbox.subjects()
    bodies = [b.replace("\r\n", "\n") for b in smtp.mailbox.bodies("plain")]
    assert len(bodies) == 2
    for body in bodies:
        assert WORDS in body
        assert (FORMULA in body) is formulas
    # the preview was what went out
    sent = dict(zip(smtp.mailbox.subjects(), bodies, strict=True))
    for p in previews.values():
        assert sent[p["subject"]].strip() == p["body"].strip()


@pytest.mark.parametrize("formulas", [False, True], ids=["default", "tier_formulas"])
def test_tiers_command(cli, stored, formulas):
    _path, config = stored
    result = cli("--config", str(config(formulas)), "tiers", "AZ", "--json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["tier"], r["basis"]) for r in rows] == ([("Tier 3", "formula")] if formulas else [])
    georgia = cli("--config", str(config(formulas)), "tiers", "GE", "--json")
    assert [json.loads(line)["basis"] for line in georgia.stdout.splitlines()] == ["words"]


def _get(ds, path: str):
    async def go():
        return await ds.client.get(path)

    return asyncio.run(go())


def _chart(ds, name: str) -> list[dict]:
    """Rows of one dashboard chart's SQL (its optional filters left out), run by Datasette."""
    sql = serve.load_metadata()["plugins"]["datasette-dashboards"]["archive"]["charts"][name]
    query = sql["query"].replace("[[ and t.country = :country ]]", "")
    query = query.replace("[[ and a.source = :source ]]", "")

    async def go():
        return [dict(r) for r in await ds.get_database(serve.DB_NAME).execute(query)]

    return asyncio.run(go())


@pytest.mark.parametrize("formulas", [False, True], ids=["default", "tier_formulas"])
def test_serve(stored, formulas):
    path, _config = stored
    ds = serve.build(path, tier_formulas=formulas)
    story = json.loads(_get(ds, "/archive/articles/1.json?_shape=objects").text)["rows"][0]
    page = _get(ds, f"/archive/stories/{story['story_id']}").text
    assert "GE: <b>Tier 1</b>" in page
    assert ("AZ: <b>Tier 3</b>" in page) is formulas
    history = _get(ds, "/archive/tier_history.json?country=az&_shape=objects").json()["rows"]
    assert [(r["tier"], r["basis"]) for r in history] == (
        [("Tier 3", "formula")] if formulas else []
    )
    charted = {(r["country"], r["tier"]) for r in _chart(ds, "tiers")}
    assert charted == ({("AZ", "Tier 3")} if formulas else set()) | {("GE", "Tier 1")}


RAID = (
    "Police in Baku said on Monday that a trafficking ring had moved dozens of workers from "
    "villages in the south of Azerbaijan to building sites abroad. Officers raided three flats "
    "in the capital and freed twelve people who had been held there for weeks. The workers "
    "told investigators that their passports were taken on arrival and that they were paid "
    "nothing for months. Prosecutors said that the inquiry would continue."
)
AZ_FORMULA = (
    "Azerbaijan does not fully comply with the minimum standards for the elimination of "
    "trafficking and is not making significant efforts to do so."
)
AZ_WORDS = "The State Department placed Azerbaijan on Tier 3 in its 2025 report."


def test_a_tier_first_stated_in_words_is_growth_when_formulas_are_off(tmp_path, smtp):
    """A story alerted while the option was on has its formula reading stored; with the
    option off, another outlet's copy that states the same tier in words is new to the
    person (the formula reading was never shown), so it is growth, and its mail says so."""
    from delivery.test_followups import World, item

    w = World(tmp_path, smtp, "on_growth = 'alert'\n")
    on = w.cfg.model_copy(
        update={"gazetteer": w.cfg.gazetteer.model_copy(update={"tier_formulas": True})}
    )
    now = datetime.now(UTC)
    w.store("turan", item("raid", "Raid in Baku", f"{RAID} {AZ_FORMULA}"))
    process_stage(on, compile_matcher(on), now=now)
    assert w.rows("SELECT basis FROM tier_statements") == [{"basis": "formula"}]
    w.mails(1)
    w.store("trend", item("copy", "Raid in Baku", f"{RAID} {AZ_FORMULA} {AZ_WORDS}", hour=9))
    assert len({r["story_id"] for r in w.rows("SELECT story_id FROM articles")}) == 1
    w.process(now)  # the shipped default: formulas off
    subject, body = w.mails(2)[1]
    assert "AZ Tier 3" in subject
    assert "New tier statements: Azerbaijan: Tier 3" in body


def test_a_new_version_stating_the_tier_in_words_shows_it(tmp_path, smtp):
    """The formula reading of an article, stored while the option was on, gives way to the
    words when a new version of the article states the tier: shown with the option off."""
    from delivery.test_followups import World, item

    w = World(tmp_path, smtp, "")
    on = w.cfg.model_copy(
        update={"gazetteer": w.cfg.gazetteer.model_copy(update={"tier_formulas": True})}
    )
    now = datetime.now(UTC)
    w.store("turan", item("raid", "Raid in Baku", f"{RAID} {AZ_FORMULA}"))
    process_stage(on, compile_matcher(on), now=now)
    w.store("turan", item("raid", "Raid in Baku", f"{RAID} {AZ_FORMULA} {AZ_WORDS}"))
    w.process(now)
    assert w.rows("SELECT country, tier, basis FROM tier_statements") == [
        {"country": "AZ", "tier": "Tier 3", "basis": "words"}
    ]
