"""The watch query language: parse once, evaluate per article.

    trafficking OR "forced labor"            terms and quoted phrases
    Azerbaijan AND NOT football              AND, OR, NOT (upper case), parentheses
    migrants traffick*                       juxtaposition means AND; trailing * is a prefix
    Azerbaijan NEAR/20 "Tier 2"              both within 20 words of each other
    @trafficking                             a named term set from the config's [term_sets]

Precedence, tightest first: NEAR, NOT, AND, OR. Terms match whole words, case- and
diacritic-insensitively (see :func:`alerts.gazetteer.fold`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from alerts.gazetteer import fold

if TYPE_CHECKING:
    from alerts.config import Watch

_NEAR = re.compile(r"NEAR/(\d+)$")
_WORD = re.compile(r"\w+")


class QueryError(ValueError):
    """A query that does not parse; ``position`` is the 0-based character offset."""

    def __init__(self, message: str, position: int):
        self.message = message
        self.position = position
        super().__init__(f"{message} at position {position + 1}")


@dataclass(frozen=True, slots=True)
class Leaf:
    """A term or phrase: ``pattern`` is folded; ``prefix`` when it ended with ``*``."""

    pattern: str
    prefix: bool


@dataclass(frozen=True, slots=True)
class And:
    items: tuple


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple


@dataclass(frozen=True, slots=True)
class Not:
    item: object


@dataclass(frozen=True, slots=True)
class Near:
    left: object
    right: object
    distance: int


Node = Leaf | And | Or | Not | Near
Hits = Mapping[Leaf, list[tuple[int, int]]]


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, value, position): kinds ( ) AND OR NOT NEAR TERM PHRASE SET."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()":
            out.append((c, c, i))
            i += 1
        elif c in '"“”':
            j = i + 1
            while j < n and text[j] not in '"“”':
                j += 1
            if j >= n:
                raise QueryError("unterminated quoted phrase", i)
            out.append(("PHRASE", text[i + 1 : j], i))
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '()"“”':
                j += 1
            word = text[i:j]
            if word in ("AND", "OR", "NOT"):
                out.append((word, word, i))
            elif word.startswith("NEAR"):
                m = _NEAR.match(word)
                if not m:
                    raise QueryError("NEAR needs a distance in words, as in NEAR/10", i)
                out.append(("NEAR", m.group(1), i))
            elif word.startswith("@"):
                out.append(("SET", word[1:], i))
            else:
                out.append(("TERM", word, i))
            i = j
    return out


def leaf(text: str, position: int = 0) -> Leaf:
    """A term or phrase as a Leaf; a ``*`` may only end it, after at least 3 characters."""
    raw = " ".join(text.split())
    prefix = raw.endswith("*")
    body = raw.rstrip("*")
    if "*" in body:
        raise QueryError("a wildcard * may only end a term", position)
    pattern = fold(body)
    if not _WORD.search(pattern):
        raise QueryError("empty term", position)
    if prefix and len(pattern.split()[-1]) < 3:
        raise QueryError("a wildcard needs at least 3 characters before the *", position)
    return Leaf(pattern, prefix)


class _Parser:
    def __init__(self, text: str, term_sets: Mapping[str, list[str]]):
        self.text = text
        self.term_sets = term_sets
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str, int]:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node:
        if not self.toks:
            raise QueryError("empty query", 0)
        node = self.or_()
        tok = self.peek()
        if tok is not None:
            what = "unmatched )" if tok[0] == ")" else f"unexpected {tok[1]!r}"
            raise QueryError(what, tok[2])
        return node

    def or_(self) -> Node:
        items = [self.and_()]
        while (tok := self.peek()) and tok[0] == "OR":
            self.take()
            items.append(self.and_())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_(self) -> Node:
        items = [self.not_()]
        while (tok := self.peek()) and tok[0] not in ("OR", ")"):
            if tok[0] == "AND":
                self.take()
            items.append(self.not_())
        return items[0] if len(items) == 1 else And(tuple(items))

    def not_(self) -> Node:
        tok = self.peek()
        if tok and tok[0] == "NOT":
            self.take()
            return Not(self.not_())
        return self.near()

    def near(self) -> Node:
        node = self.atom()
        while (tok := self.peek()) and tok[0] == "NEAR":
            self.take()
            node = Near(node, self.atom(), int(tok[1]))
        return node

    def atom(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise QueryError("the query ends where a term was expected", len(self.text))
        kind, value, pos = self.take()
        if kind == "(":
            node = self.or_()
            close = self.peek()
            if close is None or close[0] != ")":
                raise QueryError("( is never closed", pos)
            self.take()
            return node
        if kind in ("TERM", "PHRASE"):
            return leaf(value, pos)
        if kind == "SET":
            if value not in self.term_sets:
                known = ", ".join("@" + k for k in sorted(self.term_sets)) or "none defined"
                raise QueryError(f"unknown term set @{value} (known: {known})", pos)
            items = tuple(leaf(t, pos) for t in self.term_sets[value])
            if not items:
                raise QueryError(f"term set @{value} is empty", pos)
            return items[0] if len(items) == 1 else Or(items)
        raise QueryError(f"{value!r} where a term was expected", pos)


def parse(text: str, term_sets: Mapping[str, list[str]] | None = None) -> Node:
    """Parse a query; raises QueryError with the position of the first problem."""
    return _Parser(text, term_sets or {}).parse()


def leaves(node: Node) -> set[Leaf]:
    """Every Leaf in a query, to be compiled into the matcher."""
    if isinstance(node, Leaf):
        return {node}
    if isinstance(node, And | Or):
        return set().union(*(leaves(i) for i in node.items))
    if isinstance(node, Not):
        return leaves(node.item)
    return leaves(node.left) | leaves(node.right)


def spans(node: Node, hits: Hits, folded: str) -> list[tuple[int, int]]:
    """Where a query holds: the spans of its matching leaves ([] when it does not hold)."""
    if isinstance(node, Leaf):
        return hits.get(node, [])
    if isinstance(node, Or):
        return [s for i in node.items for s in spans(i, hits, folded)]
    if isinstance(node, And):
        out = []
        for i in node.items:
            if isinstance(i, Not):
                if spans(i.item, hits, folded):
                    return []
                continue
            got = spans(i, hits, folded)
            if not got:
                return []
            out.extend(got)
        return out
    if isinstance(node, Not):
        return [] if spans(node.item, hits, folded) else [(0, 0)]
    left = spans(node.left, hits, folded)
    right = spans(node.right, hits, folded) if left else []
    out = []
    for a in left:
        for b in right:
            lo, hi = (a, b) if a[0] <= b[0] else (b, a)
            if len(_WORD.findall(folded, lo[1], max(lo[1], hi[0]))) <= node.distance:
                out.extend((a, b))
    return out


def evaluate(node: Node, hits: Hits, folded: str) -> bool:
    """Whether the query holds for an article whose leaf hits are ``hits``."""
    return bool(spans(node, hits, folded))


def check_watches(
    watches: Sequence[Watch], term_sets: Mapping[str, list[str]]
) -> list[tuple[str, str]]:
    """(key path, message) for every term-set entry, query or exclude that does not parse."""
    problems: list[tuple[str, str]] = []
    for name, terms in term_sets.items():
        for j, term in enumerate(terms):
            try:
                leaf(term)
            except QueryError as e:
                problems.append((f"term_sets.{name}[{j}]", f"{term!r}: {e}"))
    for i, w in enumerate(watches):
        for key in ("query", "exclude"):
            text = getattr(w, key)
            if text is None:
                continue
            try:
                parse(text, term_sets)
            except QueryError as e:
                problems.append((f"watches[{i}].{key}", f"watch {w.name!r}: {e}: {text!r}"))
    return problems
