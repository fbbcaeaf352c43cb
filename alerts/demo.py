"""`newswatch demo`'s world: a sample site and a mailbox on 127.0.0.1, one cycle, a report.

The sample site (alerts/data/demo/site) is served from a free local port, a local SMTP
server keeps what it receives, and one full cycle runs into a throw-away archive with the
default config's watches and term sets. Both files ship inside the package, so the demo
works from an installed wheel in any directory; ``newswatch.toml`` there is a link to
``data/newswatch.toml``, which the wheel build copies in.
"""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from alerts import schema
from alerts.daemon import Daemon
from crawler.cli import output
from crawler.config_file import ConfigLoader
from crawler.words import counted

DATA = Path(__file__).resolve().parent / "data" / "demo"
DEMO_SITE = DATA / "site"
DEFAULTS = DATA / "newswatch.toml"


class DemoError(Exception):
    """The demo's cycle failed (the log says why)."""


def serve_site(root: Path) -> ThreadingHTTPServer:
    """Serve ``root`` on 127.0.0.1 (a free port), with ``{host}`` in files replaced by host:port."""

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def do_GET(self):  # noqa: N802 - http.server's naming
            path = Path(self.translate_path(self.path.split("?", 1)[0]))
            if path.is_dir():
                path = path / "index.html"
            if not path.is_file():
                self.send_error(404)
                return
            host = f"{self.server.server_address[0]}:{self.server.server_address[1]}"
            body = path.read_bytes().replace(b"{host}", host.encode())
            ctype = "application/rss+xml" if path.suffix == ".xml" else "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Mailbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's naming
        self.messages.append(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def demo_settings(base: str, smtp_port: int, archive_path: str, defaults: Any) -> dict:
    """The demo's config as data: the sample site's three sources, one local mail target,
    and the default config's watches and term sets routed to it."""
    target = f"mailto://127.0.0.1:{smtp_port}?from=newswatch@localhost&to=analyst@localhost"
    return {
        "archive": {"path": archive_path},
        "crawl": {
            "allow_private_addresses": True,
            "obey_robots": False,
            "download_timeout": "10s",
            "crawl_timeout": "1m",
            "retries": 0,
        },
        "sources": [
            {"name": "turan", "kind": "feed", "url": f"{base}/turan/rss.xml", "full_text": True},
            {"name": "caspian-wire", "kind": "html", "url": f"{base}/wire/", "links": "a.headline"},
            {"name": "baku-daily", "kind": "feed", "url": f"{base}/daily/feed.xml"},
        ],
        "targets": [{"name": "demo-mail", "url": target}],
        "watches": [{**w.model_dump(), "targets": ["demo-mail"]} for w in defaults.watches],
        "term_sets": defaults.term_sets,
        "gazetteer": defaults.gazetteer.model_dump(),
    }


def run_demo(loader: ConfigLoader, *, keep: str | None = None) -> dict:
    """Serve the sample site and a local SMTP server, run one cycle into a throw-away
    archive (kept in ``keep`` when given), and show each step. Returns what it found.
    Raises DemoError when the cycle fails."""
    from aiosmtpd.controller import Controller

    defaults = loader.load(DEFAULTS)
    workdir = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="newswatch-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    site = serve_site(DEMO_SITE)
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    try:
        base = f"http://127.0.0.1:{site.server_address[1]}"
        settings = demo_settings(base, smtp.port, str(workdir / "demo.db"), defaults)
        cfg = loader.validate(settings, "(demo)")
        output.rule("newswatch demo")
        output.line(
            f"1. a sample site at {base} (3 sources), a mail server at 127.0.0.1:{smtp.port}"
        )
        daemon = Daemon("(demo)", cfg, load_config=loader.load, once=True)
        if daemon.start() != 0:
            raise DemoError("the demo cycle failed; see the log above")
        db = schema.open_archive(cfg.archive.path)
        try:
            report = demo_report(db, mailbox.messages)
        finally:
            db.close()
        print_demo(report, daemon.summary, kept=str(workdir / "demo.db") if keep else None)
        return report
    finally:
        smtp.stop()
        site.shutdown()
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_report(db, messages: list[bytes]) -> dict:
    """What the demo's archive and mailbox hold, as plain data."""
    mails = []
    for raw in messages:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        part = msg.get_body(preferencelist=("plain", "html"))
        mails.append({"subject": str(msg["subject"]), "body": part.get_content() if part else ""})
    return {
        "articles": list(db.query("SELECT id, source, title, story_id FROM articles ORDER BY id")),
        "stories": list(
            db.query(
                "SELECT id, title, article_count, sources FROM stories "
                "WHERE article_count > 0 ORDER BY id"
            )
        ),
        "matches": list(
            db.query(
                "SELECT watch, count(DISTINCT story_id) AS stories, count(*) AS articles "
                "FROM matches GROUP BY watch ORDER BY watch"
            )
        ),
        "tiers": list(
            db.query(
                "SELECT DISTINCT t.country, t.tier, t.year, a.source FROM tier_statements t "
                "JOIN articles a ON a.id = t.article_id ORDER BY t.country, a.source"
            )
        ),
        "mails": mails,
    }


def print_demo(report: dict, summary: dict, kept: str | None = None) -> None:
    """The demo's step-by-step account; ``kept``: where the archive stays (--keep)."""
    output.line("2. sources crawled")
    output.table(
        ("source", "result", "new articles"),
        (
            (r["name"], r.get("error_class") or r.get("status"), r.get("items_new"))
            for r in summary.get("sources", [])
        ),
    )
    output.line(
        f"3. {len(report['articles'])} articles stored, in {len(report['stories'])} stories"
    )
    output.table(
        ("story", "title", "copies", "sources"),
        ((s["id"], s["title"], s["article_count"], s["sources"]) for s in report["stories"]),
    )
    output.line("4. matches per watch")
    output.table(
        ("watch", "stories", "articles"),
        ((m["watch"], m["stories"], m["articles"]) for m in report["matches"]),
    )
    output.line("5. tier statements")
    output.table(
        ("country", "tier", "year", "reported by"),
        ((r["country"], r["tier"], r["year"], r["source"]) for r in report["tiers"]),
    )
    output.line(f"6. {counted(len(report['mails']), 'alert mail')}, exactly as received:")
    for m in report["mails"]:
        output.rule(m["subject"])
        output.line(m["body"])
    if kept:
        output.rule(f"the demo archive is kept: {kept}")
        output.line(f"explore it: newswatch --archive {kept} search trafficking")
    else:
        output.rule("the demo archive is deleted")
    output.line("your own sources and alerts: newswatch init (see the README's quickstart)")
