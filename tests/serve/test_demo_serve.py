"""What `make serve` shows after `newswatch demo --keep DIR`: the demo's story with its three
outlets, the AZ tier statement, and data behind every chart of the dashboard."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
from datasette_dashboards import replace_opts_in_query

from alerts import serve

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def get_json(ds, path: str) -> list[dict]:
    async def go():
        return await ds.client.get(path)

    r = asyncio.run(go())
    assert r.status_code == 200, r.text
    return r.json()["rows"]


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    """`newswatch demo --keep DIR` as a real process, then the app `make serve ARCHIVE=DIR` runs."""
    keep = tmp_path_factory.mktemp("demo")
    proc = subprocess.run(
        [sys.executable, str(REPO / "scheduler.py"), "demo", "--keep", str(keep)],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    return serve.build(keep)  # the directory: its one demo.db


def test_the_demo_story_has_its_three_outlets_and_the_az_tier(demo_app):
    (story,) = get_json(demo_app, "/archive/stories.json?article_count__gte=3&_shape=objects")
    outlets = get_json(demo_app, f"/archive/story.json?story_id={story['id']}&_shape=objects")
    assert sorted(o["outlet"] for o in outlets) == ["baku-daily", "caspian-wire", "turan"]
    page = asyncio.run(demo_app.client.get(f"/archive/stories/{story['id']}")).text
    assert "Outlets (3)" in page
    assert "AZ: <b>Tier 2</b> (2024)" in page
    history = get_json(demo_app, "/archive/tier_history.json?country=AZ&_shape=objects")
    assert {(h["year"], h["tier"]) for h in history} == {(2024, "Tier 2")}
    assert {h["source"] for h in history} == {"baku-daily", "caspian-wire", "turan"}


def test_every_chart_has_data_on_the_demo(demo_app):
    charts = serve.load_metadata()["plugins"]["datasette-dashboards"]["archive"]["charts"]
    for name, chart in charts.items():
        sql = replace_opts_in_query(chart["query"], {})  # no filter set: as the plugin does
        rows = get_json(demo_app, "/archive.json?_shape=objects&sql=" + urllib.parse.quote(sql))
        assert rows, f"chart {name} has no data on the demo archive"
