"""`newswatch serve` in a real browser: headless Chromium (the Debian package, driven by
Playwright through ``executable_path``; `make browser` installs it) opens the dashboard, a
search and a story page of the fixture archive served by a real `newswatch serve` process.

Each chart must have drawn its data: the SVG marks Vega draws carry an aria-label with the
values of their row, which are compared with what the fixture's rows make (computed in
tests/support/serve_archive.py, not by the served SQL). Every request the pages make is
recorded; one that would leave 127.0.0.1 fails the test (and is aborted, so a test never
touches the internet). Screenshots go to tests/serve/screenshots/ (git-ignored).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from support import serve_archive as fx

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("serve-browser")]

REPO = Path(__file__).resolve().parents[2]
SHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = (
    os.environ.get("NEWSWATCH_CHROMIUM")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
)


@pytest.fixture(scope="module")
def server(fixture_archive, tmp_path_factory):
    """A `newswatch serve` process on a free port: (base URL, story id per article)."""
    path, stories = fixture_archive
    config = tmp_path_factory.mktemp("config") / "newswatch.toml"
    config.write_text(
        '[[sources]]\nname = "alpha-news"\nkind = "feed"\n'
        'url = "https://alpha-news.example.org/feed.xml"\n',
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "scheduler.py"), "--config", str(config), "serve"]
        + ["--archive", str(path), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=REPO,
    )
    try:
        first = proc.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+/", first)
        if not found:
            proc.kill()
            raise AssertionError(f"newswatch serve did not start: {first}{proc.stderr.read()}")
        yield found.group(0), stories
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@contextmanager
def browser_page(base: str):
    """A fresh headless Chromium page; yields (page, requested URLs, console errors)."""
    if not CHROMIUM:
        pytest.skip("no Chromium: `make browser` installs the Debian package")
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    errors: list[str] = []
    args = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium refuses root otherwise
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1100})
            context.set_default_timeout(60_000)  # the suite runs on 2 busy cores

            def guard(route):
                url = route.request.url
                requested.append(url)
                if url.startswith(base) or urlsplit(url).scheme in ("data", "blob"):
                    route.continue_()
                else:
                    route.abort()

            context.route("**/*", guard)
            page = context.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            yield page, requested, errors
        finally:
            browser.close()


def left_home(requested: list[str]) -> list[str]:
    """Requests to anywhere but 127.0.0.1."""
    return [
        u
        for u in requested
        if urlsplit(u).scheme in ("http", "https", "ws", "wss")
        and urlsplit(u).hostname != "127.0.0.1"
    ]


def marks(page, chart: str, kind: str) -> list[dict[str, str]]:
    """The data rows behind the ``kind`` marks (rect, symbol, line) Vega drew in a chart."""
    labels = page.eval_on_selector_all(
        f"#chart-{chart} svg g.mark-{kind}.role-mark > path",
        "els => els.map(e => e.getAttribute('aria-label'))",
    )
    return [dict(part.split(": ", 1) for part in label.split("; ")) for label in labels]


def open_dashboard(page, url: str) -> None:
    page.goto(url)
    for chart in ("coverage", "watches", "tiers", "health"):
        # attached, not visible: a flat line is a path with no height
        page.wait_for_selector(f"#chart-{chart} svg g.role-mark > path", state="attached")
    for metric in ("articles", "stories", "matches", "undelivered"):
        page.wait_for_selector(f"#chart-{metric} p")


def test_dashboard_draws_every_chart_from_the_archive(server):
    base, _ = server
    with browser_page(base) as (page, requested, errors):
        open_dashboard(page, base + "-/dashboards/archive")
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)

        coverage = marks(page, "coverage", "rect")
        assert {(m["week starting"], m["country"]): int(m["articles"]) for m in coverage} == (
            fx.expected_coverage()
        )
        assert len(coverage) == len(fx.expected_coverage())
        watches = marks(page, "watches", "rect")
        assert {(m["day published"], m["watch"]): int(m["matches"]) for m in watches} == (
            fx.expected_watches()
        )
        tiers = marks(page, "tiers", "symbol")
        assert {
            (m["country"], int(m["year"]), m["tier"]): int(m["reports"]) for m in tiers
        } == fx.expected_tiers()
        countries = {c for c, _y, _t in fx.expected_tiers()}
        assert len(marks(page, "tiers", "line")) == len(countries)
        health = marks(page, "health", "rect")
        assert {(m["day"], m["source"], m["outcome"]): int(m["fetches"]) for m in health} == (
            fx.expected_health()
        )
        figures = {
            metric: page.inner_text(f"#chart-{metric} p")
            for metric in ("articles", "stories", "matches", "undelivered")
        }
        undelivered = sum(1 for a in fx.ALERTS if a[2] in ("failed", "pending"))
        assert figures == {
            "articles": str(len(fx.ARTICLES)),
            "stories": str(len(fx.ARTICLES) - 2),  # three articles are one story
            "matches": str(len(fx.MATCHES)),
            "undelivered": str(undelivered),
        }
        assert errors == []
    assert left_home(requested) == []
    assert any("vega-lite.min.js" in u for u in requested)


def test_a_country_filter_narrows_the_charts(server):
    base, _ = server
    with browser_page(base) as (page, requested, errors):
        open_dashboard(page, base + "-/dashboards/archive?country=RU")
        coverage = marks(page, "coverage", "rect")
        want = {k: v for k, v in fx.expected_coverage().items() if k[1] == "RU"}
        assert {(m["week starting"], m["country"]): int(m["articles"]) for m in coverage} == want
        tiers = marks(page, "tiers", "symbol")
        assert {m["country"] for m in tiers} == {"RU"}
        assert errors == []
    assert left_home(requested) == []


def test_search_finds_the_article(server):
    base, _ = server
    with browser_page(base) as (page, requested, errors):
        page.goto(base + "archive/articles")
        page.fill("input#_search", fx.SEARCH_WORD)
        page.press("input#_search", "Enter")
        page.wait_for_url(re.compile(r"_search="))
        page.screenshot(path=str(SHOTS / "search.png"), full_page=True)
        titles = page.eval_on_selector_all(
            "table.rows-and-columns td.col-title", "els => els.map(e => e.innerText)"
        )
        assert titles == [fx.ARTICLES[5][2]]
        assert errors == []
    assert left_home(requested) == []


def test_story_page_shows_its_outlets_and_tier_statements(server):
    base, stories = server
    with browser_page(base) as (page, requested, errors):
        page.goto(f"{base}archive/stories/{stories[0]}")
        page.screenshot(path=str(SHOTS / "story.png"), full_page=True)
        links = page.eval_on_selector_all(
            "a.outlet-link", "els => els.map(e => e.getAttribute('href'))"
        )
        assert links == [fx.url(0), fx.url(1), fx.url(2)]
        assert "AZ: Tier 2 (2024), reported by alpha-news" in page.inner_text("ul.story-tiers")
        page.click("text=This list as a query")
        page.wait_for_selector("table.rows-and-columns td.col-outlet")
        outlets = page.eval_on_selector_all(
            "table.rows-and-columns td.col-outlet", "els => els.map(e => e.innerText)"
        )
        assert outlets == ["alpha-news", "beta-wire", "gamma-feed"]
        assert errors == []
    assert left_home(requested) == []


def test_every_kind_of_page_loads_from_127_0_0_1_only(server):
    base, stories = server
    pages = [
        "",  # home: title, licence, source
        "archive",  # the database: canned queries and the SQL editor (CodeMirror)
        "archive/articles?_facet=source",  # a table with facets
        "archive/source_health",  # a canned query
        f"archive/stories/{stories[0]}",  # a row
        "-/dashboards",
    ]
    with browser_page(base) as (page, requested, errors):
        for path in pages:
            response = page.goto(base + path)
            page.wait_for_load_state("networkidle")
            assert response.status == 200, path
        page.goto(base + "archive")
        page.wait_for_selector(".CodeMirror, .cm-editor", state="attached")
        assert errors == []
    assert left_home(requested) == []
    assert len({urlsplit(u).path for u in requested}) > len(pages)  # scripts and styles too
