"""Evaluating a parsed watch query against one article's term hits, in bounded time.

A node evaluates to the sorted, de-duplicated spans (start, end) of the hits that make it
hold ([] when it does not hold); the spans are what a match shows as the phrases that fired.
Every operator is linear in the spans it reads (NEAR merges two sorted position lists with
two pointers; a span maps to its word or sentence index by bisection), so a query costs
O(size of query x hits in the article), and a NEAR chain never multiplies spans.

The bound: one evaluation (one watch, one article) may take at most ``budget`` steps (a
step is one span or position read; :data:`BUDGET` is 500,000, about 0.5 s at the slowest
rate measured here, 1 million steps a second); past that it raises
:class:`EvaluationLimit`, which the matcher records for the watch, and the stage goes on.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Mapping
from itertools import chain

from alerts.query import SENTENCE, And, EvaluationLimit, Leaf, Near, Node, Not, Or, Seq

BUDGET = 500_000
_WORD = re.compile(r"\w+")
# Where a sentence ends: . ! ? (and their CJK, Arabic, Devanagari forms) before a space, or
# a line break. Abbreviations such as "U.S. officials" end one too; a NEAR/s is then short.
_SENTENCE_END = re.compile(r"[.!?…。！？؟।]+(?=\s)|\n")
_ALWAYS = [(0, 0)]  # what a NOT that holds contributes: it holds, with no phrase to show

Span = tuple[int, int]
Hits = Mapping[Leaf, list[Span]]


class Text:
    """One article's folded text, with its word and sentence positions computed on demand."""

    __slots__ = ("folded", "_units")

    def __init__(self, folded: str):
        self.folded = folded
        self._units: dict[bool, list[int]] = {}

    def units(self, sentences: bool) -> list[int]:
        """Word starts, or the positions where sentences end: sorted offsets."""
        got = self._units.get(sentences)
        if got is None:
            rx = _SENTENCE_END if sentences else _WORD
            got = self._units[sentences] = [m.start() for m in rx.finditer(self.folded)]
        return got


class _Eval:
    __slots__ = ("hits", "text", "budget", "left")

    def __init__(self, hits: Hits, text: Text, budget: int):
        self.hits = hits
        self.text = text
        self.budget = self.left = budget

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise EvaluationLimit(self.budget)

    def run(self, node: Node) -> list[Span]:
        if isinstance(node, Leaf):
            got = self.hits.get(node, [])
            self.spend(len(got) + 1)
            return sorted(got)
        self.spend(1)
        if node.needs is not None and node.needs.isdisjoint(self.hits):
            return []  # none of the leaves it needs is in the article
        if isinstance(node, Or):
            parts = [sorted(h) for lf, h in self.hits.items() if lf in node.leaves]
            parts += [self.run(i) for i in node.others]
            return self.union([p for p in parts if p]) if parts else []
        if isinstance(node, And):
            parts = []
            for i in node.items:
                if isinstance(i, Not):
                    if self.run(i.item):
                        return []
                    continue
                got = self.run(i)
                if not got:
                    return []
                parts.append(got)
            return self.union(parts) if parts else list(_ALWAYS)
        if isinstance(node, Not):
            return [] if self.run(node.item) else list(_ALWAYS)
        if isinstance(node, Seq):
            return self.seq(node)
        return self.near(node)

    def union(self, parts: list[list[Span]]) -> list[Span]:
        self.spend(sum(len(p) for p in parts) + 1)
        if len(parts) <= 1:
            return parts[0] if parts else []
        return sorted(set(chain.from_iterable(parts)))

    def seq(self, node: Seq) -> list[Span]:
        """Spans where the words follow each other, one space apart."""
        folded = self.text.folded
        current = self.run(node.items[0])
        for item in node.items[1:]:
            if not current:
                return []
            nxt = dict(self.run(item))
            self.spend(len(current))
            current = [
                (s, nxt[e + 1]) for s, e in current if e + 1 in nxt and folded[e : e + 1] == " "
            ]
        return current

    def near(self, node: Near) -> list[Span]:
        left = self.run(node.left)
        if not left:
            return []
        right = self.run(node.right)
        if not right:
            return left if node.negated else []
        units = self.text.units(node.distance == SENTENCE)
        distance = 0 if node.distance == SENTENCE else node.distance
        self.spend(2 * (len(left) + len(right)))
        lix = _indexes(left, units)
        rix = _indexes(right, units)
        ok_left = _close(left, lix, right, rix, distance)
        if node.negated:
            return [a for a, ok in zip(left, ok_left, strict=True) if not ok]
        ok_right = _close(right, rix, left, lix, distance)
        found = [a for a, ok in zip(left, ok_left, strict=True) if ok]
        found += [b for b, ok in zip(right, ok_right, strict=True) if ok]
        return sorted(set(found)) if found else []


def _indexes(spans_: list[Span], units: list[int]) -> tuple[list[int], list[int]]:
    """How many units start before each span's start, and before its end."""
    return [bisect_left(units, s) for s, _ in spans_], [bisect_left(units, e) for _, e in spans_]


def _close(
    a_spans: list[Span],
    a_ix: tuple[list[int], list[int]],
    b_spans: list[Span],
    b_ix: tuple[list[int], list[int]],
    d: int,
) -> list[bool]:
    """For each span of ``a_spans`` (sorted): is some span of ``b_spans`` (sorted) within
    ``d`` units? Units between two spans are those starting in [first end, second start).

    Two pointers: of the B spans starting before A's start (behind the pointer) only the
    largest end-index matters; the first one at or after it has the smallest start-index
    of those ahead.
    """
    a_start, a_end = a_ix
    b_start, b_end = b_ix
    out = []
    j, n = 0, len(b_spans)
    behind = None  # the largest end-index of the B spans that start before this A span
    for i, (s, _) in enumerate(a_spans):
        while j < n and b_spans[j][0] < s:
            if behind is None or b_end[j] > behind:
                behind = b_end[j]
            j += 1
        ok = j < n and b_start[j] - a_end[i] <= d
        if not ok and behind is not None:
            ok = a_start[i] - behind <= d
        out.append(ok)
    return out


_last: tuple[str, Text] | None = None


def _text(folded: str | Text) -> Text:
    """A Text for ``folded``; the matcher evaluates every watch on the same string in turn,
    so the last one is kept (its word positions are computed once per article)."""
    global _last
    if isinstance(folded, Text):
        return folded
    last = _last
    if last is not None and last[0] is folded:
        return last[1]
    text = Text(folded)
    _last = (folded, text)
    return text


def spans(node: Node, hits: Hits, folded: str | Text, budget: int = BUDGET) -> list[Span]:
    """Where a query holds: the spans of its matching hits ([] when it does not hold).

    Raises EvaluationLimit past ``budget`` steps (spans and positions read).
    """
    return _Eval(hits, _text(folded), budget).run(node)


def evaluate(node: Node, hits: Hits, folded: str | Text, budget: int = BUDGET) -> bool:
    """Whether the query holds for an article whose leaf hits are ``hits``."""
    return bool(spans(node, hits, folded, budget))


def cost(node: Node, hits: Hits, folded: str | Text) -> int:
    """How many steps an evaluation takes (for tests and benchmarks: a count, not a time)."""
    ev = _Eval(hits, _text(folded), 1 << 62)
    ev.run(node)
    return (1 << 62) - ev.left
