"""Property-based fuzzing of the watch query language (issue 13): the parser and the evaluator.

- any text either parses into a bounded tree or raises QueryError, nothing else;
- the linear-time evaluator gives exactly the spans of a brute-force reference that follows
  the documented semantics pair by pair;
- every evaluation costs at most a constant times (query nodes x hits) steps: the time bound
  per input is a step count, never a measured time;
- whole articles through the compiled matcher never crash and report only their own text.

Each test has a fixed number of examples (a few seconds each); bench/bench_fuzz.py runs
the same properties for longer.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.config import Watch
from alerts.gazetteer import fold
from alerts.matcher import Matcher
from alerts.query import (
    MAX_DEPTH,
    MAX_LEAVES,
    SENTENCE,
    And,
    Leaf,
    Near,
    Not,
    Or,
    QueryError,
    Seq,
    leaves,
    parse,
)
from alerts.query_eval import cost, spans

SETS = {"s": ["a", "b c"], "big": ["x", "yy*"]}
FAST = settings(
    max_examples=250,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# --- strategies ----------------------------------------------------------------------------

TOKENS = [
    "a", "b", "c", "x", "abc*", '"a b"', '"abc* b"', "(", ")", "AND", "OR", "NOT", "NEAR/0",
    "NEAR/1", "NEAR/3", "NEAR/s", "NEAR/", "NEAR/x", "NEAR/99999999", "@s", "@big", "@nope",
    "*", '"', "“", "”", "a*b", "ab*", "é", "NOT NEAR/2", ")(",
]  # fmt: skip
query_texts = st.one_of(
    st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join),
    st.text(max_size=60),
    st.integers(0, 400).map(lambda n: "(" * n + "a" + ")" * n),
    st.integers(0, 1200).map(lambda n: "NOT " * n + "a"),
    st.integers(0, 1200).map(lambda n: "a NEAR/1 " * n + "a"),
)

WORDS = ["a", "b", "c", "x"]


def _queries(depth: int) -> st.SearchStrategy:
    """Small queries over a, b, c, x (and the prefix abc*) in every operator."""
    leaf = st.sampled_from(["a", "b", "c", "x", "abc*", '"a b"', '"abc* b"'])
    if depth == 0:
        return leaf
    sub = _queries(depth - 1)
    dist = st.sampled_from(["0", "1", "2", "4", "s"])
    return st.one_of(
        leaf,
        st.tuples(sub, sub).map(lambda t: f"({t[0]} AND {t[1]})"),
        st.tuples(sub, sub).map(lambda t: f"({t[0]} OR {t[1]})"),
        sub.map(lambda q: f"(NOT {q})"),
        st.tuples(sub, dist, sub).map(lambda t: f"({t[0]} NEAR/{t[1]} {t[2]})"),
        st.tuples(sub, dist, sub).map(lambda t: f"({t[0]} NOT NEAR/{t[1]} {t[2]})"),
    )


articles = st.lists(
    st.sampled_from([*WORDS, "abcd", "abc", ".", "\n", ",", "b."]), max_size=40
).map(" ".join)


# --- a reference: the hits the matcher finds, and the semantics pair by pair -----------------


def ref_hits(node, folded: str) -> dict:
    """Each leaf's (start, end) hits, as the matcher reports them: whole words; a prefix
    leaf reports the whole word it starts."""
    out = {}
    for lf in leaves(node):
        if lf.prefix:
            rx = re.compile(r"(?<!\w)" + re.escape(lf.pattern) + r"\w*")
        else:
            rx = re.compile(r"(?<!\w)" + re.escape(lf.pattern) + r"(?!\w)")
        found = [(m.start(), m.end()) for m in rx.finditer(folded)]
        if found:
            out[lf] = found
    return out


def _units(folded: str, sentences: bool) -> list[int]:
    rx = re.compile(r"[.!?…。！？؟।]+(?=\s)|\n") if sentences else re.compile(r"\w+")
    return [m.start() for m in rx.finditer(folded)]


def _gap(a, b, units) -> int:
    lo, hi = (a, b) if a[0] <= b[0] else (b, a)
    return sum(1 for u in units if lo[1] <= u < hi[0])


def ref_spans(node, hits: dict, folded: str) -> set:
    """The documented semantics, pair by pair (quadratic, obviously right)."""
    if isinstance(node, Leaf):
        return set(hits.get(node, []))
    if isinstance(node, Or):
        return set().union(*(ref_spans(i, hits, folded) for i in node.items))
    if isinstance(node, And):
        out = set()
        for i in node.items:
            if isinstance(i, Not):
                if ref_spans(i.item, hits, folded):
                    return set()
                continue
            got = ref_spans(i, hits, folded)
            if not got:
                return set()
            out |= got
        return out or {(0, 0)}
    if isinstance(node, Not):
        return set() if ref_spans(node.item, hits, folded) else {(0, 0)}
    if isinstance(node, Seq):
        cur = ref_spans(node.items[0], hits, folded)
        for item in node.items[1:]:
            nxt = ref_spans(item, hits, folded)
            cur = {(s, e2) for s, e in cur for s2, e2 in nxt if s2 == e + 1 and folded[e] == " "}
        return cur
    assert isinstance(node, Near)
    left = ref_spans(node.left, hits, folded)
    right = ref_spans(node.right, hits, folded)
    units = _units(folded, node.distance == SENTENCE)
    d = 0 if node.distance == SENTENCE else node.distance
    ok_left = {a for a in left if any(_gap(a, b, units) <= d for b in right)}
    if node.negated:
        return left - ok_left
    return ok_left | {b for b in right if any(_gap(a, b, units) <= d for a in left)}


def _size(node) -> int:
    if isinstance(node, Leaf):
        return 1
    if isinstance(node, And | Or | Seq):
        return 1 + sum(_size(i) for i in node.items)
    if isinstance(node, Not):
        return 1 + _size(node.item)
    return 1 + _size(node.left) + _size(node.right)


def _depth(node) -> int:
    if isinstance(node, Leaf):
        return 0
    if isinstance(node, And | Or | Seq):
        return 1 + max(_depth(i) for i in node.items)
    if isinstance(node, Not):
        return 1 + _depth(node.item)
    return 1 + max(_depth(node.left), _depth(node.right))


# --- properties ------------------------------------------------------------------------------


@pytest.mark.timeout(120)
@FAST
@given(query_texts)
def test_any_text_parses_or_is_a_query_error(text):
    try:
        node = parse(text, SETS)
    except QueryError as e:
        assert 0 <= e.position <= len(text)
        return
    # a tree the evaluator can walk: depth bounded (recursion), size bounded
    assert _depth(node) <= MAX_DEPTH + 2
    assert len(leaves(node)) <= MAX_LEAVES


@pytest.mark.timeout(120)
@FAST
@given(_queries(4), articles)
def test_evaluation_equals_the_pairwise_reference(query, article):
    node = parse(query)
    folded = fold(article)
    hits = ref_hits(node, folded)
    assert set(spans(node, hits, folded)) == ref_spans(node, hits, folded)


@pytest.mark.timeout(120)
@FAST
@given(_queries(5), st.lists(st.sampled_from(WORDS), max_size=400).map(" ".join))
def test_evaluation_cost_is_linear_in_query_and_hits(query, article):
    node = parse(query)
    hits = ref_hits(node, article)
    total = sum(len(v) for v in hits.values())
    assert cost(node, hits, article) <= 6 * _size(node) * (total + 2)


@pytest.mark.timeout(120)
@settings(max_examples=25, deadline=None, database=None)  # a compile each (~0.1 s)
@given(_queries(3), st.text(max_size=200), articles)
def test_matcher_on_any_article_reports_only_its_own_text(query, noise, article):
    m = Matcher.compile([Watch(name="w", query=query)])
    text = f"{noise} {article}"
    result = m.match("T", text)
    doc = f"T\n\n{text}"
    for term, start, end in result.terms:
        assert doc[start:end] == term
    assert result.stopped == []
