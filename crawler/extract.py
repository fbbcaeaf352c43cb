"""Article extraction from HTML pages (trafilatura): title, text, date, author, language.

trafilatura runs with its default settings (F1 about 0.96 on the article-extraction
benchmark; see bench/bench_extraction.py). On top of it we only drop what it keeps from a
typical news page's furniture: the title repeated as the first line(s), and short
call-to-action lines ("Leave a review", "Follow us on social networks") at the end.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from urllib.parse import urlsplit

from crawler import times
from crawler.normalize import iso_utc, plain_text

log = logging.getLogger(__name__)

_DATE_PARAMS = {
    "extensive_search": True,
    "original_date": True,
    "outputformat": times.OFFSET_FORMAT,
}
# Lines a site adds around every article; compared lower-cased, without punctuation.
_FURNITURE = re.compile(
    r"^(?:leave a (?:review|comment|reply)|follow us(?: on [\w ]+)?|share(?: this(?: article)?)?"
    r"(?: on [\w ]+)?|news ?line|related(?: news| articles)?|read more|subscribe(?: to [\w ]+)?|"
    r"comments?|print|advertisement|most read|latest news|tags?)$"
)
_HTML_LANG = re.compile(rb"<html\b[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.I)


def _key(line: str) -> str:
    return re.sub(r"[^\w ]+", "", line.lower()).strip()


def clean_article_text(text: str | None, title: str | None) -> str | None:
    """Drop the title repeated at the top and short furniture lines at the bottom."""
    if not text:
        return None
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    tkey = _key(title or "")
    while lines and tkey and _key(lines[0]) == tkey:
        lines.pop(0)
    while lines and len(lines[-1].split()) <= 6 and _FURNITURE.match(_key(lines[-1])):
        lines.pop()
    return "\n\n".join(" ".join(ln.split()) for ln in lines) or None


@lru_cache(maxsize=1)
def _langid():
    import py3langid

    return py3langid


def detect_language(text: str | None) -> str | None:
    """ISO 639-1 code of the text's language, or None for too little text."""
    if not text or len(text) < 40:
        return None
    lang, _score = _langid().classify(text[:4000])
    return lang


def extract_article(html: bytes | str, url: str | None = None) -> dict:
    """Extract an article from one HTML page.

    Returns ``{url, title, text, published_at, author, language}``; fields that could not
    be found are None. Never raises on bad HTML.
    """
    out: dict = {
        "url": url,
        "title": None,
        "text": None,
        "published_at": None,
        "author": None,
        "language": None,
    }
    import trafilatura  # here: a crawl that fetches no page need not load it

    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            date_extraction_params=_DATE_PARAMS,
        )
    except Exception as e:  # trafilatura on hostile HTML: an empty result, not a crashed crawl
        # Logged (not swallowed) so a page that always comes out empty can be traced to its
        # URL; without its query and user info, where a source's token may sit.
        log.warning("article extraction failed for %s: %s: %s", _shown(url), type(e).__name__, e)
        doc = None
    raw = html if isinstance(html, bytes) else html.encode("utf-8", "replace")
    m = _HTML_LANG.search(raw[:4096])
    page_lang = m.group(1).decode().lower() if m else None
    if doc is None:
        out["language"] = page_lang
        return out
    title = plain_text(doc.title)
    out["title"] = title
    out["text"] = clean_article_text(doc.text, title)
    out["author"] = plain_text(doc.author)
    out["published_at"] = _date(doc.date)
    out["language"] = detect_language(out["text"]) or page_lang
    return out


def _shown(url: str | None) -> str | None:
    """The URL without user info, query and fragment: safe to log."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
    except ValueError:
        return "(a malformed URL)"
    return parts._replace(netloc=host, query="", fragment="").geturl()


def _date(value: str | None) -> str | None:
    if not value:
        return None
    v = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}", v):
        v = v[:-2] + ":" + v[-2:]
    return iso_utc(v)
