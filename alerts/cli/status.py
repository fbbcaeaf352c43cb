"""`newswatch status`: sources and their last fetch, archive counts, the outbox, the daemon."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import click

from alerts import outbox, schema
from alerts.daemon import stale_after
from alerts.secrets import redact_login, redact_url, remember
from crawler import archive, liveness, schedule, times
from crawler.archive_access import access_problem
from crawler.cli import output
from crawler.cli.context import Context, config_option, json_option, pass_ctx
from crawler.words import counted


@click.command()
@json_option
@config_option
@pass_ctx
def status(obj: Context, as_json: bool) -> None:
    """Sources and their last fetch, article counts, pending and failed alerts.

    With --json, JSON Lines, each object naming its section in "section": one
    {"section": "source", "name", "kind", "url", "enabled", "interval_s", "next_run_at",
    "last_attempt_at", "last_success_at", "last_status", "last_error_class", ...} per
    source, one {"section": "target", "name", "url" (redacted), "tags"} per target, then
    {"section": "archive", "config", "path", "problem" (why the archive cannot be written,
    or null), "articles", "stories", "matches", "tier_statements", "alerts",
    "stopped_matches", "story_changes"}, {"section": "alerts",
    "pending", "sending", "sent", "failed", "merged"} and {"section": "daemon", "alive", "seen", "pid",
    "host", "started_at", "heartbeat_at", "cycles", "stale" (running, heartbeat not reaching the
    archive), ...}; with a [cluster] section, {"section": "cluster", "queue", "waiting",
    "workers": [{"name", "host", "pid", "active", "concurrency"}], "problem"}. Exit code 4
    when the archive is missing (nothing is created) or damaged.
    """
    report = status_report(obj.config, obj.open_archive(), config_file=obj.path)
    if as_json:
        output.json_lines(status_lines(report))
        return
    print_status(report)


def status_report(cfg: Any, db, *, config_file: str = "") -> dict:
    """Everything `newswatch status` shows, as plain data (target URLs masked)."""
    remember(t.url for t in cfg.targets)
    health = {row["name"]: row for row in archive.source_health(db)}
    for row in health.values():  # a source URL or its error may carry a login
        for key in ("url", "last_error"):
            if row.get(key):
                row[key] = redact_login(row[key])
    sources = []
    for s in cfg.sources:
        row = health.pop(s.name, None) or {
            "name": s.name,
            "kind": s.kind,
            "url": redact_login(s.url),
        }
        row["enabled"] = s.enabled
        row["interval_s"] = int(s.effective_interval(cfg.crawl).total_seconds())
        sources.append(row)
    plan = schedule.next_runs(db, cfg.sources, cfg.crawl, now=times.clock(), stagger=timedelta(0))
    attempts = schedule.last_attempts(db, [s.name for s in cfg.sources])
    for row in sources:
        due = plan.get(row["name"])
        row["next_run_at"] = times.iso(due) if due else None
        # a retry after a passing failure (backoff or Retry-After), not the interval
        last = attempts.get(row["name"])
        row["next_run_is_retry"] = bool(last and last.transient)
    for row in health.values():  # in the archive but no longer configured
        row["enabled"] = False
        sources.append(row)
    return {
        "config": config_file,
        "archive": cfg.archive.path,
        "problem": access_problem(cfg.archive.path),
        "counts": {**archive.counts(db), **schema.counts(db)},
        "alerts": outbox.status_counts(db),
        "targets": [
            {"name": t.name, "url": redact_url(t.url), "tags": t.tags} for t in cfg.targets
        ],
        "sources": sources,
        "daemon": daemon_state(db, cfg),
        "cluster": _cluster(cfg),
    }


def _cluster(cfg: Any) -> dict | None:
    """With a [cluster] section: its workers and queue (crawler/cluster/status.py)."""
    if getattr(cfg, "cluster", None) is None:
        return None
    from crawler.cluster.status import cluster_status

    return cluster_status(cfg.cluster)


def daemon_state(db, cfg: Any) -> dict:
    """The heartbeat's word, checked against the daemon's OS lock: a daemon that holds the
    lock runs even when its heartbeat is stale (it cannot write the archive), and one whose
    heartbeat is fresh but holds no lock is gone."""
    state = liveness.daemon_state(db, stale_after(cfg.daemon))
    holder = liveness.ArchiveLock(cfg.archive.path).holder()
    if holder is not None and not state.get("alive"):
        state.update(alive=True, seen=True, pid=holder if holder > 0 else state.get("pid"))
        state["stale"] = True  # running, but its heartbeat is not reaching the archive
    elif holder is None and state.get("alive") and state.get("host") == socket.gethostname():
        state["alive"] = False
    return state


def status_lines(report: dict) -> Iterator[dict]:
    """The report as JSON Lines rows, each naming its section (see `status --help`)."""
    for s in report["sources"]:
        yield {"section": "source", **s}
    for t in report["targets"]:
        yield {"section": "target", **t}
    yield {
        "section": "archive",
        "config": report["config"],
        "path": report["archive"],
        "problem": report["problem"],
        **report["counts"],
    }
    yield {"section": "alerts", **report["alerts"]}
    yield {"section": "daemon", **(report["daemon"] or {})}
    if report.get("cluster"):
        yield {"section": "cluster", **report["cluster"]}


def print_status(report: dict) -> None:
    """The report for people: a table of sources, then a line each for the rest."""

    def result(s: dict) -> str:
        if not s.get("last_attempt_at"):
            return "never fetched"
        return s.get("last_error_class") or str(s.get("last_status") or "")

    output.table(
        (
            "source",
            "kind",
            "last attempt",
            "last success",
            "result",
            "new/seen",
            "fails",
            "articles",
            "next run",
        ),
        (
            (
                s["name"] + ("" if s.get("enabled", True) else " (off)"),
                s.get("kind"),
                s.get("last_attempt_at"),
                s.get("last_success_at"),
                result(s),
                f"{s.get('items_new') or 0}/{s.get('items_seen') or 0}",
                s.get("consecutive_failures") or 0,
                s.get("articles") or 0,
                s.get("next_run_at")
                and s["next_run_at"] + (" (retry)" if s.get("next_run_is_retry") else ""),
            )
            for s in report["sources"]
        ),
    )
    d = report.get("daemon") or {}
    if report.get("problem"):
        output.line(
            f"ARCHIVE PROBLEM: {report['problem']}; nothing new is recorded until it is fixed, "
            "so the times above may be stale"
        )
    if d.get("alive") and (d.get("stale") or report.get("problem")):
        output.line(
            f"daemon: running (pid {d.get('pid')}), but its last heartbeat reached the "
            f"archive at {d.get('heartbeat_at')}: it cannot record its work"
        )
    elif d.get("alive"):
        output.line(
            f"daemon: running (pid {d['pid']} on {d['host']}, since {d['started_at']}, "
            f"{d['cycles']} cycles, last heartbeat {d['heartbeat_at']})"
        )
    elif d.get("seen"):
        output.line(f"daemon: not running (last seen {d['heartbeat_at']})")
    else:
        output.line("daemon: never started on this archive (`newswatch run`)")
    if report.get("cluster"):
        from crawler.cluster.status import summary

        output.line(summary(report["cluster"]))
    c = report["counts"]
    output.line(
        f"archive {report['archive']}: {counted(c['articles'], 'article')}, "
        f"{counted(c['stories'], 'story')}, {counted(c['matches'], 'match')}, "
        f"{counted(c['tier_statements'], 'tier statement')}"
    )
    if c.get("stopped_matches"):
        output.line(
            f"{c['stopped_matches']} watch evaluations stopped at the query bound, undecided "
            "(table stopped_matches)"
        )
    a = report["alerts"]
    output.line(
        f"alerts: {a.get('pending', 0)} pending, {a.get('sending', 0)} sending, "
        f"{a.get('sent', 0)} sent, {a.get('failed', 0)} failed"
        # first alerts of stories merged into one already sent: settled without a message
        + (f", {a['merged']} merged" if a.get("merged") else "")
    )
    if not report["targets"]:
        output.line(
            "no alert targets configured: alerts wait in the archive until you add a "
            "[[targets]] entry (an Apprise URL) to the config"
        )
