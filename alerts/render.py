"""Turning alerts into messages: Jinja2 templates per format, with untrusted text escaped.

Templates ship in ``alerts/templates`` and a directory named by ``[delivery] templates`` in the
config overrides them file by file. Every ``{{ value }}`` is escaped for the format it lands in
(HTML-escaped in HTML, Markdown and Slack control syntax neutralised, control characters
dropped in text, chat mentions such as @everyone or <@&role> made inert in every format,
titles escaped for Markdown and Slack too), so a template author cannot forget it. Subjects are one line, cut short.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import quote

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined
from markupsafe import Markup

SUBJECT_MAX = 150
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
_SLACK_MENTION = re.compile(r"([@!])(here|channel|everyone|group)\b", re.I)
# A mention in the chat services Apprise speaks: @everyone, @here, @channel, @room, @all,
# @user (Slack, Discord, Mattermost, Rocket.Chat, Matrix, Telegram, Zulip), and the
# bracketed forms <@U1>, <@!1>, <@&role>, <#chan>, <!channel>. An '@' inside a word (an
# e-mail address) is left alone.
_MENTION = re.compile(r"(?<![\w.@])([@!#])(?=[\w&!*])")
WORD_JOINER = "\u2060"  # invisible: '@\u2060everyone' reads the same and notifies no one
_EXTENSION = {"text": "txt", "markdown": "md", "slack": "md", "html": "html"}


class Raw(str):
    """Text a filter already made safe for its format: finalize leaves it alone."""


def clean_text(value: object) -> str:
    """Plain text without control characters (newlines and tabs kept)."""
    text = "" if value is None else str(value)
    if text.isascii() and text.isprintable():  # most values: nothing to drop (no regex pass)
        return text
    return _CONTROL.sub("", text.replace("\r\n", "\n"))


def subject_line(value: object, limit: int = SUBJECT_MAX) -> str:
    """One line: control characters and newlines gone, spaces collapsed, cut to ``limit``."""
    text = " ".join(clean_text(value).split())
    # After the split only " " is left of the separators, so a printable text has no
    # character of category C: the per-character pass is for the others alone.
    if not text.isprintable():
        text = "".join(c for c in text if unicodedata.category(c)[0] != "C")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def no_mentions(value: object) -> str:
    """Untrusted text with every chat mention made inert (a word joiner after its '@',
    '!' or '#'), still readable."""
    text = clean_text(value)
    if "@" not in text and "!" not in text and "#" not in text:  # no mention can start
        return text
    return _MENTION.sub(lambda m: m.group(1) + WORD_JOINER, text)


def md_escape(value: object) -> str:
    """Markdown-escape untrusted text, make inline HTML inert, neutralise mentions."""
    text = _MD_SPECIAL.sub(r"\\\1", no_mentions(value))
    return text.replace("<", "&lt;")


def slack_escape(value: object) -> str:
    """Neutralise Slack syntax: <!channel>, <!here>, <@U...>, <url|text>, @here, [links]."""
    text = no_mentions(value)
    # Apprise passes <...> through to Slack as markup, so angle brackets become look-alikes.
    text = text.translate(str.maketrans({"<": "‹", ">": "›", "[": "［", "]": "］", "|": "¦"}))
    text = _SLACK_MENTION.sub(lambda m: m.group(1) + WORD_JOINER + m.group(2), text)
    return text.replace("`", "'").replace("*", "∗").replace("_", " ").replace("~", "∼")


def safe_url(value: object) -> str:
    """An http(s) URL, or empty: no javascript:, data: or other schemes in a message."""
    text = clean_text(value).strip()
    return text if re.match(r"^https?://", text, re.I) else ""


def _finalizer(escape):
    def finalize(value):
        if isinstance(value, Raw | Markup):
            return value
        return escape(value)

    return finalize


def _md_url(value: object) -> Raw:
    return Raw(quote(safe_url(value), safe=":/?&=#%@+,;~!$'*"))


def _slack_url(value: object) -> Raw:
    return Raw(quote(safe_url(value), safe=":/?&=#%@+,;~!$'*"))


class Renderer:
    """Renders the templates for one config: ``render(kind, fmt, **context)``."""

    def __init__(
        self,
        templates: str | Path | None = None,
        *,
        excerpt_chars: int = 300,
        base_url: str | None = None,
    ):
        self.excerpt_chars = excerpt_chars
        #: ``[serve] base_url``: where `newswatch serve` is reached; ``story_url(id)`` in a
        #: template gives a story's page there, or "" when it is not set
        self.base_url = base_url
        loaders = []
        if templates:
            loaders.append(FileSystemLoader(str(templates)))
        loaders.append(PackageLoader("alerts", "templates"))
        loader = ChoiceLoader(loaders)
        # auto_reload off: a Renderer lives for one delivery pass (each pass makes its own, so
        # an edited template is read by the next one); with it on, every message asked the
        # file system whether each of its two templates had changed
        common = {
            "loader": loader,
            "undefined": StrictUndefined,
            "trim_blocks": True,
            "auto_reload": False,
        }
        self.envs = {
            # mentions are neutralised in every format: a chat service may get any of them
            "html": Environment(autoescape=True, finalize=_finalizer(no_mentions), **common),
            "text": Environment(autoescape=False, finalize=_finalizer(no_mentions), **common),
            "markdown": Environment(autoescape=False, finalize=_finalizer(md_escape), **common),
            "slack": Environment(autoescape=False, finalize=_finalizer(slack_escape), **common),
            "subject": Environment(autoescape=False, finalize=_finalizer(clean_text), **common),
        }
        self.envs["html"].filters["url"] = safe_url
        self.envs["text"].filters["url"] = lambda v: Raw(safe_url(v))
        self.envs["subject"].filters["url"] = lambda v: Raw(safe_url(v))
        self.envs["markdown"].filters["url"] = _md_url
        self.envs["slack"].filters["url"] = _slack_url
        for env in self.envs.values():
            env.globals["story_url"] = self.story_url
        self.envs["subject"].globals["headline_subject"] = lambda *a: Raw(headline_subject(*a))
        self._templates: dict[tuple[str, str], object] = {}

    def story_url(self, story_id: object) -> str:
        """The page of a story in `newswatch serve`, or "" without a base URL or a story."""
        if not self.base_url or not isinstance(story_id, int):
            return ""
        return f"{self.base_url.rstrip('/')}/archive/stories/{story_id}"

    def _template(self, env: str, name: str):
        # Jinja2's own cache is keyed by loader and name behind a lock: a dict is cheaper
        key = (env, name)
        template = self._templates.get(key)
        if template is None:
            template = self._templates[key] = self.envs[env].get_template(name)
        return template

    def render(self, kind: str, fmt: str, **context) -> tuple[str, str]:
        """Subject and body of a ``kind`` message (alert, digest, health) for format ``fmt``."""
        subject = self._template("subject", f"{kind}.subject.j2").render(**context)
        body = self._template(fmt, f"{kind}.{_EXTENSION[fmt]}.j2").render(**context)
        # Chat services read mentions in titles too, and Markdown ones render the title
        # (Discord's embed title, a bold first line): escaped like the body.
        subject = no_mentions(subject_line(subject))  # after: it drops format characters
        if fmt == "slack":
            subject = slack_escape(subject)
        elif fmt == "markdown":
            subject = md_escape(subject)
        return subject, body.strip() + "\n"


def headline_subject(
    prefix: object, title: object, tag: object = "", limit: int = SUBJECT_MAX
) -> str:
    """``[watch] Headline (AZ +7)`` in at most ``limit`` characters: the headline is what
    gets cut (with "…"), so the watch before it and the country tag after it always show."""
    head = subject_line(prefix, limit)
    head = f"{head} " if head else ""
    tail = subject_line(tag, limit)
    tail = f" {tail}" if tail else ""
    room = max(limit - len(head) - len(tail), 1)
    return head + subject_line(title, room) + tail


def country_tag(codes: list[str]) -> str:
    """``(AZ +7)``: the first country code and how many others; "" without countries."""
    if not codes:
        return ""
    return f"({codes[0]} +{len(codes) - 1})" if len(codes) > 1 else f"({codes[0]})"


def _term_text(term: object) -> str:
    return str(term[0] if isinstance(term, list | tuple) else term or "")


def matched_phrases(terms: list) -> list[str]:
    """The phrases that made a watch fire, as a person reads them: one per case-insensitive
    spelling (the first seen kept), and no word or phrase that is only part of a longer
    matched phrase ("persons" beside "Trafficking in Persons")."""
    first: dict[str, str] = {}
    for term in terms:
        text = " ".join(_term_text(term).split())
        if text:
            first.setdefault(text.casefold(), text)
    keys = list(first)
    kept = [
        k
        for k in keys
        if not any(
            other != k and re.search(rf"(?<!\w){re.escape(k)}(?!\w)", other) for other in keys
        )
    ]
    return [first[k] for k in kept]


def excerpt(text: str | None, terms: list, chars: int) -> str:
    """About ``chars`` characters of ``text`` centred on the first place a matched term
    occurs (the earliest in the text, whichever term it is); the start without a match."""
    words = [w for t in terms if (w := _term_text(t).lower())]
    if not words:
        # the start is all that is shown: normalise only as much of a long article as it
        # takes (a whitespace-collapsed prefix is a prefix of the collapsed whole)
        head = " ".join((text or "")[: chars * 2 + 64].split())
        if len(head) > chars:
            return head[:chars].rsplit(" ", 1)[0] + " …"
    text = " ".join((text or "").split())
    if len(text) <= chars:
        return text
    folded = text.lower()  # lower(), not casefold(): offsets must stay those of ``text``
    at, size = -1, 0
    for word in words:
        found = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", folded)
        if found and (at < 0 or found.start() < at):
            at, size = found.start(), len(word)
    if at < 0:
        return text[:chars].rsplit(" ", 1)[0] + " …"
    start = max(0, at + size // 2 - chars // 2)
    end = min(len(text), start + chars)
    start = max(0, end - chars)
    piece = text[start:end]
    if start > 0:
        piece = "… " + piece.split(" ", 1)[-1]
    if end < len(text):
        piece = piece.rsplit(" ", 1)[0] + " …"
    return piece
