"""Benchmark: newswatch against rss2email (the peer) on the same 200 real feeds and mail server.

    .venv/bin/python bench/bench_peer.py [--feeds N] [--concurrency N]

Each feed is served from its own loopback address (127.0.0.2, 127.0.0.3, ...; real feeds live
on different hosts) by one local HTTP server that answers conditional requests with 304. Both
tools mail one local SMTP server (aiosmtpd, long lines accepted: rss2email aborts its whole run
at the first refused message). Two runs each, feeds unchanged in between:

- rss2email 3.x, installed from PyPI into ``bench/out/peer-venv`` (made here, never into the
  project), every feed added, ``r2e run`` twice as two processes.
- newswatch: one watch that matches every article, one mail target, one daemon process
  (``scheduler.Daemon`` on one reactor) running its collect -> match -> deliver cycle twice.
  The first run is timed from process start; the second cycle inside the running daemon.

The crawl runs with the shipped defaults (only private addresses allowed). Targets: first run
>= 2x as fast as rss2email, the daemon's unchanged second cycle <= 0.5x rss2email's, 0
duplicates. Figures per run: wall time, peak RSS, messages received, duplicates, items missed. Then the
messages newswatch sent are sent again to a strict server (lines over 1,000 octets refused).
Prints the figures and records them with bench/results.py. Never asserts.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "bench"), str(REPO / "tests"), str(REPO)]

import results  # noqa: E402
from peer_rss2email import canon as _canon  # noqa: E402
from peer_rss2email import peer_venv, peer_version, rss2email_keys, rss2email_runs  # noqa: E402
from peer_servers import FeedServer, Mail  # noqa: E402

BENCH = "peer"
#: The broadest honest watch: the query language has no match-all, so NOT a word no article
#: contains (checked below: the number of articles matched is printed against those stored).
MATCH_ALL = "NOT zqxjvkwpeer"
NEVER = "zqxjvkwpeer"


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


# --- newswatch ----------------------------------------------------------------------------


def newswatch_config(server: FeedServer, mail: Mail, work: Path, concurrency: int) -> Path:
    cfg = work / "newswatch.toml"
    text = (
        f'[archive]\npath = "{work / "newswatch.db"}"\n\n'
        # The shipped crawl defaults (AutoThrottle on, 2 per host, 16 at once, robots.txt
        # obeyed); 127.0.0.x is a private address, so it must be allowed.
        "[crawl]\nallow_private_addresses = true\n\n"
        f"[delivery]\nconcurrency_per_target = {concurrency}\n\n"
        '[[targets]]\nname = "mail"\n'
        f'url = "mailto://127.0.0.1:{mail.port}?from=newswatch@example.org'
        '&to=analyst@example.org&mode=insecure"\n\n'
        f'[[watches]]\nname = "everything"\nquery = "{MATCH_ALL}"\ntargets = ["mail"]\n'
    )
    for i in range(len(server.bodies)):
        text += f'\n[[sources]]\nname = "f{i:03d}"\nkind = "feed"\nurl = "{server.url(i)}"\n'
    cfg.write_text(text)
    return cfg


def child(config: str) -> int:
    """The newswatch side: one daemon, two full cycles; the parent says when to start the 2nd."""
    import scheduler

    cfg = scheduler.load_config(config)
    # NEWSWATCH_PEER_LOG=INFO shows the daemon's per-source and per-cycle lines on stderr.
    scheduler.setup_logging(level=getattr(logging, os.environ.get("NEWSWATCH_PEER_LOG", "WARNING")))

    class TwoCycles(scheduler.Daemon):
        async def _once(self) -> None:
            from twisted.internet import reactor

            try:
                names = [s.name for s in self.cfg.sources if s.enabled]
                for n in (1, 2):
                    if n == 2:
                        await self.loop.run_in_executor(None, sys.stdin.readline)
                        Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS
                    t0 = time.perf_counter()
                    found = await self.collect(names)
                    took = time.perf_counter() - t0
                    print(
                        json.dumps(
                            {
                                "cycle": n,
                                "in_process_s": took,
                                "hwm_mb": _hwm_mb(),
                                "sources": len(found),
                            }
                        ),
                        flush=True,
                    )
            except Exception:
                import traceback

                traceback.print_exc()
                self.exit_code = 1
            finally:
                reactor.stop()

    return TwoCycles(config, cfg, once=True, load_config=scheduler.load_config).start()


def _hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def newswatch_runs(config: Path, server: FeedServer, mail: Mail) -> list[dict]:
    argv = [sys.executable, __file__, "--child", str(config)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    runs = []
    before, hits = 0, Counter(server.counts)
    for n in (1, 2):
        line = proc.stdout.readline()
        end = time.perf_counter()
        if not line:
            break
        info = json.loads(line)
        wall = end - t0 if n == 1 else info["in_process_s"]
        runs.append(
            {
                "run": n,
                "wall_s": wall,
                "in_process_s": info["in_process_s"],
                "rss_mb": info["hwm_mb"],
                "messages": mail.raw[before : mail.count()],
                "http": dict(server.counts - hits),
            }
        )
        print(
            f"[{BENCH}] newswatch cycle {n}: {wall:.1f} s, {len(runs[-1]['messages'])} messages",
            flush=True,
        )
        before, hits = mail.count(), Counter(server.counts)
        if n == 1:
            proc.stdin.write("go\n")
            proc.stdin.flush()
    proc.wait()
    return runs


_HREF = re.compile(r'href="([^"]+)"')


def newswatch_keys(messages: list[bytes], db, canonical_url) -> tuple[list[str], dict]:
    """A key per message (the story it announces), and canonical link -> story id."""
    import email
    import email.policy

    story_of = {}
    for url, story in db.execute("SELECT url, story_id FROM articles").fetchall():
        story_of[_canon(canonical_url, url)] = story
    keys = []
    for raw in messages:
        m = email.message_from_bytes(raw, policy=email.policy.default)
        part = m.get_body(preferencelist=("html", "plain"))
        text = part.get_content() if part else ""
        stories = {
            story_of.get(_canon(canonical_url, html.unescape(h))) for h in _HREF.findall(text)
        }
        stories |= {story_of.get(_canon(canonical_url, u)) for u in re.findall(r"URL: (\S+)", text)}
        stories.discard(None)
        keys.append(f"story:{min(stories)}" if stories else f"unknown:{m['subject']}")
    return keys, story_of


def strict_check(config: Path, concurrency: int) -> dict:
    """Send every story newswatch mailed once more, to a strict server, through deliver_due."""
    import scheduler
    from alerts import outbox
    from alerts.config import Target
    from alerts.deliver import deliver_due
    from crawler.archive import open_archive

    cfg = scheduler.load_config(config)
    strict = Mail(strict=True)
    try:
        target = Target(
            name="strict",
            url=cfg.targets[0].url.replace(
                f":{cfg.targets[0].url.split(':')[2].split('?')[0]}", f":{strict.port}"
            ),
        )
        watches = [w.model_copy(update={"targets": ["strict"]}) for w in cfg.watches]
        db = open_archive(cfg.archive.path)
        queued = outbox.enqueue(db, watches, [target])
        stats = deliver_due(db, watches, [target], cfg.delivery)
        db.close()
        return {
            "queued": queued,
            "accepted": strict.count(),
            "refused": strict.refused,
            "failed": stats.failed,
            "retrying": stats.retrying,
        }
    finally:
        strict.stop()


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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=200, help="how many feeds (default all 200)")
    ap.add_argument(
        "--concurrency",
        type=int,
        default=4,
        help="newswatch [delivery] concurrency_per_target (default 4)",
    )
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child)
    corpus = results.corpus("real-feeds")
    if not corpus.is_dir():
        return results.skip(BENCH, f"{corpus} is absent (the real-feeds corpus)")
    warnings.simplefilter("ignore")
    from crawler.archive import open_archive
    from crawler.urls import canonical_url

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
    with tempfile.TemporaryDirectory(dir=results.OUT_DIR) as tmp:
        work = Path(tmp)
        mail = Mail()
        peer = rss2email_runs(r2e, server, mail, work)
        mail.stop()

        mail = Mail()
        config = newswatch_config(server, mail, work, args.concurrency)
        ours = newswatch_runs(config, server, mail)
        mail.stop()
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
        f"{'tool':<18}{'run':>4}{'wall s':>9}{'peak RSS MB':>13}{'messages':>10}"
        f"{'duplicates':>12}{'missed':>8}  http"
    )
    rows = [(f"rss2email {version}", peer, peer_judged), ("newswatch", ours, ours_judged)]
    for name, runs, judged in rows:
        for r, j in zip(runs, judged, strict=False):
            print(
                f"{name:<18}{r['run']:>4}{r['wall_s']:>9.2f}{r['rss_mb']:>13.0f}"
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
    if len(ours) == 2 and len(peer) == 2:
        speed1 = peer[0]["wall_s"] / ours[0]["wall_s"]
        print(
            f"first run: newswatch {speed1:.2f}x as fast as rss2email (target >= 2x); "
            f"second: newswatch {ours[1]['wall_s']:.2f} s in-process vs rss2email "
            f"{peer[1]['wall_s']:.2f} s: {ours[1]['wall_s'] / peer[1]['wall_s']:.2f}x "
            "(target <= 0.5x); load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())
        )
        label = f"rss2email {version}"
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
        for n, (a, b) in enumerate(zip(ours_judged, peer_judged, strict=True), 1):
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
