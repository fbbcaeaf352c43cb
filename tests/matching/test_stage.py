"""The match stage against a real SQLite archive, and `newswatch match` / `newswatch tiers`."""

from __future__ import annotations

import json
from pathlib import Path

from alerts.config import Watch
from alerts.match_stage import match_pending, rematch_archive, tier_history
from alerts.matcher import Matcher
from crawler import archive

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "matching"
SEED = SEED / "seed_000_9cdeaa1c7191e6d4.txt"

ARTICLES = [
    ("turan", "Azerbaijan stays on Tier 2", "Azerbaijan remained on Tier 2 in the TIP report."),
    ("turan", "Football", "Azerbaijan beat Sweden."),
    ("bbc", "Forced labor in Russia", "Russia remained on Tier 3 in the 2021 TIP report."),
]


def _archive(tmp_path, articles=ARTICLES):
    db = archive.open_archive(tmp_path / "archive.db")
    with archive.write(db):
        for i, (source, title, text) in enumerate(articles, 1):
            db.conn.execute("INSERT INTO stories (id, first_seen_at) VALUES (?, ?)", (i, "x"))
            db.conn.execute(
                "INSERT INTO articles (url, source, title, text, story_id, published_at, "
                "fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    f"https://e.org/{i}",
                    source,
                    title,
                    text,
                    i,
                    "2024-06-25T10:00:00Z",
                    f"2024-06-2{i}T10:00:00Z",
                ),
            )
    return db


WATCHES = [
    Watch(name="tip", query='"TIP report" OR "forced labor"'),
    Watch(name="az", countries=["AZ"], sources=["turan"]),
]


def _rows(db, sql):
    return [tuple(r) for r in db.execute(sql).fetchall()]


def test_match_pending_writes_matches_tiers_and_marks_articles(tmp_path):
    db = _archive(tmp_path)
    m = Matcher.compile(WATCHES)
    stats = match_pending(db, m, batch_size=2)
    assert (stats.articles, stats.matches, stats.tier_statements) == (3, 4, 2)
    assert _rows(db, "SELECT article_id, story_id, watch FROM matches ORDER BY id") == [
        (1, 1, "tip"),
        (1, 1, "az"),
        (2, 2, "az"),
        (3, 3, "tip"),
    ]
    row = db.execute(
        "SELECT countries, terms FROM matches WHERE article_id = 1 AND watch = 'tip'"
    ).fetchone()
    assert json.loads(row[0]) == ["AZ"] and "TIP report" in json.loads(row[1])
    assert _rows(db, "SELECT article_id, country, tier, year FROM tier_statements") == [
        (1, "AZ", "Tier 2", 2024),
        (3, "RU", "Tier 3", 2021),
    ]
    assert _rows(db, "SELECT count(*) FROM articles WHERE matched_at IS NULL") == [(0,)]
    assert _rows(db, "SELECT count(*) FROM alerts") == [(0,)]
    assert match_pending(db, m).articles == 0


def test_rematch_writes_only_new_rows(tmp_path):
    db = _archive(tmp_path)
    match_pending(db, Matcher.compile(WATCHES))
    wider = Matcher.compile([*WATCHES, Watch(name="ru", countries=["RU"])])
    stats = rematch_archive(db, wider)
    assert (stats.articles, stats.matches, stats.tier_statements) == (3, 1, 0)
    assert _rows(db, "SELECT count(*), count(DISTINCT article_id || watch) FROM matches") == [
        (5, 5)
    ]
    assert rematch_archive(db, wider).matches == 0
    assert rematch_archive(db, wider, since="2024-06-23").articles == 1


def test_tier_history_by_year(tmp_path):
    db = _archive(tmp_path)
    match_pending(db, Matcher.compile(WATCHES))
    rows = tier_history(db, "RU")
    assert [(r["year"], r["tier"], r["source"], r["url"]) for r in rows] == [
        (2021, "Tier 3", "bbc", "https://e.org/3")
    ]


CONFIG = """
[archive]
path = "{archive}"

[[watches]]
name = "trafficking"
query = "@trafficking"

[[watches]]
name = "azerbaijan"
countries = ["AZ"]
query = "@trafficking"

[term_sets]
trafficking = ["trafficking in persons", "human trafficking", "TIP report"]
"""


def test_match_cli_plain_text_writes_nothing(write_config, cli, tmp_path):
    path = write_config(CONFIG)
    result = cli("match", "--config", str(path), str(SEED))
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["id"] == str(SEED)
    assert sorted(out["countries"]) == ["AZ", "BY", "CN", "CU", "RU", "SD", "UA", "US"]
    assert out["watches"] == ["trafficking", "azerbaijan"]
    assert [(t["country"], t["tier"]) for t in out["tiers"]] == [("AZ", "Tier 2"), ("RU", "Tier 3")]
    assert not (tmp_path / "archive.db").exists()


def test_match_cli_blank_input_is_no_article(write_config, cli):
    path = write_config(CONFIG)
    result = cli("match", "--config", str(path), "-", input="\n  \n")
    assert result.exit_code == 0
    assert result.output.strip() == "nothing to match: standard input is empty"


def test_match_cli_json_lines_and_watch_filter(write_config, cli):
    path = write_config(CONFIG)
    lines = [
        {"id": "a", "title": "Azerbaijan", "text": "human trafficking", "extra": 1},
        {"id": 7, "text": "nothing at all"},
        {"title": "Belarus", "text": "TIP report"},
    ]
    stdin = "\n".join(json.dumps(x) for x in lines) + "\n\n"
    result = cli("match", "--config", str(path), "--watch", "azerbaijan", "-", input=stdin)
    assert result.exit_code == 0, result.output
    outs = [json.loads(x) for x in result.output.splitlines()]
    assert [(o["id"], o["countries"], o["watches"]) for o in outs] == [
        ("a", ["AZ"], ["azerbaijan"]),
        (7, [], []),
        (3, ["BY"], []),
    ]


def test_match_cli_errors(write_config, cli):
    path = write_config(CONFIG)
    bad = cli("match", "--config", str(path), "-", input='{"id": 1}\n{broken\n')
    assert bad.exit_code == 2 and "line 2: not valid JSON" in bad.output  # bad input: usage
    unknown = cli("match", "--config", str(path), "--watch", "nope", input="x")
    assert unknown.exit_code == 2 and "no watch named 'nope'" in unknown.output
    since = cli("match", "--config", str(path), "--since", "2024-01-01", input="x")
    assert since.exit_code == 2 and "--archive" in since.output


def test_match_archive_and_tiers_cli(write_config, cli, tmp_path):
    path = write_config(CONFIG)
    db = _archive(tmp_path)
    db.conn.execute(
        "UPDATE articles SET title = 'Trafficking in persons', text = ? WHERE id = 1",
        [SEED.read_text(encoding="utf-8")],
    )
    db.conn.commit()
    db.conn.close()
    first = cli("match", "--config", str(path), "--archive")
    assert first.exit_code == 0, first.output
    assert "3 articles re-matched: 3 new matches, 3 new tier statements" in first.output
    # which articles matched, one JSON line each (the counts alone said nothing of them)
    listed = [json.loads(x) for x in first.stdout.splitlines() if x.startswith("{")]
    assert [(r["id"], r["watches"]) for r in listed] == [
        (1, ["azerbaijan", "trafficking"]),
        (3, ["trafficking"]),
    ]
    assert listed[1]["title"] == "Forced labor in Russia" and listed[1]["source"] == "bbc"
    again = cli("match", "--config", str(path), "--archive", "--since", "2024-06-01")
    assert "0 new matches" in again.output
    table = cli("tiers", "--config", str(path), "Azerbaijan")
    assert table.exit_code == 0 and "Tier 2" in table.output and "turan" in table.output
    rows = [
        json.loads(x)
        for x in cli("tiers", "--config", str(path), "ru", "--json").output.split("\n")
        if x
    ]
    assert [(r["country"], r["tier"], r["year"]) for r in rows] == [
        ("RU", "Tier 3", 2021),
        ("RU", "Tier 3", 2024),
    ]
    assert cli("tiers", "--config", str(path), "Atlantis").exit_code == 2


# A tier given by the report's minimum-standards formula alone, and one in words.
FORMULA_TEXT = (
    "Laos does not fully comply with the minimum standards for the elimination of "
    "trafficking and is not making significant efforts to do so, the TIP report says."
)
WORDS_TEXT = "Ghana was placed on Tier 2 in the TIP report."
FORMULAS_ON = CONFIG + "\n[gazetteer]\ntier_formulas = true\n"


def test_config_turns_formula_tiers_on_for_match_cli(write_config, cli, tmp_path):
    """`newswatch match` prints each statement's basis; a formula alone gives a tier only
    with ``[gazetteer] tier_formulas = true``."""
    lines = [{"id": "f", "text": FORMULA_TEXT}, {"id": "w", "text": WORDS_TEXT}]
    stdin = "\n".join(json.dumps(x) for x in lines) + "\n"

    def tiers(config: str) -> dict:
        path = write_config(config, name=f"{len(config)}.toml")
        result = cli("match", "--config", str(path), "-", input=stdin)
        assert result.exit_code == 0, result.output
        return {o["id"]: o["tiers"] for o in map(json.loads, result.output.splitlines())}

    words = [{"country": "GH", "tier": "Tier 2", "year": None, "basis": "words"}]
    assert tiers(CONFIG) == {"f": [], "w": words}
    assert tiers(FORMULAS_ON) == {
        "f": [{"country": "LA", "tier": "Tier 3", "year": None, "basis": "formula"}],
        "w": words,
    }


def test_config_turns_formula_tiers_on_for_the_stage_and_tiers_cli(write_config, cli, tmp_path):
    """The daemon's and `run --once`'s matcher (stages.compile_matcher) follows the setting;
    the archive keeps each statement's basis; `newswatch tiers` lists a formula reading
    only while the setting is on."""
    from alerts.stages import compile_matcher
    from scheduler import load_config

    off = load_config(write_config(CONFIG, name="off.toml"))
    on_path = write_config(FORMULAS_ON, name="on.toml")
    on = load_config(on_path)
    assert (off.gazetteer.tier_formulas, on.gazetteer.tier_formulas) == (False, True)
    articles = [("a", "Laos", FORMULA_TEXT), ("b", "Ghana", WORDS_TEXT)]
    (tmp_path / "off").mkdir()
    db = _archive(tmp_path / "off", articles)
    match_pending(db, compile_matcher(off))
    assert _rows(db, "SELECT country, tier, basis FROM tier_statements") == [
        ("GH", "Tier 2", "words")
    ]
    db.conn.close()

    db = _archive(tmp_path, articles)  # the archive the config names
    assert match_pending(db, compile_matcher(on)).tier_statements == 2
    assert _rows(db, "SELECT country, tier, basis FROM tier_statements ORDER BY id") == [
        ("LA", "Tier 3", "formula"),
        ("GH", "Tier 2", "words"),
    ]
    assert [r["basis"] for r in tier_history(db, "LA", formulas=True)] == ["formula"]
    assert tier_history(db, "LA") == []
    db.conn.close()

    def listed(path, country: str) -> list[tuple]:
        out = cli("tiers", "--config", str(path), country, "--json").output
        rows = [json.loads(x) for x in out.split("\n") if x]
        return [(r["country"], r["tier"], r["basis"]) for r in rows]

    assert listed(on_path, "Laos") == [("LA", "Tier 3", "formula")]
    off_path = write_config(CONFIG, name="off-here.toml")  # same archive, setting off
    assert listed(off_path, "Laos") == []
    assert listed(off_path, "Ghana") == [("GH", "Tier 2", "words")]
    table = cli("tiers", "--config", str(on_path), "Laos").output
    assert "Tier 3" in table and "formula" in table


def test_statements_stored_before_the_basis_keep_null(tmp_path):
    """The migration adds the column; earlier rows keep NULL (not recorded) and stay listed."""
    import sqlite3

    from alerts import schema

    db = _archive(tmp_path)
    match_pending(db, Matcher.compile(WATCHES))
    db.conn.execute("UPDATE tier_statements SET basis = NULL")
    db.conn.commit()
    assert {r["basis"] for r in tier_history(db, "RU")} == {None}
    assert len(tier_history(db, "RU")) == 1
    db.conn.close()
    raw = sqlite3.connect(tmp_path / "archive.db")
    names = [r[1] for r in raw.execute("PRAGMA table_info(tier_statements)")]
    assert "basis" in names
    assert schema.m005_tier_basis.__name__ in {
        r[0] for r in raw.execute("SELECT name FROM _sqlite_migrations")
    }
