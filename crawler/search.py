"""Searching the archive: the watch query language mapped to SQLite FTS5, and filters.

The mapping (README, "Search"):

| watch query | FTS5 | |
|---|---|---|
| ``word``, ``word*`` | ``"word"``, ``"word"*`` | a word, a prefix |
| ``"a phrase"`` | ``"a phrase"`` | words in this order |
| ``a b``, ``a AND b`` | ``"a" AND "b"`` | both |
| ``a OR b`` | ``"a" OR "b"`` | either |
| ``a NOT b`` | ``"a" NOT "b"`` | a without b |
| ``( ... )`` | ``( ... )`` | grouping |
| ``a NEAR/5 b`` | ``NEAR("a" "b", 5)`` | words or phrases within 5 words |

What has no FTS5 form is an error that says so, never a silent change: ``NEAR/s`` (one
sentence), ``NEAR`` between groups, a leading ``NOT``, ``@term_set``, and lower-case
``and``/``or``/``not``/``near`` (FTS5 would search for the word; write it in capitals, or
quote it to search for the word).

Filters (source, country, watch, since) are SQL beside the MATCH; country and watch read
the ``matches`` table the alerts stage writes, when the archive has it.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlite_utils import Database

from crawler import times

_TOKEN = re.compile(r'\s*(?:(")([^"]*)"?|(\()|(\))|([^\s()"]+))')
_NEAR = re.compile(r"^NEAR/(\d+|s)$", re.I)
OPERATORS = ("AND", "OR", "NOT")


class SearchQueryError(ValueError):
    """A query that has no FTS5 form; the message says what to write instead."""


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, value) pairs: term, phrase, op, near, lparen, rparen."""
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        if m.group(1):
            if m.group(2).strip():
                out.append(("phrase", " ".join(m.group(2).split())))
        elif m.group(3):
            out.append(("lparen", "("))
        elif m.group(4):
            out.append(("rparen", ")"))
        elif m.group(5):
            word = m.group(5)
            near = _NEAR.match(word)
            if word in OPERATORS:
                out.append(("op", word))
            elif near and word.startswith("NEAR"):
                out.append(("near", near.group(1).lower()))
            elif word.lower() in ("and", "or", "not") or _NEAR.match(word) or word == "near":
                raise SearchQueryError(
                    f"{word!r} in lower case: write {word.upper()!r} for the operator, or"
                    f' "{word}" in quotes to search for the word'
                )
            elif word.startswith("@"):
                raise SearchQueryError(
                    f"{word}: term sets are for watches; search for their words instead"
                )
            else:
                out.append(("term", word))
    return out


def _quote(kind: str, value: str) -> str:
    if kind == "phrase":
        return '"' + value.replace('"', "") + '"'
    prefix = value.endswith("*")
    word = value.rstrip("*").replace('"', "")
    if not word:
        raise SearchQueryError(f"{value!r} is no word")
    return f'"{word}"' + ("*" if prefix else "")


def to_fts(query: str) -> str:
    """The FTS5 form of a watch-language ``query`` (see the module docstring).
    Raises SearchQueryError for what does not map, naming it."""
    tokens = _tokens(query)
    out: list[str] = []
    depth = 0
    i = 0
    prev = None  # kind of the last thing written: None, operand, op
    while i < len(tokens):
        kind, value = tokens[i]
        if kind in ("term", "phrase"):
            if i + 2 < len(tokens) + 1 and i + 1 < len(tokens) and tokens[i + 1][0] == "near":
                dist = tokens[i + 1][1]
                if dist == "s":
                    raise SearchQueryError(
                        "NEAR/s (in one sentence) has no full-text search form: use AND, "
                        "or NEAR/n with a number of words"
                    )
                if i + 2 >= len(tokens) or tokens[i + 2][0] not in ("term", "phrase"):
                    raise SearchQueryError(
                        "NEAR/n in a search joins two words or phrases, not groups"
                    )
                if i + 3 < len(tokens) and tokens[i + 3][0] == "near":
                    raise SearchQueryError("one NEAR/n per pair of words in a search")
                if prev == "operand":
                    out.append("AND")
                a, b = _quote(kind, value), _quote(*tokens[i + 2])
                out.append(f"NEAR({a} {b}, {dist})")
                prev = "operand"
                i += 3
                continue
            if prev == "operand":
                out.append("AND")
            out.append(_quote(kind, value))
            prev = "operand"
        elif kind == "near":
            raise SearchQueryError("NEAR/n in a search joins two words or phrases, not groups")
        elif kind == "op":
            if prev != "operand":
                what = "a leading NOT (FTS5 has only 'a NOT b')" if value == "NOT" else value
                raise SearchQueryError(f"{what} needs a word or group before it")
            out.append(value)
            prev = "op"
        elif kind == "lparen":
            if prev == "operand":
                out.append("AND")
            out.append("(")
            depth += 1
            prev = None
        else:
            if depth == 0:
                raise SearchQueryError("a ')' without its '('")
            if prev != "operand":
                raise SearchQueryError("an empty group or an operator before ')'")
            out.append(")")
            depth -= 1
            prev = "operand"
        i += 1
    if depth:
        raise SearchQueryError("a '(' without its ')'")
    if prev == "op":
        raise SearchQueryError(f"{out[-1]} at the end needs a word after it")
    return " ".join(out)


def since_time(text: str, now: datetime) -> str:
    """``--since``: a date (2026-03-01), an ISO time, or an age (7d, 12h, 30m, 2w) -> ISO."""
    age = times.parse_age(text)
    if age is not None:
        return times.iso(now - age)
    return times.iso(times.parse_iso(text))  # a bare date is its midnight UTC


def _has(db: Database, table: str) -> bool:
    return table in db.table_names()


def search(
    db: Database,
    query: str,
    *,
    limit: int = 20,
    sources: list[str] = (),
    countries: list[str] = (),
    watches: list[str] = (),
    since: str | None = None,
) -> list[dict]:
    """Articles matching ``query`` (watch query language) and every filter, best first,
    each with a ``snippet`` around the match (the matched words in [brackets])."""
    where, params = ["articles_fts MATCH ?"], [to_fts(query)]
    if sources:
        where.append(f"articles.source IN ({','.join('?' * len(sources))})")
        params += list(sources)
    if since:
        where.append("COALESCE(articles.published_at, articles.fetched_at) >= ?")
        params.append(since)
    if countries or watches:
        if not _has(db, "matches"):
            return []
        if countries:
            where.append(
                "EXISTS (SELECT 1 FROM matches m, json_each(m.countries) c WHERE "
                f"m.article_id = articles.id AND c.value IN ({','.join('?' * len(countries))}))"
            )
            params += list(countries)
        if watches:
            where.append(
                "EXISTS (SELECT 1 FROM matches m WHERE m.article_id = articles.id AND "
                f"m.watch IN ({','.join('?' * len(watches))}))"
            )
            params += list(watches)
    sql = f"""
        SELECT articles.id, articles.published_at, articles.fetched_at, articles.source,
               articles.title, articles.url, articles.story_id,
               (SELECT json_array_length(s.sources) - 1 FROM stories s
                WHERE s.id = articles.story_id) AS other_outlets,
               snippet(articles_fts, 1, '[', ']', '…', 16) AS snippet
        FROM articles_fts JOIN articles ON articles.rowid = articles_fts.rowid
        WHERE {" AND ".join(where)}
        ORDER BY rank LIMIT ?
    """
    return list(db.query(sql, [*params, limit]))
