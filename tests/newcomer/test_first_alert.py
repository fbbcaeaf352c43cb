"""A newcomer's path to a first alert, with real parts: `init` -> `sources add` (a local
feed) -> `alerts test` (a local SMTP server) -> `run --once` -> one mail, headline first.
Then a second watch on the same story still gives one mail."""

from __future__ import annotations

import pytest
from support.httpserver import LocalServer
from support.smtp import SMTPServer

HOME = b"""<html><head><title>Caspian Wire</title>
<link rel="alternate" type="application/rss+xml" title="Main" href="/feed.xml">
</head><body>news</body></html>"""


def feed(*items: tuple[str, str, str]) -> bytes:
    body = "".join(
        f"<item><title>{title}</title><link>http://127.0.0.1/{slug}</link>"
        f"<guid>{slug}</guid><description>{text}</description></item>"
        for slug, title, text in items
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Caspian Wire</title>'
        f"<link>http://127.0.0.1/</link>{body}</channel></rss>"
    ).encode()


FIRST = (
    "raid",
    "Police in Baku break up a human trafficking ring",
    "Police in Azerbaijan said on Monday they had broken up a human trafficking ring that"
    " recruited workers for farms abroad. Twelve people were detained in Baku.",
)
SECOND = (
    "report",
    "Azerbaijan stays on Tier 2 of the trafficking in persons report",
    "The State Department kept Azerbaijan on Tier 2 in its annual trafficking in persons"
    " report, citing forced labour cases in the cotton harvest and in construction.",
)


@pytest.fixture
def site():
    server = LocalServer().start()
    server.add("/", body=HOME, content_type="text/html")
    server.add("/feed.xml", body=feed(FIRST), content_type="application/rss+xml")
    yield server
    server.stop()


@pytest.fixture
def smtp():
    server = SMTPServer().start()
    yield server
    server.stop()


def test_init_add_test_run_then_one_mail_per_story(tmp_path, run_newswatch, site, smtp):
    def nw(*args):
        proc = run_newswatch(*args, cwd=tmp_path, env={"NEWSWATCH_CONFIG": ""})
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
        return proc

    # 1. init: the config goes to ./newswatch.toml, which every later command reads
    out = nw("init", "--target", smtp.url(), "--country", "Azerbaijan", "--no-sources").stdout
    assert "wrote newswatch.toml" in out and "sources add" in out
    text = (tmp_path / "newswatch.toml").read_text()
    assert "countries = ['AZ']" in text and text.count("\n# ") >= 5  # commented

    # 2. sources add: the page names its feed; it is fetched once and appended
    out = nw("sources", "add", site.url("/"), "--allow-private").stdout
    assert "added 127-0-0-1" in out and "1 item now" in out
    assert site.url("/feed.xml") in (tmp_path / "newswatch.toml").read_text()
    assert "# --- What to watch" in (tmp_path / "newswatch.toml").read_text()  # comments kept

    # 3. alerts test proves the target
    nw("alerts", "test")
    assert smtp.mailbox.subjects() == ["newswatch test message for me"]

    # 4. run --once: one alert, headline first
    nw("run", "--once")
    assert smtp.mailbox.subjects()[1:] == [
        "[my-watch] Police in Baku break up a human trafficking ring (AZ)"
    ]

    # A second watch that matches the next story too: still one mail for it, naming both
    with (tmp_path / "newswatch.toml").open("a") as f:
        f.write('\n[[watches]]\nname = "tip"\nquery = \'"forced labour"\'\ntargets = ["me"]\n')
    site.add("/feed.xml", body=feed(SECOND, FIRST), content_type="application/rss+xml")
    nw("run", "--once")
    assert smtp.mailbox.subjects()[2:] == [
        "[my-watch, tip] Azerbaijan stays on Tier 2 of the trafficking in persons report (AZ)"
    ]
    (html,) = smtp.mailbox.bodies("html")[-1:]
    assert "my-watch, tip" in html
