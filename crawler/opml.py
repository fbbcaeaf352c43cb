"""OPML 2.0: the feed list every feed reader imports and exports (Miniflux, FreshRSS,
Feedly, NetNewsWire...), to and from ``[[sources]]``.

Reading takes every ``<outline>`` with an ``xmlUrl`` at any depth (readers nest feeds in
category outlines); the name comes from its title or text. Writing gives one outline per
feed source, ``type="rss"``, with the source's name as text and title.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from crawler.times import rfc822


class OPMLError(ValueError):
    """A file that is no OPML (the message says what is wrong)."""


@dataclass(frozen=True)
class Outline:
    """One feed of an OPML file."""

    title: str
    url: str  # xmlUrl
    html_url: str | None = None
    category: str | None = None


def slug(text: str) -> str:
    """A source name from a feed's title: lower case, words joined by '-'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def read(data: bytes | str) -> list[Outline]:
    """The feeds of an OPML document, in document order, each URL once."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise OPMLError(f"not XML: {e}") from None
    if root.tag != "opml":
        raise OPMLError(f"not OPML: the root element is <{root.tag}>, not <opml>")
    body = root.find("body")
    if body is None:
        raise OPMLError("not OPML: no <body>")
    out: list[Outline] = []
    seen: set[str] = set()

    def walk(node: ET.Element, category: str | None) -> None:
        for child in node.findall("outline"):
            url = (child.get("xmlUrl") or child.get("xmlurl") or "").strip()
            title = (child.get("title") or child.get("text") or "").strip()
            if url:
                if url not in seen:
                    seen.add(url)
                    out.append(Outline(title or url, url, child.get("htmlUrl"), category))
            else:
                walk(child, title or category)

    walk(body, None)
    return out


def write(feeds: list[dict], *, title: str = "newswatch sources", now=None) -> str:
    """An OPML 2.0 document for ``feeds`` (dicts with name, url, optional html_url)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = rfc822(now)
    body = ET.SubElement(root, "body")
    for feed in feeds:
        attrs = {"type": "rss", "text": feed["name"], "title": feed["name"], "xmlUrl": feed["url"]}
        if feed.get("html_url"):
            attrs["htmlUrl"] = feed["html_url"]
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
