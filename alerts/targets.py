"""Alert targets as Apprise sees them: checking URLs, routing by name or tag, formats, sending."""

from __future__ import annotations

import re
import ssl
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from alerts.config import Target
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

    The Apprise object for a target is built once per thread and reused (see :func:`_sender`).
    """
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

    Measured with mailto:// to a local server: building the object per message cost about
    1 ms, but the SMTP plugin also built a TLS context (loading every CA certificate, 16-40
    ms here) for each message, plain connections included; :func:`_lazy_tls` defers that to
    the connections that use TLS. One object per thread because plugin objects keep state
    between sends (the last I/O time).

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

    _lazy_tls()
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


class _LazyContext:
    """An ``ssl.SSLContext`` stand-in built on first use; settings made before are replayed."""

    def __init__(self) -> None:
        object.__setattr__(self, "_settings", [])
        object.__setattr__(self, "_context", None)

    def _real(self) -> ssl.SSLContext:
        if self._context is None:
            context = ssl.create_default_context()
            for name, value in self._settings:
                setattr(context, name, value)
            object.__setattr__(self, "_context", context)
        return self._context

    def __getattr__(self, name: str):
        return getattr(self._real(), name)

    def __setattr__(self, name: str, value) -> None:
        if self._context is None:
            self._settings.append((name, value))
        else:
            setattr(self._context, name, value)


class _SSLShim:
    """The ``ssl`` module as Apprise's SMTP controller sees it, with a lazy default context."""

    def __getattr__(self, name: str):
        return getattr(ssl, name)

    @staticmethod
    def create_default_context(*args, **kwargs):
        if args or kwargs:
            return ssl.create_default_context(*args, **kwargs)
        return _LazyContext()


def _lazy_tls() -> None:
    """Make Apprise's SMTP controller build its TLS context only when a connection uses TLS.

    Applied only where the controller module imports ``ssl`` as this Apprise version does;
    elsewhere nothing changes (sends stay correct, only slower).
    """
    try:
        from apprise.plugins.email import smtp
    except ImportError:
        return
    if getattr(smtp, "ssl", None) is ssl:
        smtp.ssl = _SSLShim()


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
