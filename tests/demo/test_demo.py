"""`newswatch demo` (what `make demo` runs): one offline cycle over the bundled sample site."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a real `newswatch demo` process per test


def test_demo_folds_reprints_mails_the_tip_story_once_and_not_the_others(run_newswatch, tmp_path):
    keep = tmp_path / "demo"
    proc = run_newswatch("demo", "--keep", str(keep), timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for step in ("sources crawled", "articles stored", "matches per watch", "tier statements"):
        assert step in out

    db = sqlite3.connect(keep / "demo.db")
    copies = db.execute(
        "SELECT s.article_count, s.sources FROM stories s JOIN articles a ON a.story_id = s.id"
        " WHERE a.title LIKE '%Azerbaijan%Tier 2%' OR a.title LIKE '%Trafficking Report%'"
        " GROUP BY s.id"
    ).fetchall()
    assert len(copies) == 1, "the three copies are one story"
    assert copies[0][0] == 3
    assert set(json.loads(copies[0][1])) == {"turan", "caspian-wire", "baku-daily"}

    watched = dict(db.execute("SELECT watch, count(DISTINCT story_id) FROM matches GROUP BY watch"))
    assert watched == {"trafficking": 1, "azerbaijan": 1}
    unmatched = {
        r[0]
        for r in db.execute(
            "SELECT a.title FROM articles a LEFT JOIN matches m ON m.article_id = a.id"
            " WHERE m.id IS NULL"
        )
    }
    assert any("Tier 2 suppliers" in t for t in unmatched), "the business story is not matched"
    assert any("drug trafficking" in t for t in unmatched), "the drug story is not matched"
    tiers = set(db.execute("SELECT DISTINCT country, tier FROM tier_statements"))
    assert tiers == {("AZ", "Tier 2"), ("RU", "Tier 3")}

    # The mail, exactly as received: one for the story, naming both watches that matched
    # it, headline first, carrying the tier statement.
    assert "1 alert mail, exactly as received" in out
    assert out.count("Watches: trafficking, azerbaijan") == 1
    # named after the story's earliest published article (TURAN, 10:05), not the wire
    # copy crawled first (14:20)
    assert "[trafficking, azerbaijan] U.S. Trafficking Report: Azerbaijan Does Not" in out
    assert "Azerbaijan: Tier 2" in out
    assert "Tier 2 suppliers" not in out.split("exactly as received")[1]
    assert "Heroin" not in out.split("exactly as received")[1]


def test_demo_leaves_nothing_behind(run_newswatch):
    before = set(Path(tempfile.gettempdir()).glob("newswatch-demo-*"))
    proc = run_newswatch("demo", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert set(Path(tempfile.gettempdir()).glob("newswatch-demo-*")) == before


def test_the_demo_data_ships_inside_the_package():
    """An installed wheel has no data/ folder: the demo's site and default watchlist are
    package data next to alerts/demo.py, and pyproject.toml ships them."""
    import fnmatch
    import tomllib

    import alerts
    from alerts.demo import DEFAULTS, DEMO_SITE

    package = Path(alerts.__file__).resolve().parent
    repo = package.parent
    assert package in DEMO_SITE.parents and (DEMO_SITE / "turan" / "rss.xml").is_file()
    # the defaults are the shipped config itself (a link the wheel build copies in)
    assert DEFAULTS.read_bytes() == (repo / "data" / "newswatch.toml").read_bytes()
    patterns = tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["alerts"]
    files = [DEFAULTS, *(p for p in DEMO_SITE.rglob("*") if p.is_file())]
    for f in files:
        rel = f.relative_to(package).as_posix()
        assert any(fnmatch.fnmatch(rel, p.replace("**/", "*")) for p in patterns), rel
