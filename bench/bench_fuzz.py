"""A longer fuzz run than the suite's: inputs tried, distinct failures and the slowest input.

Targets (each a hypothesis strategy and a check that raises on a wrong answer):

- ``query-parse``: any text parses into a bounded tree or raises QueryError;
- ``query-eval``: the linear evaluator gives the spans of the pairwise reference
  (tests/matching/test_query_fuzz.py holds the strategies and the reference semantics);
- ``query-cost``: evaluation stays within 6 x query nodes x (hits + 2) steps;
- ``query-match``: long random articles with the default watchlist's matcher;
- ``duration``: parse_duration gives a timedelta in range or a ValueError;
- ``parse-feed``: parse_feed never raises on mutated fixture feeds and gives only items the
  store takes (tests/crawler/test_feed_fuzz.py holds the strategies and the check);
- ``config``: any config file (mutated structures, TOML text, bytes) gives a Config or a
  ConfigError naming a key path (tests/foundation/test_config_fuzz.py).

Unlike the suite, a failure does not stop a target: every input runs, failures are grouped
by exception type and place, and any input that takes more than --slow seconds of CPU time
(default 1 s; the garbage collector held off; confirmed by the best of three more runs) is
a failure too: on a shared machine wall time is mostly waiting. More targets (config)
can be added to ``TARGETS``.

    .venv/bin/python bench/bench_fuzz.py [--seconds 60] [--target NAME]...
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import results
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "matching"))
sys.path.insert(0, str(REPO / "tests" / "crawler"))
sys.path.insert(0, str(REPO / "tests" / "foundation"))
BENCH = "fuzz"

import test_config_fuzz as cf  # noqa: E402  (config inputs and the loader check)
import test_feed_fuzz as ff  # noqa: E402  (feed mutations and the parse_feed check)
import test_query_fuzz as qf  # noqa: E402  (strategies and the reference semantics)

from alerts.gazetteer import fold  # noqa: E402
from alerts.query import QueryError, parse  # noqa: E402
from alerts.query_eval import cost, spans  # noqa: E402
from crawler.config import parse_duration  # noqa: E402


@dataclass
class Outcome:
    """What one target's run found."""

    tried: int = 0
    failures: dict[str, tuple[int, str]] = field(default_factory=dict)  # key -> (count, input)
    slowest: float = 0.0
    slowest_input: str = ""


def _check_parse(text: str) -> None:
    try:
        node = parse(text, qf.SETS)
    except QueryError:
        return
    assert qf._depth(node) <= qf.MAX_DEPTH + 2


def _check_eval(args: tuple[str, str]) -> None:
    query, article = args
    node = parse(query)
    folded = fold(article)
    hits = qf.ref_hits(node, folded)
    assert set(spans(node, hits, folded)) == qf.ref_spans(node, hits, folded)


def _check_cost(args: tuple[str, str]) -> None:
    query, article = args
    node = parse(query)
    hits = qf.ref_hits(node, article)
    total = sum(len(v) for v in hits.values())
    assert cost(node, hits, article) <= 6 * qf._size(node) * (total + 2)


_MATCHER = []


def _default_matcher():
    if not _MATCHER:  # compiled once, before the clock runs
        from alerts.matcher import Matcher
        from scheduler import load_config

        cfg = load_config(REPO / "data" / "newswatch.toml")
        _MATCHER.append(Matcher.compile(cfg.watches, cfg.term_sets, cfg.gazetteer.aliases))
    return _MATCHER[0]


def _check_match(article: str) -> None:
    result = _default_matcher().match("T", article)
    doc = f"T\n\n{article}"
    assert all(doc[s:e] == t for t, s, e in result.terms)


def _check_duration(value: object) -> None:
    from datetime import timedelta

    try:
        got = parse_duration(value)
    except ValueError:
        return
    assert timedelta(0) < got <= timedelta(days=36_500)


_VOCAB = ["trafficking", "women", "drug", "forced", "to", "work", "held", "she", "was",
          "trafficked", "into", "Tier", "2", "report", ".", "\n", "sold", "la", "traite", "des",
          "enfants", "se", "trata", "de", "personas", "Azerbaijan", "a"]  # fmt: skip

# Long articles for the tier reader: a few tier words, countries and breaks repeated
# thousands of times (one paragraph, one sentence, a clause per ";", a line each).
_TIER_VOCAB = ["Tier 3", "Tier 2 Watch List", "Tier 2", "Azerbaijan", "Armenia", "Ghana",
               "placed on", "remained on", "were", ":", ",", "and", "trafficking", "-",
               "does not fully comply with the minimum standards", "fully meets the minimum "
               "standards", "not", "from", "the 2012 TIP report", "Watch List"]  # fmt: skip
_LONG = st.tuples(
    st.lists(st.sampled_from(_TIER_VOCAB), min_size=1, max_size=8),
    st.sampled_from([" ", ". ", "; ", "\n", "\n\n"]),
    st.integers(200, 3_000),
).map(lambda a: (" ".join(a[0]) + a[1]) * a[2])

TARGETS: dict[str, tuple[st.SearchStrategy, Callable[[object], None]]] = {
    "tier-long": (_LONG, _check_match),
    "query-parse": (qf.query_texts, _check_parse),
    "query-eval": (st.tuples(qf._queries(4), qf.articles), _check_eval),
    "query-cost": (
        st.tuples(qf._queries(6), st.lists(st.sampled_from(qf.WORDS), max_size=2000).map(" ".join)),
        _check_cost,
    ),
    "query-match": (
        st.lists(st.sampled_from(_VOCAB), max_size=6000).map(" ".join),
        _check_match,
    ),
    "duration": (
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(),
            st.text(max_size=40),
            st.from_regex(r"\A\s*\d{1,40}(\.\d{0,20})?\s*(ms|s|m|h|d|w)?\s*\Z"),
        ),
        _check_duration,
    ),
    "parse-feed": (st.tuples(ff.any_feed, ff.headers), lambda a: ff.check_parse_feed(*a)),
    "config": (st.one_of(cf.structures(), cf.files), cf.check_config),
}


def run(name: str, seconds: float, slow: float) -> Outcome:
    """Fuzz one target for about ``seconds``; every input runs, failures are collected."""
    strategy, check = TARGETS[name]
    if name == "query-match":
        _default_matcher()
    out = Outcome()
    stop = time.perf_counter() + seconds

    @settings(
        max_examples=10**9,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def prop(value):
        if time.perf_counter() > stop:
            raise _TimeUp
        out.tried += 1
        try:
            elapsed = _timed(check, value)
        except Exception as e:  # a fuzzer records every failure and goes on
            frame = traceback.extract_tb(e.__traceback__)[-1]
            key = f"{type(e).__name__} at {Path(frame.filename).name}:{frame.lineno}"
            count, first = out.failures.get(key, (0, repr(value)[:300]))
            out.failures[key] = (count + 1, first)
            return
        if elapsed > slow:  # confirm: the best of three more runs
            elapsed = min(elapsed, *(_timed(check, value) for _ in range(3)))
        if elapsed > out.slowest:
            out.slowest, out.slowest_input = elapsed, repr(value)[:200]
        if elapsed > slow:
            key = f"slower than {slow:g} s"
            count, first = out.failures.get(key, (0, repr(value)[:300]))
            out.failures[key] = (count + 1, first)

    with contextlib.suppress(_TimeUp):
        prop()
    return out


def _timed(check: Callable[[object], None], value: object) -> float:
    """CPU seconds of one check, the garbage collector held off (a full collection of the
    fuzzer's own heap is not the code under test's time)."""
    gc.disable()
    try:
        t = time.process_time()
        check(value)
        return time.process_time() - t
    finally:
        gc.enable()


class _TimeUp(Exception):
    """Ends a target's run (raised inside hypothesis, which then stops: no shrinking)."""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60, help="per target (default 60)")
    ap.add_argument("--slow", type=float, default=1.0, help="an input slower is a failure")
    ap.add_argument("--target", action="append", choices=sorted(TARGETS), help="default all")
    args = ap.parse_args()
    total_failures = 0
    for name in args.target or list(TARGETS):
        t = time.perf_counter()
        out = run(name, args.seconds, args.slow)
        elapsed = time.perf_counter() - t
        total_failures += len(out.failures)
        print(
            f"{name:12} {out.tried:8,} inputs in {elapsed:5.1f} s, "
            f"{len(out.failures)} distinct failures, slowest input {out.slowest * 1000:.1f} ms"
        )
        print(f"    slowest: {out.slowest_input[:150]}")
        for key, (count, first) in out.failures.items():
            print(f"    {key}: {count} inputs, first {first}")
        results.record(BENCH, f"{name} inputs tried", out.tried, "inputs", better="higher")
        results.record(BENCH, f"{name} distinct failures", len(out.failures), better="lower",
                       target=0)  # fmt: skip
        results.record(BENCH, f"{name} slowest input", out.slowest * 1000, "ms",
                       better="lower", target=args.slow * 1000)  # fmt: skip
    print(f"distinct failures in all: {total_failures}")


if __name__ == "__main__":
    main()
