"""Alert targets as Apprise sees them: checking URLs, routing by name or tag, formats, sending."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import apprise

from alerts.config import Target
from alerts.secrets import redact_text

FORMATS = ("text", "markdown", "html", "slack")

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def _instantiate(url: str):
    # Apprise logs a refused URL in full; keep that out of every log while we probe it.
    with apprise.LogCapture(level=apprise.logging.WARNING):
        return apprise.Apprise.instantiate(url)


def check_targets(targets: Sequence[Target]) -> list[tuple[str, str]]:
    """Problems with the targets' URLs as (key path, message); the message never holds the URL."""
    problems: list[tuple[str, str]] = []
    for i, t in enumerate(targets):
        m = _SCHEME.match(t.url)
        if not m:
            problems.append(
                (
                    f"targets[{i}].url",
                    f"target {t.name!r}: not an Apprise URL (expected scheme://..., "
                    "e.g. mailtos://, slack://, json://)",
                )
            )
            continue
        scheme = m.group(1).lower()
        if _instantiate(t.url) is None:
            reason = (
                "incomplete or invalid" if scheme in _schemes() else f"unknown scheme {scheme}://"
            )
            problems.append(
                (f"targets[{i}].url", f"target {t.name!r}: Apprise cannot use this URL ({reason})")
            )
    return problems


def _schemes() -> set[str]:
    from apprise.manager_plugins import NotificationManager

    return {s.lower() for s in NotificationManager().schemas()}


def route(targets: Sequence[Target], refs: Iterable[str]) -> list[Target]:
    """The targets a list of names and tags points at, each once, in config order."""
    wanted = set(refs)
    return [t for t in targets if t.name in wanted or wanted.intersection(t.tags)]


def target_format(target: Target) -> str:
    """The body format for a target: its ``format``, else what its Apprise service prefers."""
    obj = _instantiate(target.url)
    if target.format != "auto":
        return target.format
    if obj is None:
        return "text"
    from apprise.plugins.slack import NotifySlack

    if isinstance(obj, NotifySlack):
        return "slack"
    preferred = obj.notify_format
    if isinstance(preferred, (list, tuple)):
        preferred = preferred[0]
    return {"html": "html", "markdown": "markdown"}.get(str(preferred.value), "text")


@dataclass
class SendResult:
    """What happened to one message sent to one target."""

    ok: bool
    error: str | None = None


_APPRISE_FORMAT = {
    "text": apprise.NotifyFormat.TEXT,
    "markdown": apprise.NotifyFormat.MARKDOWN,
    "slack": apprise.NotifyFormat.MARKDOWN,
    "html": apprise.NotifyFormat.HTML,
}


def send(target: Target, title: str, body: str, fmt: str) -> SendResult:
    """Send one message through Apprise; the reason for a failure comes back redacted."""
    sender = apprise.Apprise()
    try:
        added = sender.add(target.url)
    except Exception as e:  # a URL Apprise cannot read must not stop the other targets
        return SendResult(False, redact_text(f"cannot use the target URL: {type(e).__name__}"))
    if not added:
        return SendResult(False, "Apprise cannot use the target URL")
    try:
        result = sender.notify(title=title, body=body, body_format=_APPRISE_FORMAT[fmt])
    except Exception as e:
        return SendResult(False, redact_text(f"{type(e).__name__}: {e}"))
    if result.status == apprise.AppriseResultStatus.SUCCESS:
        return SendResult(True)
    reasons = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
    reason = "; ".join(dict.fromkeys(reasons)) or f"Apprise reported {result.status.name}"
    return SendResult(False, redact_text(_scrub(reason, target.url))[:500])


def _scrub(text: str, url: str) -> str:
    """Remove every secret-looking piece of the target URL from a message."""
    parsed = apprise.utils.parse.parse_url(url, verify_host=False) or {}
    password = parsed.get("password")
    if password and len(password) >= 3:
        text = text.replace(password, "****")
    for part in re.split(r"[/?&=:@]", url.split("://", 1)[-1]):
        if len(part) >= 12:  # tokens: long path segments and query values
            text = text.replace(part, "****")
    return text


def send_test(target: Target) -> SendResult:
    """Send a short test message to one target, in its format."""
    fmt = target_format(target)
    body = {
        "html": "<p>This is a test message from <b>newswatch</b>: this target works.</p>",
    }.get(fmt, "This is a test message from newswatch: this target works.")
    return send(target, f"newswatch test message for {target.name}", body, fmt)
