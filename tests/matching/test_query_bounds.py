"""Queries and articles that once stalled or crashed the matcher (issue 13, items 1 and 9).

Bounds are asserted as step counts (alerts.query_eval.cost), never as times; the whole-article
cases run under pytest-timeout, so a return of the cubic NEAR fails by timing out.
"""

from __future__ import annotations

import pytest

from alerts.config import Watch
from alerts.matcher import Matcher
from alerts.query import MAX_DEPTH, Leaf, QueryError, check_watches, parse
from alerts.query_eval import BUDGET, EvaluationLimit, cost, spans

A = Leaf("a", False)


def hits_a(n: int) -> dict:
    """``n`` hits of the term a, in the text 'a a a ...'."""
    return {A: [(2 * i, 2 * i + 1) for i in range(n)]}


@pytest.mark.parametrize(
    "query",
    [
        "(" * 200 + "a" + ")" * 200,
        "NOT " * 989 + "a",
        "a NEAR/1 " * 1000 + "a",
        "a NOT NEAR/2 " * 500 + "a",
        "(NOT " * 300 + "a" + ")" * 300,
    ],
)
def test_deep_queries_are_query_errors_not_recursion_errors(query):
    with pytest.raises(QueryError) as e:
        parse(query)
    assert f"more than {MAX_DEPTH} levels deep" in e.value.message


def test_deep_query_gives_the_key_path_and_exit_2(write_config, run_newswatch):
    path = write_config(
        f"""
        [archive]
        path = "{{archive}}"
        [[watches]]
        name = "deep"
        query = '{"(" * 200 + "a" + ")" * 200}'
        [[watches]]
        name = "nots"
        query = '{"NOT " * 989 + "a"}'
        """
    )
    proc = run_newswatch("match", "--config", str(path), input="text")
    assert proc.returncode == 2, proc.stderr
    assert "watches[0].query" in proc.stderr and "watches[1].query" in proc.stderr
    assert "Traceback" not in proc.stderr and "RecursionError" not in proc.stderr


def test_too_many_terms_is_a_query_error():
    sets = {"big": [f"w{i}" for i in range(6000)]}
    problems = check_watches([Watch(name="w", query="@big")], sets)
    assert problems and problems[0][0] == "watches[0].query"
    assert "more than" in problems[0][1] and "terms" in problems[0][1]


def test_near_chain_costs_linear_steps():
    # 'a NEAR/1 ' * 99 + 'a' once grew exponentially (every pair re-listed at every level)
    query = parse("a NEAR/1 " * 99 + "a")
    small, large = cost(query, hits_a(200), "a " * 200), cost(query, hits_a(400), "a " * 400)
    assert small <= 100 * 6 * 200
    assert large <= 2.2 * small
    assert spans(query, hits_a(5), "a " * 5) == hits_a(5)[A]


def test_near_costs_linear_steps_in_the_hits():
    t, w = Leaf("trafficking", False), Leaf("women", False)
    query = parse("trafficking NEAR/6 women")

    def hits(n: int) -> dict:
        return {t: [(18 * i, 18 * i + 11) for i in range(n)], w: [(18 * i + 12, 18 * i + 17) for i in range(n)]}  # fmt: skip

    text = "trafficking women " * 2000
    assert cost(query, hits(2000), text) <= 2.2 * cost(query, hits(1000), text)


@pytest.mark.slow  # seconds of CPU
def test_budget_stops_an_evaluation():
    query = parse("a NEAR/1 " * 99 + "a")
    with pytest.raises(EvaluationLimit):
        spans(query, hits_a(20_000), "a " * 20_000)
    assert cost(query, hits_a(20_000), "a " * 20_000) > BUDGET
    with pytest.raises(EvaluationLimit):
        spans(parse("a"), hits_a(100), "a " * 100, budget=50)


@pytest.mark.timeout(60)
def test_the_near_article_is_matched_quickly(default_matcher):
    # 66 s with the cubic NEAR; the default trafficking watch uses NEAR
    text = "trafficking women " * 3000
    result = default_matcher.match("R", text)
    assert "trafficking" in result.watches


@pytest.mark.timeout(60)
def test_an_article_over_budget_stops_only_that_watch():
    over = Watch(name="over", query="a NEAR/1 " * 99 + "a")
    simple = Watch(name="simple", query="a")
    m = Matcher.compile([over, simple])
    result = m.match("", "a " * 20_000)
    assert result.watches == ["simple"]
    assert result.stopped == ["over"]
