"""A ``${VAR}`` in a source URL is a secret (issue 13: secrets are never printed): every
place that shows the URL, or an error quoting it, shows ``${VAR}`` instead of the value,
and `sources export` writes the ``${VAR}`` back. The crawler still fetches the real URL.

Real processes and the CLI in-process, a server that never answers (its timeout error
quotes the URL) and one serving a feed whose links echo the key, as private feeds do."""

from __future__ import annotations

import json
import socket
import threading

import pytest
from support.httpserver import LocalServer

pytestmark = pytest.mark.slow

KEY = "Kq7sekrit999zz"  # only in the environment, never in the file
ENV = {"FEED_KEY": KEY}


def feed(port: int) -> str:
    items = "".join(
        f"<item><title>Private story {i}</title>"
        f"<link>http://127.0.0.1:{port}/story/{i}?u={KEY}</link>"
        f"<description>Words of the private story {i}.</description></item>"
        for i in range(2)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>P</title>{items}</channel></rss>'
    )


@pytest.fixture(scope="module")
def servers():
    site = LocalServer().start()
    site.add(f"/private/{KEY}/rss", body=feed(site.port), content_type="application/rss+xml")
    silent = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def hold():  # accept, never answer: the fetch times out, its error quoting the URL
        while True:
            try:
                held.append(silent.accept()[0])
            except OSError:
                return

    threading.Thread(target=hold, daemon=True).start()
    yield site, silent.getsockname()[1]
    site.stop()
    silent.close()
    for conn in held:
        conn.close()


@pytest.fixture(scope="module")
def crawled(servers, tmp_path_factory, run_newswatch_module):
    """A config with ${FEED_KEY} in two source URLs, crawled once; the crawl's output."""
    site, silent_port = servers
    tmp = tmp_path_factory.mktemp("envsecrets")
    cfg = tmp / "newswatch.toml"
    cfg.write_text(
        f"""
[archive]
path = "{tmp / "archive.db"}"
[crawl]
allow_private_addresses = true
obey_robots = false
retries = 0
download_timeout = "1s"
[[sources]]
name = "silent"
kind = "feed"
url = "http://127.0.0.1:{silent_port}/feed/${{FEED_KEY}}/rss"
[[sources]]
name = "private"
kind = "feed"
url = "http://127.0.0.1:{site.port}/private/${{FEED_KEY}}/rss"
""",
        encoding="utf-8",
    )
    done = run_newswatch_module("--config", str(cfg), "crawl", env=ENV)
    assert "private" in done.stdout + done.stderr
    return cfg, done


@pytest.fixture(scope="module")
def run_newswatch_module():
    import os
    import subprocess
    import sys

    from conftest import REPO

    def run(*args: str, env: dict | None = None):
        return subprocess.run(
            [sys.executable, str(REPO / "scheduler.py"), *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            cwd=REPO,
        )

    return run


def shown(*texts: str) -> str:
    out = "\n".join(texts)
    assert KEY not in out, out[-3000:]
    return out


def test_the_crawler_uses_the_real_url_and_the_crawl_prints_no_key(crawled):
    cfg, done = crawled
    out = shown(done.stdout, done.stderr)
    assert "${FEED_KEY}" in out  # the timeout's error, in the summary's problem column
    assert done.returncode == 1  # one source worked: the key reached the server


def test_the_archive_keeps_no_key(crawled):
    """`newswatch serve` and `backup` show or copy the archive whole: the sources' URLs and
    their fetch errors are stored with ${FEED_KEY} (what the feeds' own links say is kept)."""
    import sqlite3

    cfg, _ = crawled
    db = sqlite3.connect(cfg.parent / "archive.db")
    rows = db.execute("SELECT url, last_error FROM sources").fetchall()
    rows += db.execute("SELECT source, error FROM fetches").fetchall()
    db.close()
    assert KEY not in repr(rows)
    assert "/${FEED_KEY}/rss" in repr(rows)


def test_sources_list(crawled, cli):
    cfg, _ = crawled
    text = cli("--config", str(cfg), "sources", "list", env=ENV)
    as_json = cli("--config", str(cfg), "sources", "list", "--json", env=ENV)
    shown(text.output, as_json.output)
    urls = [json.loads(line)["url"] for line in as_json.output.splitlines()]
    assert all(u.count("/${FEED_KEY}/") == 1 for u in urls), urls


def test_status_and_status_json(crawled, cli):
    cfg, _ = crawled
    text = cli("--config", str(cfg), "status", env=ENV)
    as_json = cli("--config", str(cfg), "status", "--json", env=ENV)
    shown(text.output, as_json.output)
    rows = {r["name"]: r for r in map(json.loads, as_json.output.splitlines()) if "name" in r}
    assert "/${FEED_KEY}/" in rows["silent"]["url"]
    assert "${FEED_KEY}" in rows["silent"]["last_error"]  # the timeout quoted the URL


def test_status_of_a_source_never_fetched(crawled, cli, tmp_path):
    cfg, _ = crawled
    added = tmp_path / "more.toml"  # the same archive, one more source it never fetched
    added.write_text(
        cfg.read_text(encoding="utf-8")
        + '[[sources]]\nname = "new"\nkind = "feed"\nurl = "https://h.example/${FEED_KEY}"\n',
        encoding="utf-8",
    )
    shown(cli("--config", str(added), "status", "--json", env=ENV).output)


def test_sources_export_writes_the_variable_back(crawled, cli):
    cfg, _ = crawled
    out = shown(cli("--config", str(cfg), "sources", "export", env=ENV).output)
    assert out.count("/${FEED_KEY}/rss") == 2


def test_search_shows_article_urls_without_the_key(crawled, cli):
    cfg, _ = crawled
    out = cli("--config", str(cfg), "search", "private", "--json", env=ENV).output
    shown(out)
    assert out.count("?u=${FEED_KEY}") == 2


def test_sources_test_error(crawled, run_newswatch_module):
    cfg, _ = crawled
    done = run_newswatch_module("--config", str(cfg), "sources", "test", "silent", env=ENV)
    assert "${FEED_KEY}" in shown(done.stdout, done.stderr)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_run_once_summary_and_logs(crawled, run_newswatch_module, log_format):
    cfg, _ = crawled
    done = run_newswatch_module(
        "--config", str(cfg), "run", "--once", "--log-format", log_format, env=ENV
    )
    shown(done.stdout, done.stderr)
    assert "${FEED_KEY}" in done.stderr  # the log line of the source that failed
