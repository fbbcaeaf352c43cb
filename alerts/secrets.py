"""Keeping secrets out of what people see: target URL masking, free-text redaction, and the
logging filter that applies both to every record (message, extra fields, exception text).

A target URL is masked by our own reading of it, not by Apprise's privacy form (which shows
path tokens, ``+Header`` and ``-query`` values of json://, xml:// and form:// whole): the user
and password, a host that is a token (``tgram://123:ABC/``, ``discord://id/token``), every
path segment but a few plain words (``/services/****/****/****``), every query value but
Apprise's harmless options, and the fragment. Each secret piece of the configured targets is
also remembered (:func:`remember`), so that it is replaced wherever it turns up later: an
exception text, an HTTP library's error, a JSON log's extra field.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, unquote

from crawler import env_secrets

MASK = "****"

# user:password@ in any scheme://, and the usual secret-bearing query parameters.
_USERINFO = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@"
)
_QUERY = re.compile(
    r"(?P<key>[?&](?:pass|password|pwd|token|secret|apikey|api_key|key|access_token|webhook)=)[^&\s]+",
    re.I,
)
# A URL in free text whose scheme is not a web page's: an Apprise target, masked whole.
_TARGET_IN_TEXT = re.compile(r"\b(?!https?://)[A-Za-z][A-Za-z0-9+.-]{1,20}://[^\s'\"<>]+")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_HOSTNAME = re.compile(
    r"^(localhost|\[[0-9A-Fa-f:.]+\]|\d{1,3}(\.\d{1,3}){3}|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$",
    re.I,
)

#: Path segments shown as they are: words that name an endpoint, never a credential.
PLAIN_SEGMENTS = frozenset(
    [
        "api",
        "services",
        "hooks",
        "webhook",
        "webhooks",
        "notify",
        "notification",
        "notifications",
        "message",
        "messages",
        "send",
        "post",
        "bot",
        "v1",
        "v2",
        "v3",
        "v4",
        "json",
        "xml",
        "form",
    ]
)
#: Apprise's own options, whose values say how to send and carry no secret.
PLAIN_QUERY_KEYS = frozenset(
    [
        "format",
        "overflow",
        "method",
        "retry",
        "wait",
        "optional",
        "mode",
        "secure",
        "verify",
        "rto",
        "cto",
        "emojis",
        "tz",
        "batch",
        "image",
        "footer",
        "discovery",
        "smtp",
        "port",
        "priority",
    ]
)

_known: set[str] = set()
_known_lock = threading.Lock()


def _mask_netloc(netloc: str) -> str:
    userinfo, at, hostport = netloc.rpartition("@")
    shown = f"{MASK}:{MASK}@" if ":" in userinfo else (f"{MASK}@" if at else "")
    host, port = hostport, ""
    if hostport.startswith("["):  # [IPv6]:port
        end = hostport.find("]")
        host, port = hostport[: end + 1], hostport[end + 1 :].lstrip(":")
    elif ":" in hostport:
        host, port = hostport.split(":", 1)
    if host and not _HOSTNAME.match(host):
        host = MASK  # a token in the host's place (tgram://TOKEN/, discord://ID/TOKEN)
    if port and not port.isdigit():
        port = MASK
    return shown + host + (f":{port}" if port else "")


def _mask_query(query: str) -> str:
    out = []
    for pair in query.split("&"):
        if not pair:
            continue
        key, eq, value = pair.partition("=")
        plain = unquote(key).lower() in PLAIN_QUERY_KEYS and len(value) <= 16
        out.append(key + (eq + (value if plain else MASK) if eq else ""))
    return "&".join(out)


def mask_url(url: str) -> str:
    """A target URL with every credential-bearing part masked (see the module docstring)."""
    m = _SCHEME.match(url)
    if not m:
        return MASK
    rest = url[m.end() :]
    rest, hash_, _fragment = rest.partition("#")
    # '#' also starts a channel in some schemes (slack://a/b/c/#news); shown masked either way
    rest, q, query = rest.partition("?")
    netloc, slash, path = rest.partition("/")
    segments = [s if (s.lower() in PLAIN_SEGMENTS or not s) else MASK for s in path.split("/")]
    shown = (
        m.group(0) + _mask_netloc(netloc) + slash + "/".join(segments)
        if slash
        else (m.group(0) + _mask_netloc(netloc))
    )
    if q:
        shown += "?" + _mask_query(query)
    if hash_:
        shown += "#" + MASK
    return shown


def redact_url(url: str) -> str:
    """A URL as it may be shown: for an Apprise target, :func:`mask_url`; for a web page
    (http, https), only its password and secret-looking query values go."""
    if re.match(r"^https?://", url, re.I):
        return redact_text(url)
    return mask_url(url)


def secret_parts(url: str) -> list[str]:
    """The pieces of a target URL that are secrets, each as written, percent-decoded and
    percent-encoded, for finding them again in free text: the password always; a token
    host, path segments, query values and the fragment when they look like a token (six
    characters or more with a digit or a capital, or twelve or more), so that a plain word
    such as a path's ``alerts`` is not masked all over the logs. :func:`mask_url` hides
    more than this when it shows the URL itself."""
    m = _SCHEME.match(url)
    if not m:
        return [url] if len(url) >= 4 else []
    rest = url[m.end() :]
    rest, _, fragment = rest.partition("#")
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    userinfo, _, hostport = netloc.rpartition("@")
    always = [userinfo.split(":", 1)[1]] if ":" in userinfo else []
    maybe = [fragment]
    host = hostport.split(":", 1)
    if host[0] and not _HOSTNAME.match(host[0]):
        maybe += [hostport, *host]
    maybe += [s for s in path.split("/") if s.lower() not in PLAIN_SEGMENTS]
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if unquote(key).lower() not in PLAIN_QUERY_KEYS:
            maybe.append(value)
    parts = always + [p for p in maybe if _looks_secret(unquote(p))]
    found: set[str] = set()
    for p in parts:
        for form in (p, unquote(p), quote(unquote(p), safe="")):
            if len(form) >= 4:
                found.add(form)
    return sorted(found, key=len, reverse=True)


def _looks_secret(piece: str) -> bool:
    if len(piece) >= 12:
        return True
    return len(piece) >= 6 and any(c.isdigit() or c.isupper() for c in piece)


def remember(urls: Iterable[str]) -> None:
    """Remember the secret pieces of these target URLs: :func:`redact_text` (and so every
    log record and error shown) replaces them wherever they appear."""
    pieces = {p for url in urls for p in secret_parts(url)}
    with _known_lock:
        _known.update(pieces)


def redact_text(text: str) -> str:
    """Replace anything that looks like a credential inside free text: any URL whose
    scheme is not a web page's is masked whole (:func:`mask_url`), then
    :func:`redact_login`."""
    return redact_login(_TARGET_IN_TEXT.sub(lambda m: mask_url(m.group(0)), text))


def redact_login(text: str) -> str:
    """The lighter redaction for web addresses and their errors (a source's URL, a
    fetch error): a password in ``user:password@``, secret-looking query values and the
    targets' remembered secret pieces go; other schemes' URLs stay readable
    (``HTTP 302 to file:///etc/passwd`` says what was refused). A value the config took
    from the environment is shown as its ``${VAR}`` (crawler/env_secrets.py)."""
    text = env_secrets.conceal(text)
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    text = _QUERY.sub(lambda m: f"{m['key']}{MASK}", text)
    if _known:
        with _known_lock:
            known = sorted(_known, key=len, reverse=True)
        for piece in known:
            if piece in text:
                text = text.replace(piece, MASK)
    return text


def redact_value(value: Any) -> Any:
    """:func:`redact_text` through strings inside dicts, lists and tuples (log fields)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(v) for v in value)
    if isinstance(value, BaseException):
        return redact_text(repr(value))
    return value


_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class RedactingFilter(logging.Filter):
    """A logging filter that redacts credentials in every record: its message, its
    ``extra`` fields and its exception text."""

    _formatter = logging.Formatter()

    def __init__(self, secrets: list[str] | None = None):
        super().__init__()
        self.secrets = sorted((s for s in (secrets or []) if s and len(s) >= 4), key=len)[::-1]

    def scrub(self, text: str) -> str:
        text = redact_text(text)
        for s in self.secrets:
            text = text.replace(s, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        record.msg = self.scrub(message)
        record.args = ()
        for key, value in list(vars(record).items()):
            if key not in _STANDARD:
                setattr(record, key, self._scrub_value(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True

    def _scrub_value(self, value: Any) -> Any:
        value = redact_value(value)
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {k: self._scrub_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self._scrub_value(v) for v in value)
        return value
