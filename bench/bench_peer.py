"""Benchmark: newswatch against rss2email (the peer) on the same 200 real feeds and mail server.

    .venv/bin/python bench/bench_peer.py [--runs N] [--feeds N] [--concurrency N]

Each feed is served from its own loopback address (127.0.0.2, 127.0.0.3, ...; real feeds live
on different hosts) by one local HTTP server that answers conditional requests with 304. Both
tools mail one local SMTP server (aiosmtpd, long lines accepted: rss2email aborts its whole run
at the first refused message). Two runs each, feeds unchanged in between:

- rss2email 3.x, installed from PyPI into ``bench/out/peer-venv`` (made here, never into the
  project), every feed added, ``r2e run`` twice as two processes.
- newswatch: one watch that matches every article, one mail target, one daemon process
  (``scheduler.Daemon`` on one reactor) running its collect -> match -> deliver cycle twice.
  The first run is timed from process start; the second cycle inside the running daemon.

newswatch runs with the shipped defaults: crawl and delivery (one message at a time per
target); only private addresses are allowed. ``--concurrency N`` sets ``[delivery]
concurrency_per_target`` instead: a tuned run, printed and not recorded. Targets: first run
>= 2x as fast as rss2email, the daemon's unchanged second cycle <= 0.5x rss2email's, 0
duplicates. Figures per run: wall time, CPU time, peak RSS, messages received, duplicates,
items missed, and the load average before and after each side (the two sides run one after
the other, so a burst of other work on the machine during one side moves the wall-time ratio;
the CPU ratio moves much less). newswatch's cycles are split into start-up (process start to
the first collection), crawl, and match-and-deliver (after the whole crawl). Then the messages newswatch sent are sent again to a strict server (lines
over 1,000 octets refused). ``--runs N`` repeats the whole comparison and prints every run; the
comparisons alternate which tool runs first (rss2email in the first, third, ...), so a load
that drifts on a shared machine does not always favour the same side.
Prints the figures and records them with bench/results.py. Never asserts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "bench"), str(REPO / "tests"), str(REPO)]

import results  # noqa: E402
from peer_newswatch import (  # noqa: E402
    MATCH_ALL,
    newswatch_config,
    newswatch_keys,
    newswatch_runs,
    strict_check,
)
from peer_rss2email import canon as _canon  # noqa: E402
from peer_rss2email import peer_venv, peer_version, rss2email_keys, rss2email_runs  # noqa: E402
from peer_servers import FeedServer, Mail  # noqa: E402

BENCH = "peer"


# --- the expected items -----------------------------------------------------------------------


def expected_items(bodies: list[bytes], bases: list[str]) -> tuple[dict[str, int], int]:
    """Canonical link -> how many feed entries carry it; and entries with no usable link.

    An entry's link is found as newswatch's feed parser finds it (link, alternate link, a
    GUID that is a URL); entries with none are counted apart: newswatch stores no article
    without a URL, rss2email mails them.
    """
    import feedparser

    from crawler.feeds import _entry_link
    from crawler.urls import canonical_url

    links: Counter = Counter()
    no_link = 0
    for body, base in zip(bodies, bases, strict=True):
        parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
        for e in parsed.entries:
            link = _entry_link(e, base)
            if link:
                links[_canon(canonical_url, link)] += 1
            else:
                no_link += 1
    return dict(links), no_link


# --- the report ---------------------------------------------------------------------------


def judge(keys_by_run: list[list[str]], expected: dict[str, int], covered) -> list[dict]:
    """Duplicates (a key mailed before, in this run or an earlier one) and misses per run."""
    seen: Counter = Counter()
    out = []
    for keys in keys_by_run:
        dup = 0
        for k in keys:
            dup += seen[k] > 0
            seen[k] += 1
        missed = sum(1 for link in expected if not covered(link, seen))
        out.append({"duplicates": dup, "missed": missed})
    return out


def one_run(args, bodies, server, expected, no_link, r2e, ours_first: bool = False) -> dict:
    """One comparison: rss2email's two runs and newswatch's daemon's two cycles, one tool
    after the other (``ours_first``: newswatch first; the load on a shared machine drifts,
    so several comparisons alternate the order), judged."""
    from crawler.archive import open_archive
    from crawler.urls import canonical_url

    with tempfile.TemporaryDirectory(dir=results.OUT_DIR) as tmp:
        work = Path(tmp)

        def run_peer() -> list[dict]:
            mail = Mail()
            try:
                return rss2email_runs(r2e, server, mail, work)
            finally:
                mail.stop()

        def run_ours() -> tuple[Path, list[dict]]:
            mail = Mail()
            try:
                config = newswatch_config(server, mail, work, args.concurrency)
                return config, newswatch_runs(config, server, mail)
            finally:
                mail.stop()

        if ours_first:
            config, ours = run_ours()
            peer = run_peer()
        else:
            peer = run_peer()
            config, ours = run_ours()
        db = open_archive(work / "newswatch.db")
        stored = db.execute("SELECT count(*) FROM articles").fetchone()[0]
        stories = db.execute("SELECT count(DISTINCT story_id) FROM articles").fetchone()[0]
        matched = db.execute(
            "SELECT count(DISTINCT article_id) FROM matches WHERE watch = 'everything'"
        ).fetchone()[0]
        nw_keys = []
        for r in ours:
            keys, story_of = newswatch_keys(r["messages"], db, canonical_url)
            nw_keys.append(keys)
        db.close()
        strict = strict_check(config, args.concurrency)

    peer_keys = [rss2email_keys(r["messages"], canonical_url) for r in peer]
    peer_judged = judge(peer_keys, expected, lambda link, seen: seen[link] > 0)
    folded = sum(1 for link in expected if link in story_of) - len(
        {story_of[link] for link in expected if link in story_of}
    )
    ours_judged = judge(
        nw_keys,
        expected,
        lambda link, seen: link in story_of and seen[f"story:{story_of[link]}"] > 0,
    )
    version = peer_version()
    print()
    print(
        f"{'tool':<18}{'run':>4}{'wall s':>9}{'CPU s':>8}{'peak RSS MB':>13}{'messages':>10}"
        f"{'duplicates':>12}{'missed':>8}  http"
    )
    rows = [(f"rss2email {version}", peer, peer_judged), ("newswatch", ours, ours_judged)]
    for name, runs, judged in rows:
        for r, j in zip(runs, judged, strict=False):
            print(
                f"{name:<18}{r['run']:>4}{r['wall_s']:>9.2f}{r['cpu_s']:>8.2f}{r['rss_mb']:>13.0f}"
                f"{len(r['messages']):>10}{j['duplicates']:>12}{j['missed']:>8}  {r['http']}"
            )
    for r in peer:
        if r["exit"]:
            print(f"rss2email run {r['run']} exit {r['exit']}: {r['stderr'][-600:]}")
    print(
        f"\nexpected: {len(expected)} distinct item links in {len(bodies)} feeds "
        f"({no_link} entries without a link, not counted); newswatch stored {stored} articles "
        f"in {stories} stories, matched {matched} with query {MATCH_ALL!r}; {folded} links "
        "were folded into another article's story (one message per story, by design)"
    )
    print(
        f"strict SMTP server (lines over 1,000 octets refused), newswatch's {strict['queued']} "
        f"stories sent again: {strict['accepted']} accepted, {strict['refused']} refused"
    )
    out = {
        "peer": peer,
        "ours": ours,
        "peer_judged": peer_judged,
        "ours_judged": ours_judged,
        "strict": strict,
        "version": version,
    }
    if len(ours) == 2 and len(peer) == 2:
        out["speed1"] = peer[0]["wall_s"] / ours[0]["wall_s"]
        out["ratio2"] = ours[1]["wall_s"] / peer[1]["wall_s"]
        out["cpu1"] = peer[0]["cpu_s"] / ours[0]["cpu_s"]
        out["cpu2"] = ours[1]["cpu_s"] / peer[1]["cpu_s"]
        print(
            f"first run: newswatch {out['speed1']:.2f}x as fast as rss2email (target >= 2x; "
            f"by CPU time {out['cpu1']:.2f}x); second: newswatch {ours[1]['wall_s']:.2f} s "
            f"in-process vs rss2email {peer[1]['wall_s']:.2f} s: {out['ratio2']:.2f}x (target "
            f"<= 0.5x; by CPU time {out['cpu2']:.2f}x); load average "
            + " ".join(f"{x:.1f}" for x in os.getloadavg())
        )
    return out


def record(run: dict) -> None:
    """Record one comparison's figures with bench/results.py."""
    peer, ours, strict = run["peer"], run["ours"], run["strict"]
    label = f"rss2email {run['version']}"
    for n, (a, b) in enumerate(zip(ours, peer, strict=True), 1):
        results.record(
            BENCH,
            f"run {n} wall time",
            a["wall_s"],
            "s",
            baseline=b["wall_s"],
            baseline_label=label,
            better="lower",
            target_ratio=0.5,
            note="second run timed inside the running daemon" if n == 2 else None,
        )
        results.record(
            BENCH,
            f"run {n} peak RSS",
            a["rss_mb"],
            "MB",
            baseline=b["rss_mb"],
            baseline_label=label,
            better="lower",
        )
        results.record(
            BENCH,
            f"run {n} messages",
            len(a["messages"]),
            "",
            baseline=len(b["messages"]),
            baseline_label=label,
        )
    for n, (a, b) in enumerate(zip(run["ours_judged"], run["peer_judged"], strict=True), 1):
        results.record(
            BENCH,
            f"run {n} duplicates",
            a["duplicates"],
            "",
            target=0,
            better="lower",
            note=f"rss2email: {b['duplicates']}",
        )
        results.record(
            BENCH,
            f"run {n} items missed",
            a["missed"],
            "",
            target=0,
            better="lower",
            note=f"rss2email: {b['missed']}",
        )
    results.record(
        BENCH,
        "strict SMTP refusals",
        strict["refused"],
        "",
        target=0,
        better="lower",
        note=f"{strict['accepted']} accepted",
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1, help="how many comparisons (default 1)")
    ap.add_argument("--feeds", type=int, default=200, help="how many feeds (default all 200)")
    ap.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="a tuned run: newswatch [delivery] concurrency_per_target (default: the shipped"
        " default, one message at a time); printed, not recorded",
    )
    args = ap.parse_args()
    corpus = results.corpus("real-feeds")
    if not corpus.is_dir():
        return results.skip(BENCH, f"{corpus} is absent (the real-feeds corpus)")
    warnings.simplefilter("ignore")
    files = sorted(p for p in corpus.iterdir() if p.is_file())[: args.feeds]
    bodies = [p.read_bytes() for p in files]
    server = FeedServer(bodies)
    expected, no_link = expected_items(bodies, [server.url(i) for i in range(len(bodies))])
    print(
        f"[{BENCH}] {len(bodies)} feeds, {sum(expected.values())} entries with a link "
        f"({len(expected)} distinct links), {no_link} without a link",
        flush=True,
    )
    r2e = peer_venv()
    tuned = args.concurrency is not None
    done = []
    for i in range(args.runs):
        if args.runs > 1:
            first = "newswatch" if i % 2 == 1 else "rss2email"
            print(f"\n[{BENCH}] comparison {i + 1} of {args.runs} ({first} first)", flush=True)
        run = one_run(args, bodies, server, expected, no_link, r2e, ours_first=i % 2 == 1)
        done.append(run)
        if "speed1" in run and not tuned:
            record(run)
    setting = f"tuned: concurrency_per_target = {args.concurrency}" if tuned else "defaults"
    print(
        f"\n{setting}, {len(done)} comparison(s): first run as fast as rss2email (wall, CPU) / unchanged "
        "second cycle against rss2email's (wall, CPU) / duplicates (newswatch, both runs) / "
        "load before and after newswatch's first run"
    )
    for i, run in enumerate(done, 1):
        if "speed1" not in run:
            print(f"  {i}: incomplete")
            continue
        dups = sum(j["duplicates"] for j in run["ours_judged"])
        load = run["ours"][0]["load"]
        print(
            f"  {i}: {run['speed1']:.2f}x, {run['cpu1']:.2f}x / {run['ratio2']:.2f}x, "
            f"{run['cpu2']:.2f}x / {dups} / {load[0]:.1f} -> {load[1]:.1f}"
        )
    speeds = [(r["speed1"], r["cpu1"]) for r in done if "speed1" in r]
    if len(speeds) > 1:
        print(
            f"  median first run: {statistics.median(w for w, _ in speeds):.2f}x by wall, "
            f"{statistics.median(c for _, c in speeds):.2f}x by CPU time (target >= 2x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
