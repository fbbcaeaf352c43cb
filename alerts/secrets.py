"""Keeping secrets out of what people see: URL redaction and a logging filter."""

from __future__ import annotations

import logging
import re

# user:password@ in any scheme://, and the usual secret-bearing query parameters.
_USERINFO = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@"
)
_QUERY = re.compile(
    r"(?P<key>[?&](?:pass|password|pwd|token|secret|apikey|api_key|key|access_token|webhook)=)[^&\s]+",
    re.I,
)
# Tokens that sit in the path of webhook-style URLs (Slack, Discord, Telegram, ...).
_PATH_TOKEN = re.compile(
    r"(?P<scheme>(?:slack|discord|tgram|msteams|hooks?|json|jsons)://)(?P<rest>[^\s?]+)", re.I
)


def redact_url(url: str) -> str:
    """A URL as it may be shown: passwords, tokens and webhook paths replaced by ****."""
    try:
        import apprise

        obj = apprise.Apprise.instantiate(url)
        if obj is not None:
            return obj.url(privacy=True)
    except Exception:  # Apprise cannot read it: fall back to our own rules
        pass
    return redact_text(url)


def redact_text(text: str) -> str:
    """Replace anything that looks like a credential inside free text."""
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:****@", text)
    text = _QUERY.sub(lambda m: f"{m['key']}****", text)
    text = _PATH_TOKEN.sub(lambda m: m["scheme"] + _mask_path(m["rest"]), text)
    return text


def _mask_path(rest: str) -> str:
    parts = rest.split("/")
    return "/".join(p if i == 0 else ("****" if len(p) >= 6 else p) for i, p in enumerate(parts))


class RedactingFilter(logging.Filter):
    """A logging filter that redacts credentials in every record's message and arguments."""

    def __init__(self, secrets: list[str] | None = None):
        super().__init__()
        self.secrets = [s for s in (secrets or []) if s and len(s) >= 4]

    def scrub(self, text: str) -> str:
        text = redact_text(text)
        for s in self.secrets:
            text = text.replace(s, "****")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        record.msg = self.scrub(message)
        record.args = ()
        return True
