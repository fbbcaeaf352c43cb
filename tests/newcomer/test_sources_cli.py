"""Sources from the command line: OPML import and export round-trips with Miniflux- and
FreshRSS-style exports, edits that keep the config's comments, a dry run that writes
nothing, did-you-mean for names."""

from __future__ import annotations

from pathlib import Path

from support.httpserver import LocalServer

from crawler import opml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "opml"
CONFIG = """\
# my config: this comment must survive every edit
[archive]
path = "{archive}"

# where news comes from
[[sources]]
name = "caspian-wire"   # kept by name
kind = "feed"
url = "https://caspian-wire.example.org/rss.xml"

[[targets]]
name = "me"
url = "json://127.0.0.1:9/hook"

[[watches]]
name = "labour"
countries = ["AZ"]
query = '"forced labour" OR trafficking'
targets = ["me"]
"""


def test_miniflux_and_freshrss_exports_import_and_round_trip(cli, write_config, tmp_path):
    config = write_config(CONFIG)
    result = cli("--config", str(config), "sources", "import", str(FIXTURES / "miniflux.opml"))
    assert result.exit_code == 0, result.output
    # caspian-wire's URL is configured already: two new of three
    assert "imported 2 sources of 3 in the file (1 already configured)" in result.output
    text = config.read_text()
    assert "# my config: this comment must survive every edit" in text
    assert "# kept by name" in text and "# where news comes from" in text
    assert 'name = "baku-daily-society"' in text
    assert "https://rights.example.com/atom.xml?lang=en&section=all" in text

    result = cli("--config", str(config), "sources", "import", str(FIXTURES / "freshrss.opml"))
    assert result.exit_code == 0, result.output
    # its HTML+XPath outline is no feed URL: named, skipped
    assert "skipped #force-feed" in result.output
    assert "imported 1 source of 3" in result.output
    assert "labour-watch" in config.read_text()

    exported = cli("--config", str(config), "sources", "export").output
    feeds = opml.read(exported)
    want = {
        "https://caspian-wire.example.org/rss.xml",
        "https://baku-daily.example.net/society/feed",
        "https://rights.example.com/atom.xml?lang=en&section=all",
        "https://labour-watch.example.org/feed/",
    }
    assert {f.url for f in feeds} == want
    # what we export, another newswatch (or reader) imports whole, names and all
    no_sources = CONFIG.split("# where news comes from")[0] + CONFIG.split('rss.xml"\n')[1]
    fresh = write_config(no_sources, name="fresh.toml")
    (tmp_path / "export.opml").write_text(exported)
    result = cli("--config", str(fresh), "sources", "import", str(tmp_path / "export.opml"))
    assert "imported 4 sources of 4" in result.output, result.output
    names = [line for line in fresh.read_text().splitlines() if line.startswith("name = ")]
    assert sorted(names) == sorted(
        [*(f'name = "{f.title}"' for f in feeds), 'name = "me"', 'name = "labour"']
    )
    # importing again adds nothing
    again = cli("--config", str(fresh), "sources", "import", str(tmp_path / "export.opml"))
    assert "imported 0 sources of 4 in the file (4 already configured)" in again.output


def test_not_opml_is_a_clear_error(cli, write_config, tmp_path):
    config = write_config(CONFIG)
    bad = tmp_path / "feeds.opml"
    bad.write_text("<rss version='2.0'><channel/></rss>")
    result = cli("--config", str(config), "sources", "import", str(bad))
    assert result.exit_code == 2 and "not OPML: the root element is <rss>" in result.output


def test_remove_keeps_comments_and_suggests_names(cli, write_config):
    config = write_config(CONFIG)
    result = cli("--config", str(config), "sources", "remove", "caspian-wyre")
    assert result.exit_code == 2 and "did you mean 'caspian-wire'?" in result.output
    result = cli("--config", str(config), "sources", "remove", "caspian-wire")
    assert result.exit_code == 0 and "removed caspian-wire" in result.output
    assert "caspian-wire" not in config.read_text()
    assert "# my config: this comment must survive every edit" in config.read_text()
    listed = cli("--config", str(config), "sources", "list")
    assert "no sources" in listed.output


def test_an_edit_that_breaks_the_config_leaves_it_unchanged(cli, write_config):
    # a watch restricted to the source: removing the source would break the watch
    config = write_config(
        CONFIG.replace('targets = ["me"]', 'targets = ["me"]\nsources = ["caspian-wire"]')
    )
    before = config.read_text()
    result = cli("--config", str(config), "sources", "remove", "caspian-wire")
    assert result.exit_code == 2
    assert "left unchanged" in result.output and "no source named 'caspian-wire'" in result.output
    assert config.read_text() == before


def test_sources_test_is_a_dry_run(run_newswatch, write_config, tmp_path):
    server = LocalServer().start()
    try:
        server.add(
            "/feed.xml",
            body=(
                b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
                b"<item><title>Forced labour found on Azerbaijan farms</title>"
                b"<link>http://127.0.0.1/x1</link><description>Inspectors in Azerbaijan found"
                b" forced labour on cotton farms.</description></item>"
                b"<item><title>Football results</title><link>http://127.0.0.1/x2</link>"
                b"<description>Neftchi won.</description></item></channel></rss>"
            ),
            content_type="application/rss+xml",
        )
        config = write_config(CONFIG)
        proc = run_newswatch(
            "--config", str(config), "sources", "test", server.url("/feed.xml"), "--allow-private"
        )
        assert proc.returncode == 0, proc.stderr
        assert "2 items, 2 new; 1 of the new would match a watch" in proc.stdout
        line = next(x for x in proc.stdout.splitlines() if "Forced labour found" in x)
        assert "new" in line and "labour" in line and "AZ" in line
        assert not (tmp_path / "archive.db").exists()  # nothing written
        # without the flag the private-address rule holds, and says how to lift it
        proc = run_newswatch("--config", str(config), "sources", "test", server.url("/feed.xml"))
        assert proc.returncode == 3
        assert "private_address_refused" in proc.stderr
        assert "allow_private_addresses" in proc.stderr
    finally:
        server.stop()


def test_discover_checks_what_it_suggests(run_newswatch, write_config):
    server = LocalServer().start()
    try:
        server.add(
            "/feed.xml",
            body=b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            b"<item><title>A</title><link>http://127.0.0.1/a</link></item></channel></rss>",
            content_type="application/rss+xml",
        )
        server.add("/gone.xml", status=404, body=b"no")
        server.add(
            "/",
            body=b'<html><head><link rel="alternate" type="application/rss+xml" title="Main"'
            b' href="/feed.xml"><link rel="alternate" type="application/atom+xml" title="Old"'
            b' href="/gone.xml"></head></html>',
            content_type="text/html",
        )
        config = write_config(
            '[archive]\npath = "{archive}"\n[crawl]\nallow_private_addresses = true\n'
        )
        proc = run_newswatch("--config", str(config), "sources", "discover", server.url("/"))
        assert proc.returncode == 0, proc.stderr
        working, broken = proc.stdout.split("\n\n")
        assert working.startswith("# checked: 1 item") and "\n[[sources]]" in working
        assert broken.startswith("# not working: http_4xx")
        assert "\n# [[sources]]" in broken and "\n[[sources]]" not in broken
    finally:
        server.stop()
