"""The archive in a browser: a Datasette app on the archive, read-only, with our metadata,
canned queries, dashboards, a story page that lists its outlets, and links between rows.

The metadata and the charts are data (alerts/data/serve/metadata.toml, dashboards.toml, with
the SQL in them); this module loads them, serves the archive under the name ``archive`` and
adds what Datasette cannot be told in metadata: the SQL function behind a source's next try,
links from ``story_id``/``article_id`` columns that are no declared foreign key, and the
outlets on a story's page. Tier statements read from a formula alone (``basis`` "formula")
are left out of every query, chart and page unless ``[gazetteer] tier_formulas`` is on: the
SQL asks ``newswatch_tier_formulas()``, which answers per app. The database is opened the way Datasette opens a mutable file
(``mode=ro`` connections, no immutable mode), so the daemon keeps writing while people read.
"""

from __future__ import annotations

import asyncio
import copy
import socket
import sqlite3
import tomllib
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from datasette import hookimpl
from datasette.app import Datasette
from datasette.database import Database as DatasetteDatabase
from datasette.plugins import pm
from markupsafe import Markup, escape

from alerts.render import safe_url
from crawler import schedule
from crawler.config import CrawlSettings, Source
from crawler.story_ids import LIVE_STORY
from crawler.times import iso, parse_time

DATA = Path(__file__).resolve().parent / "data" / "serve"
TEMPLATES = DATA / "templates"
DB_NAME = "archive"
PLUGIN_NAME = "newswatch-serve"

#: Columns that point at a story or an article without a declared foreign key (Datasette
#: links declared ones itself); in canned and custom queries every such column gets a link.
_LINKED = {
    ("matches", "story_id"): "stories",
    ("alerts", "story_id"): "stories",
    ("alerts", "article_id"): "articles",
    ("stories", "article_id"): "articles",
    ("stories", "merged_into"): "stories",
}
_QUERY_LINKS = {"story_id": "stories", "latest_story_id": "stories", "article_id": "articles"}


class ServeError(Exception):
    """The archive cannot be served (missing file, not an archive)."""


def load_metadata(base_path: str = "/") -> dict[str, Any]:
    """The Datasette metadata: titles, descriptions, facets, canned queries and dashboards."""
    with open(DATA / "metadata.toml", "rb") as f:
        meta = tomllib.load(f)
    with open(DATA / "dashboards.toml", "rb") as f:
        dashboards = tomllib.load(f)
    p = base_path
    meta["description_html"] = (
        "News collected by newswatch, deduplicated into stories and matched against your "
        f'watches. Start with the <a href="{p}-/dashboards/{DB_NAME}">dashboard</a>, the '
        f'<a href="{p}{DB_NAME}#queries">canned queries</a>, or search the '
        f'<a href="{p}{DB_NAME}/articles">articles</a>.'
    )
    meta.setdefault("plugins", {})["datasette-dashboards"] = dashboards
    return meta


def base_path(base_url: str | None) -> str:
    """The path part of ``[serve] base_url`` (``/`` when none): where Datasette lives behind
    a proxy. ``https://example.org/news/`` -> ``/news/``."""
    if not base_url:
        return "/"
    path = urlsplit(base_url).path or "/"
    return path if path.endswith("/") else path + "/"


def check_archive(path: str | Path) -> Path:
    """The archive file at ``path`` (a directory holding one ``*.db`` file also does), or
    ServeError saying what is wrong. Only reads: serving never creates or migrates."""
    p = Path(path)
    if p.is_dir():
        found = sorted(p.glob("*.db"))
        if len(found) != 1:
            raise ServeError(f"{path}: a directory needs exactly one *.db archive in it")
        p = found[0]
    if not p.is_file():
        raise ServeError(
            f"no archive at {path} (run `newswatch run` or `newswatch demo --keep DIR`)"
        )
    try:
        conn = sqlite3.connect(f"file:{p.resolve()}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        raise ServeError(f"{p}: not an SQLite archive ({e})") from None
    if "articles" not in tables:
        raise ServeError(f"{p}: not a newswatch archive (no articles table)")
    return p.resolve()


class Schedule:
    """When each source of a config is next due: behind the SQL function
    ``newswatch_next_try(name, finished)`` of the source-health query."""

    def __init__(self, sources: Sequence[Source] = (), crawl: CrawlSettings | None = None):
        self.sources = {s.name: s for s in sources}
        self.crawl = crawl or CrawlSettings()

    def next_try(self, name: str | None, finished: str | None) -> str | None:
        """When a source is next due after the attempt that finished at ``finished``: the
        daemon's own rule (crawler/schedule.py), or NULL for a source not in the config."""
        source = self.sources.get(name or "")
        when = parse_time(finished) if finished else None
        if source is None or when is None or not source.enabled:
            return None
        return iso(schedule.due_at(source, self.crawl, when))


class ServePlugin:
    """Datasette hooks for the archive: the next-try SQL function, row links, story outlets.

    Registered once per process; each app built by :func:`build` has its own
    :class:`Schedule`, so two apps (tests, a library user) never see each other's config."""

    def __init__(self):
        self.schedules: weakref.WeakKeyDictionary[Datasette, Schedule] = weakref.WeakKeyDictionary()
        self.formulas: weakref.WeakKeyDictionary[Datasette, bool] = weakref.WeakKeyDictionary()
        # Datasette lists plugins by module name; a name that is no module keeps it from
        # looking for templates and static files next to us
        self.__name__ = PLUGIN_NAME

    @hookimpl
    def prepare_connection(self, conn: sqlite3.Connection, database: str, datasette) -> None:
        if database == DB_NAME:
            plan = self.schedules.get(datasette) or Schedule()
            conn.create_function("newswatch_next_try", 2, plan.next_try)
            formulas = int(self.formulas.get(datasette, False))
            conn.create_function("newswatch_tier_formulas", 0, lambda: formulas)

    @hookimpl
    def render_cell(self, value: Any, column: str, table: str | None, database: str, datasette):
        if database != DB_NAME or not isinstance(value, int) or isinstance(value, bool):
            return None
        target = _QUERY_LINKS.get(column) if table is None else _LINKED.get((table, column))
        if target is None:
            return None
        href = datasette.urls.row(DB_NAME, target, str(value))
        return Markup(f'<a href="{escape(href)}">{value}</a>')

    @hookimpl
    def extra_template_vars(self, view_name: str, database: str, table: str, request, datasette):
        if view_name != "row" or database != DB_NAME or table != "stories" or request is None:
            return None

        async def outlets() -> dict[str, Any]:
            pks = request.url_vars.get("pks", "")
            try:
                story = int(pks)
            except ValueError:
                return {}
            db = datasette.get_database(DB_NAME)
            # a story merged into another (crawler/story_ids.py): the live story's outlets
            live = await db.execute(
                f"SELECT {LIVE_STORY.format(col='id')} FROM stories WHERE id = ?", [story]
            )
            story = live.first()[0] if live.first() else story
            rows = await db.execute(
                "SELECT a.id, a.source, a.title, a.url, a.published_at, a.language,"
                " a.id = s.article_id AS original"
                " FROM articles a JOIN stories s ON s.id = a.story_id WHERE s.id = ?"
                " ORDER BY coalesce(a.published_at, a.fetched_at), a.id",
                [story],
            )
            title = await db.execute("SELECT title FROM stories WHERE id = ?", [story])
            tiers = await db.execute(
                "SELECT t.country, t.tier, t.year, a.source, t.article_id FROM tier_statements t"
                " JOIN articles a ON a.id = t.article_id WHERE a.story_id = ?"
                " AND (t.basis IS NOT 'formula' OR newswatch_tier_formulas())"
                " ORDER BY t.country, t.year",
                [story],
            )
            return {
                "story_outlets": [{**dict(r), "url": safe_url(r["url"])} for r in rows],
                "story_tiers": [dict(r) for r in tiers],
                "story_id": story,
                "story_title": title.first()["title"] if title.first() else None,
            }

        return outlets


def build(
    path: str | Path,
    *,
    sources: Sequence[Source] = (),
    crawl: CrawlSettings | None = None,
    base_url: str | None = None,
    tier_formulas: bool = False,
) -> Datasette:
    """A Datasette app on the archive at ``path``, ready to serve (startup hooks run).
    ``tier_formulas`` (``[gazetteer] tier_formulas``): show tier statements read from a
    formula alone (off: never, even those stored while it was on)."""
    archive = check_archive(path)
    prefix = base_path(base_url)
    plugin = pm.get_plugin(PLUGIN_NAME)
    if plugin is None:
        plugin = ServePlugin()
        pm.register(plugin, name=PLUGIN_NAME)
    ds = Datasette(
        [],
        metadata=copy.deepcopy(load_metadata(prefix)),
        template_dir=str(TEMPLATES),
        settings={"base_url": prefix, "default_page_size": 50, "allow_download": False},
    )
    plugin.schedules[ds] = Schedule(sources, crawl)
    plugin.formulas[ds] = tier_formulas
    ds.remove_database("_memory")
    ds.add_database(DatasetteDatabase(ds, path=str(archive), is_mutable=True), name=DB_NAME)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(ds.invoke_startup())
    finally:
        loop.close()
    return ds


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one), for :func:`serve`."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(ds: Datasette, sock: socket.socket) -> None:
    """Serve ``ds`` on ``sock`` until interrupted (Ctrl-C or SIGTERM)."""
    import uvicorn

    config = uvicorn.Config(ds.app(), log_level="warning", lifespan="on", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def url_of(sock: socket.socket, path: str = "/") -> str:
    """The address people open for a listening socket."""
    host, port = sock.getsockname()[:2]
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}{path}"


__all__ = [
    "DB_NAME",
    "ServeError",
    "Schedule",
    "ServePlugin",
    "base_path",
    "build",
    "check_archive",
    "listen",
    "load_metadata",
    "serve",
    "url_of",
]
