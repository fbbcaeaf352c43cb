"""Alert targets as Apprise sees them: checking URLs, routing by name or tag, formats, sending."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from alerts.config import Target
from alerts.mail_session import BOUND, MailSession, email_plugin
from alerts.secrets import MASK, redact_text, secret_parts

if TYPE_CHECKING:
    import apprise

# Apprise is imported where it is used: importing it costs about 0.1 s, which every CLI
# command would pay through the config check even with no target configured.

FORMATS = ("text", "markdown", "html", "slack")

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def _instantiate(url: str):
    return _instantiate_why(url)[0]


def _instantiate_why(url: str):
    """Apprise's plugin for ``url`` (or None) and Apprise's own reason for refusing it
    ("Invalid ~From~ email specified"), secrets scrubbed."""
    import apprise

    # Apprise logs a refused URL in full; keep that out of every log while we probe it,
    # and keep its reason, the one thing that tells the user what to change.
    with apprise.LogCapture(level=apprise.logging.WARNING, fmt="%(message)s") as logs:
        plugin = apprise.Apprise.instantiate(url)
    lines = [s.strip(" :") for s in logs.getvalue().splitlines()]
    reasons = [s for s in lines if s and not s.startswith("Could not load")]
    return plugin, redact_text(_scrub("; ".join(dict.fromkeys(reasons)), url))[:300]


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
        reserved = _reserved_in_userinfo(t.url)
        if reserved:
            problems.append(
                (
                    f"targets[{i}].url",
                    f"target {t.name!r}: the user name or password contains {reserved!r}, "
                    f"which ends that part of a URL, so this target could never send: "
                    f"write it as {quote(reserved, safe='')!r}",
                )
            )
            continue
        plugin, why = _instantiate_why(t.url)
        if plugin is None:
            reason = (
                (why or "incomplete or invalid")
                if scheme in _schemes()
                else f"unknown scheme {scheme}://"
            )
            problems.append(
                (f"targets[{i}].url", f"target {t.name!r}: Apprise cannot use this URL ({reason})")
            )
    return problems


def _reserved_in_userinfo(url: str) -> str | None:
    """A '#' or '?' inside the password of ``user:password@host`` (Apprise reads the rest
    as a fragment or a query, and would log in with a cut password), else None."""
    rest = url.split("://", 1)[-1]
    userinfo = rest.split("@", 1)[0] if "@" in rest else ""
    if "/" in userinfo or ":" not in userinfo:
        return None
    password = userinfo.split(":", 1)[1]
    if "#" in password:
        return "#"
    if "?" in password and not password.split("?", 1)[0].isdigit():  # host:587?to=a@b
        return "?"
    return None


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
    from apprise.plugins.discord import NotifyDiscord
    from apprise.plugins.slack import NotifySlack

    if isinstance(obj, NotifySlack):
        return "slack"
    if isinstance(obj, NotifyDiscord):
        return "markdown"  # Discord renders Markdown in any message: escape for it
    preferred = obj.notify_format
    if isinstance(preferred, (list, tuple)):
        preferred = preferred[0]
    return {"html": "html", "markdown": "markdown"}.get(str(preferred.value), "text")


@dataclass
class SendResult:
    """What happened to one message sent to one target."""

    ok: bool
    error: str | None = None


_APPRISE_FORMAT = {"text": "text", "markdown": "markdown", "slack": "markdown", "html": "html"}


def send(target: Target, title: str, body: str, fmt: str) -> SendResult:
    """Send one message through Apprise; the reason for a failure comes back redacted.

    An email target's message goes over its own SMTP session (see :class:`Sender`); any
    other target's Apprise object is built once per thread and reused (see :func:`_sender`).
    """
    with Sender() as sender:
        return sender.send(target, title, body, fmt)


class Sender:
    """Sends one send loop's messages, as :func:`send` does each, but an email target's
    (mailto://, mailtos://) over one SMTP session, opened at its first message and closed
    (QUIT) by :meth:`close`: one session per loop per delivery pass, never held between
    passes. Each message is bounded by ``bound`` seconds, as Apprise bounds a notify().
    Not thread-safe: one per send loop."""

    def __init__(self, bound: float = BOUND) -> None:
        self.bound = bound
        self._sessions: dict[str, MailSession | None] = {}

    def send(self, target: Target, title: str, body: str, fmt: str) -> SendResult:
        """Send one message to ``target``; a failure's reason comes back redacted."""
        session = self._session(target.url)
        if session is None:
            return _notify(target, title, body, fmt)
        import apprise

        error = session.send(title, body, apprise.NotifyFormat(_APPRISE_FORMAT[fmt]))
        if error is None:
            return SendResult(True)
        return SendResult(False, redact_text(_scrub(error, target.url))[:500])

    def close(self) -> None:
        """End every open SMTP session (QUIT)."""
        for session in self._sessions.values():
            if session is not None:
                session.close()
        self._sessions.clear()

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _session(self, url: str) -> MailSession | None:
        if url not in self._sessions:
            m = _SCHEME.match(url)
            plugin = None
            if m and m.group(1).lower() in ("mailto", "mailtos"):
                try:
                    plugin = email_plugin(url)
                except Exception:  # noqa: BLE001 - the notify path says why
                    plugin = None
            self._sessions[url] = MailSession(plugin, self.bound) if plugin else None
        return self._sessions[url]


def _notify(target: Target, title: str, body: str, fmt: str) -> SendResult:
    """One message through this thread's Apprise object for the target."""
    import apprise

    try:
        sender = _sender(target.url)
    except Exception as e:  # a URL Apprise cannot read must not stop the other targets
        return SendResult(False, redact_text(f"cannot use the target URL: {type(e).__name__}"))
    if sender is None:
        return SendResult(False, "Apprise cannot use the target URL")
    try:
        result = sender.notify(
            title=title, body=body, body_format=apprise.NotifyFormat(_APPRISE_FORMAT[fmt])
        )
    except Exception as e:
        return SendResult(False, redact_text(f"{type(e).__name__}: {e}"))
    if result.status == apprise.AppriseResultStatus.SUCCESS:
        return SendResult(True)
    reasons = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
    reason = "; ".join(dict.fromkeys(reasons)) or f"Apprise reported {result.status.name}"
    return SendResult(False, redact_text(_scrub(reason, target.url))[:500])


_local = threading.local()


def _sender(url: str) -> apprise.Apprise | None:
    """This thread's Apprise object for ``url`` (None when Apprise cannot use it).

    Building the object per message cost about 1 ms. One object per thread because plugin
    objects keep state between sends (the last I/O time). Email targets do not come here
    (see :class:`Sender`).

    Apprise's default 60 s service timeout is kept: every notify() is handed to Apprise's
    own pool and waited for at most that long. Sending in the calling thread instead
    (``service_timeout=0``) saved about 1 ms of CPU a message, but then nothing bounds a send:
    the plugins' socket timeouts (SMTP: 15 s) are per read, so a server that trickles a byte
    every few seconds held the delivery pass, and with it matching, every other target and the
    next collections, for hours (found in review). The cost of the bound: a send Apprise stops
    waiting for may still finish in its pool while the next message leaves.
    """
    cache = getattr(_local, "senders", None)
    if cache is None:
        cache = _local.senders = {}
    if url in cache:
        return cache[url]
    import apprise

    sender = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False))
    if not sender.add(url):
        sender = None
    else:
        for plugin in sender:
            # A fresh plugin object never waits (no I/O yet); a reused one would sleep its
            # request_rate_per_sec (5.5 s for SMTP) between messages. Keep the fresh
            # object's behaviour: pacing is the outbox's job (max_per_hour, backoff).
            plugin.request_rate_per_sec = 0
    cache[url] = sender
    return sender


def _scrub(text: str, url: str) -> str:
    """Remove every secret-looking piece of the target URL from a message."""
    import apprise.utils.parse

    parsed = apprise.utils.parse.parse_url(url, verify_host=False) or {}
    password = parsed.get("password")
    if password and len(password) >= 3:
        text = text.replace(password, MASK)
    for part in secret_parts(url):
        text = text.replace(part, MASK)
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
