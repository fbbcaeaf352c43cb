"""The watch query language: its grammar, the parsed tree, and the checks on a config's queries.

    trafficking OR "forced labor"            terms and quoted phrases
    Azerbaijan AND NOT football              AND, OR, NOT (upper case), parentheses
    migrants traffick*                       juxtaposition means AND; trailing * is a prefix
    "traffick* into"  "торговл* люд*"        a * may end any word of a phrase (inflections)
    Azerbaijan NEAR/20 "Tier 2"              both within 20 words of each other
    forced NEAR/s prostitution               both in one sentence
    traffick* NOT NEAR/3 drug*               traffick* where no drug* is within 3 words
    traffick* NOT NEAR/s @goods              ... where no @goods word is in its sentence
    @trafficking                             a named term set from the config's [term_sets]

Precedence, tightest first: NEAR and NOT NEAR (left to right), NOT, AND, OR. Terms match
whole words, case- and diacritic-insensitively (see :func:`alerts.gazetteer.fold`).

A query is bounded when it is parsed: at most :data:`MAX_DEPTH` levels of nesting
(parentheses, NOT, NEAR chains) and :data:`MAX_LEAVES` terms, term sets expanded, so that
neither parsing nor evaluation can recurse without bound. Evaluation (alerts/query_eval.py)
is linear in the hits and stops at a per-article budget.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from alerts.gazetteer import fold

if TYPE_CHECKING:
    from alerts.config import Watch

MAX_DEPTH = 100
MAX_LEAVES = 5000
_NEAR = re.compile(r"NEAR/(\d{1,6}|s)$")
_WORD = re.compile(r"\w+")
SENTENCE = -1  # Near.distance for NEAR/s: no sentence boundary between the two


class EvaluationLimit(RuntimeError):
    """An evaluation took more than its budget of steps: the watch is undecided here."""

    def __init__(self, budget: int):
        self.budget = budget
        super().__init__(f"query evaluation stopped after {budget:,} steps")


class QueryError(ValueError):
    """A query that does not parse; ``position`` is the 0-based character offset."""

    def __init__(self, message: str, position: int):
        self.message = message
        self.position = position
        super().__init__(f"{message} at position {position + 1}")


class Leaf(NamedTuple):
    """A term or phrase: ``pattern`` is folded; ``prefix`` when it ended with ``*``.

    A named tuple: leaves key the hits of every article, and a tuple hashes in C.
    """

    pattern: str
    prefix: bool


def _needs(node: object) -> frozenset | None:
    """Leaves of which at least one must be hit for ``node`` to hold (None: it may hold
    with none, as NOT does): the evaluator skips a node at once when none is hit."""
    return frozenset((node,)) if isinstance(node, Leaf) else node.needs


def _needs_any(items: tuple) -> frozenset | None:
    needs = [_needs(i) for i in items]
    return None if any(n is None for n in needs) else frozenset().union(*needs)


def _needs_all(items: tuple) -> frozenset | None:
    needs = [n for i in items if not isinstance(i, Not) and (n := _needs(i)) is not None]
    return min(needs, key=len) if needs else None


_HIDDEN = {"default": None, "compare": False, "hash": False, "repr": False}


@dataclass(frozen=True, slots=True)
class Seq:
    """A phrase with a ``*`` inside: its words (Leafs) one after another, one space apart."""

    items: tuple
    needs: frozenset | None = field(**_HIDDEN)

    def __post_init__(self) -> None:
        object.__setattr__(self, "needs", frozenset(self.items[:1]))


@dataclass(frozen=True, slots=True)
class And:
    items: tuple
    needs: frozenset | None = field(**_HIDDEN)

    def __post_init__(self) -> None:
        object.__setattr__(self, "needs", _needs_all(self.items))


@dataclass(frozen=True, slots=True)
class Or:
    """Any of ``items``; ``leaves`` are its Leaf items (looked up from the hits' side, as a
    term set has hundreds and an article hits few), ``others`` the rest."""

    items: tuple
    needs: frozenset | None = field(**_HIDDEN)
    leaves: frozenset = field(**_HIDDEN)
    others: tuple = field(**_HIDDEN)

    def __post_init__(self) -> None:
        object.__setattr__(self, "needs", _needs_any(self.items))
        object.__setattr__(self, "leaves", frozenset(i for i in self.items if isinstance(i, Leaf)))
        object.__setattr__(self, "others", tuple(i for i in self.items if not isinstance(i, Leaf)))


@dataclass(frozen=True, slots=True)
class Not:
    item: object
    needs = None


@dataclass(frozen=True, slots=True)
class Near:
    """Both sides within ``distance`` words (SENTENCE: in one sentence); with ``negated``,
    the left side's hits that have no right-side hit that close."""

    left: object
    right: object
    distance: int
    negated: bool = False
    needs: frozenset | None = field(**_HIDDEN)

    def __post_init__(self) -> None:
        needs = _needs(self.left)
        if needs is None and not self.negated:
            needs = _needs(self.right)
        object.__setattr__(self, "needs", needs)


Node = Leaf | Seq | And | Or | Not | Near


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
                    raise QueryError(
                        "NEAR needs a distance in words (NEAR/10, at most 999999) or s "
                        "for one sentence (NEAR/s)",
                        i,
                    )
                out.append(("NEAR", m.group(1), i))
            elif word.startswith("@"):
                out.append(("SET", word[1:], i))
            else:
                out.append(("TERM", word, i))
            i = j
    return out


def leaf(text: str, position: int = 0) -> Leaf | Seq:
    """A term or phrase; a ``*`` may end any word, after at least 3 characters.

    A phrase with a ``*`` only at its end (or none) is one Leaf: one automaton pattern. A
    ``*`` inside makes a Seq of the runs of words up to each ``*`` ("victim* of
    trafficking" is "victim*" then "of trafficking"), one space apart: the automaton looks
    for "of trafficking", not for every "of".
    """
    words = text.split()
    if any("*" in w.rstrip("*") for w in words):
        raise QueryError("a wildcard * may only end a term (or a word of a phrase)", position)
    if not words or not _WORD.search(fold(" ".join(words))):
        raise QueryError("empty term", position)
    runs: list[list[str]] = [[]]
    for w in words:
        if w.endswith("*") and len(fold(w.rstrip("*"))) < 3:
            raise QueryError("a wildcard needs at least 3 characters before the *", position)
        runs[-1].append(w)
        if w.endswith("*"):
            runs.append([])
    parts = []
    for run in filter(None, runs):
        raw = " ".join(run)
        if not _WORD.search(fold(raw)):
            raise QueryError("every part of a phrase with a * inside must have letters", position)
        parts.append(Leaf(fold(raw.rstrip("*")), raw.endswith("*")))
    return parts[0] if len(parts) == 1 else Seq(tuple(parts))


def _spellings(node: Leaf | Seq) -> tuple[Leaf | Seq, ...]:
    """A phrase as written and with hyphens for its spaces: "human trafficking" also
    matches "human-trafficking", "sex traffick*" also "sex-trafficking ring"."""
    if isinstance(node, Leaf) and " " in node.pattern:
        return (node, Leaf(node.pattern.replace(" ", "-"), node.prefix))
    return (node,)


def _joined(node: Leaf | Seq) -> Node:
    both = _spellings(node)
    return both[0] if len(both) == 1 else Or(both)


class _Parser:
    def __init__(self, text: str, term_sets: Mapping[str, list[str]]):
        self.text = text
        self.term_sets = term_sets
        self.toks = _tokens(text)
        self.i = 0
        self.depth = 0
        self.leaves = 0

    def peek(self, ahead: int = 0) -> tuple[str, str, int] | None:
        j = self.i + ahead
        return self.toks[j] if j < len(self.toks) else None

    def take(self) -> tuple[str, str, int]:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def deeper(self, levels: int, pos: int) -> None:
        if self.depth + levels > MAX_DEPTH:
            raise QueryError(f"the query nests more than {MAX_DEPTH} levels deep", pos)

    def count(self, n: int, pos: int) -> None:
        self.leaves += n
        if self.leaves > MAX_LEAVES:
            raise QueryError(f"the query has more than {MAX_LEAVES} terms", pos)

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
        # a loop, not recursion: NOT x 989 must be a QueryError, never a RecursionError
        nots = []
        while (tok := self.peek()) and tok[0] == "NOT":
            self.deeper(len(nots) + 1, tok[2])
            nots.append(self.take())
        self.depth += len(nots)
        node = self.near()
        self.depth -= len(nots)
        for _ in nots:
            node = Not(node)
        return node

    def near(self) -> Node:
        node = self.atom()
        chain = 0
        while (tok := self.peek()) and (
            tok[0] == "NEAR" or (tok[0] == "NOT" and (nxt := self.peek(1)) and nxt[0] == "NEAR")
        ):
            negated = tok[0] == "NOT"
            if negated:
                self.take()
            op = self.take()
            chain += 1
            self.deeper(chain, op[2])
            self.depth += chain
            right = self.atom()
            self.depth -= chain
            distance = SENTENCE if op[1] == "s" else int(op[1])
            node = Near(node, right, distance, negated)
        return node

    def atom(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise QueryError("the query ends where a term was expected", len(self.text))
        kind, value, pos = self.take()
        if kind == "(":
            self.deeper(1, pos)
            self.depth += 1
            node = self.or_()
            self.depth -= 1
            close = self.peek()
            if close is None or close[0] != ")":
                raise QueryError("( is never closed", pos)
            self.take()
            return node
        if kind in ("TERM", "PHRASE"):
            self.count(1, pos)
            return _joined(leaf(value, pos))
        if kind == "SET":
            if value not in self.term_sets:
                known = ", ".join("@" + k for k in sorted(self.term_sets)) or "none defined"
                raise QueryError(f"unknown term set @{value} (known: {known})", pos)
            self.count(len(self.term_sets[value]), pos)
            items = tuple(i for t in self.term_sets[value] for i in _spellings(leaf(t, pos)))
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
    if isinstance(node, And | Or | Seq):
        return set().union(*(leaves(i) for i in node.items))
    if isinstance(node, Not):
        return leaves(node.item)
    return leaves(node.left) | leaves(node.right)


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
                shown = text if len(text) <= 200 else text[:200] + "..."
                problems.append((f"watches[{i}].{key}", f"watch {w.name!r}: {e}: {shown!r}"))
    return problems


def spans(node: Node, hits: Mapping, folded: str, budget: int | None = None) -> list:
    """Where a query holds: see :func:`alerts.query_eval.spans` (evaluation lives there)."""
    from alerts import query_eval

    return query_eval.spans(node, hits, folded, budget or query_eval.BUDGET)


def evaluate(node: Node, hits: Mapping, folded: str, budget: int | None = None) -> bool:
    """Whether the query holds: see :func:`alerts.query_eval.evaluate`."""
    return bool(spans(node, hits, folded, budget))
