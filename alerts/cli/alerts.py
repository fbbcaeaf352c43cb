"""`newswatch alerts ...`: the targets and the outbox (test, list, preview, retry)."""

from __future__ import annotations

import sys

import click

from alerts import outbox
from alerts.secrets import redact_text, redact_url, remember
from crawler.cli import exits, output
from crawler.cli.context import Context, config_option, json_option, pass_ctx
from crawler.words import counted


@click.group()
def alerts() -> None:
    """Alert targets and the outbox: test, list, preview, retry."""


@alerts.command("test")
@click.argument("target", required=False)
@config_option
@pass_ctx
def alerts_test(obj: Context, target: str | None) -> None:
    """Send a test message to every target (or one) and report each result.

    Exit code 0 when every target worked, 1 when some failed, 3 when all failed."""
    from alerts.targets import send_test

    cfg = obj.config
    remember(t.url for t in cfg.targets)  # an error that quotes a token shows it masked
    chosen = [t for t in cfg.targets if target is None or t.name == target]
    if not cfg.targets:
        raise click.UsageError(
            f"no alert targets in {obj.path}: add a [[targets]] entry with an Apprise URL"
        )
    if not chosen:
        known = ", ".join(t.name for t in cfg.targets)
        raise click.BadParameter(
            f"no target named {target!r} (targets: {known})", param_hint="TARGET"
        )
    failures = 0
    for t in chosen:
        result = send_test(t)
        shown = f"{t.name} ({redact_url(t.url)})"
        if result.ok:
            output.line(f"ok      {shown}")
        else:
            failures += 1
            output.line(f"FAILED  {shown}: {result.error}")
    sys.exit(exits.outcome(len(chosen) - failures, failures))


@alerts.command("list")
@click.option("--status", type=click.Choice(outbox.STATUSES), help="Only alerts in this state.")
@click.option(
    "--limit", default=50, show_default=True, type=click.IntRange(1, 100_000), help="Most rows."
)
@json_option
@config_option
@pass_ctx
def alerts_list(obj: Context, status: str | None, limit: int, as_json: bool) -> None:
    """List outbox rows, newest first: watch, target, state, attempts, last error.

    With --json, one line per outbox row: {"id", "watch", "target", "mode", "status",
    "attempts", "next_attempt_at", "sent_at", "last_error", "title", ...}.
    """
    remember(t.url for t in obj.config.targets)
    rows = outbox.list_alerts(obj.open_archive(), status=status, limit=limit)
    for r in rows:  # errors stored by older versions may quote a token
        if r.get("last_error"):
            r["last_error"] = redact_text(r["last_error"])
    if as_json:
        output.json_lines(rows)
        return
    if not rows:
        output.line("no alerts" + (f" with status {status}" if status else ""), err=True)
        return
    output.table(
        ("id", "watch", "target", "mode", "status", "tries", "next/sent", "title", "error"),
        (
            (
                r["id"],
                r["watch"],
                r["target"],
                r["mode"],
                r["status"],
                r["attempts"],
                r["sent_at"] or r["next_attempt_at"],
                (r["title"] or "")[:60],
                r["last_error"],
            )
            for r in rows
        ),
    )


@alerts.command("preview")
@click.option("--watch", metavar="NAME", help="Only this watch's messages.")
@click.option("--target", metavar="NAME", help="Only the messages to this target.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "html", "slack"]),
    help="Render in this format (default: each target's own, as it would be sent).",
)
@json_option
@config_option
@pass_ctx
def alerts_preview(
    obj: Context, watch: str | None, target: str | None, fmt: str | None, as_json: bool
) -> None:
    """Show the next messages the outbox would send: subject and body, built as delivery
    builds them. Nothing is sent or marked.

    Everything waiting counts, whenever it is due: a digest watch shows its next digest,
    an immediate watch one alert per waiting story. With --json, one line per message:
    {"watch", "target", "kind", "format", "subject", "body", "alerts", "stories", "due"}.
    """
    from alerts.preview import preview
    from crawler.suggest import did_you_mean

    cfg = obj.config
    for value, known, flag in (
        (watch, [w.name for w in cfg.watches], "--watch"),
        (target, [t.name for t in cfg.targets], "--target"),
    ):
        if value is not None and value not in known:
            raise click.BadParameter(
                f"no such name {value!r} in {obj.path}{did_you_mean(value, known)}",
                param_hint=flag,
            )
    remember(t.url for t in cfg.targets)
    messages = preview(
        obj.open_archive(),
        cfg.watches,
        cfg.targets,
        cfg.delivery,
        watch=watch,
        target=target,
        fmt=fmt,
        base_url=cfg.serve.base_url,
        tier_formulas=cfg.gazetteer.tier_formulas,
    )
    if as_json:
        output.json_lines(m.as_dict() for m in messages)
        return
    if not messages:
        which = f" for watch {watch!r}" if watch else ""
        which += f" to target {target!r}" if target else ""
        output.line(f"nothing waiting{which}: no alert or digest would go out", err=True)
        return
    for i, m in enumerate(messages):
        stories = counted(m.stories, "story")
        when = f", due {m.due}" if m.due else ""
        if i:
            output.line()
        output.line(f"=== {m.kind} to {m.target} ({m.format}, {stories}{when}): {m.watch}")
        output.line(f"Subject: {m.subject}")
        output.line()
        output.line(m.body.rstrip("\n"))


@alerts.command("retry")
@click.argument("ids", nargs=-1, type=int, metavar="[ID]...")
@click.option("--failed", is_flag=True, help="Retry every failed alert.")
@config_option
@pass_ctx
def alerts_retry(obj: Context, ids: tuple[int, ...], failed: bool) -> None:
    """Make failed (or pending) alerts due again now, with a fresh attempt count.

    Exit code 1 when some IDs do not exist, 3 when none does."""
    if not ids and not failed:
        raise click.UsageError("give alert IDs (see `newswatch alerts list`) or --failed")
    db = obj.open_archive()
    known = outbox.statuses(db, ids)
    n = outbox.retry(db, ids, failed=failed)
    output.line(f"{n} alert(s) will be sent in the next delivery")
    missing = [str(i) for i in ids if i not in known]
    # merged: its story merged into one this watch and target were sent (outbox.superseded)
    sent = [str(i) for i in ids if known.get(i) in ("sent", "merged")]
    if missing:
        output.line(
            f"no alert with id {', '.join(missing)} (see `newswatch alerts list`)", err=True
        )
    if sent:
        output.line(
            f"already sent (or merged into a story sent), not sent again: {', '.join(sent)}",
            err=True,
        )
    sys.exit(exits.outcome(len(ids) - len(missing), len(missing)))
