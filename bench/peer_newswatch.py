"""The newswatch side of bench/bench_peer.py: its config (shipped defaults, private addresses
allowed), the daemon child process that runs two collect -> match -> deliver cycles (timed by
phase: start-up, crawl, match and deliver), the keys its messages are judged by, and the strict
server's re-send.

The child is this file run as ``python bench/peer_newswatch.py --child CONFIG``.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    sys.path[:0] = [str(REPO / "bench"), str(REPO / "tests"), str(REPO)]

from peer_rss2email import canon as _canon  # noqa: E402
from peer_servers import FeedServer, Mail  # noqa: E402

BENCH = "peer"
#: The broadest honest watch: the query language has no match-all, so NOT a word no article
#: contains (checked by bench_peer: the number of articles matched is printed against those
#: stored).
MATCH_ALL = "NOT zqxjvkwpeer"


def newswatch_config(
    server: FeedServer, mail: Mail, work: Path, concurrency: int | None = None
) -> Path:
    """The config: shipped defaults, private addresses allowed (``concurrency``: a tuned
    ``[delivery] concurrency_per_target``)."""
    cfg = work / "newswatch.toml"
    text = (
        f'[archive]\npath = "{work / "newswatch.db"}"\n\n'
        # The shipped crawl defaults (AutoThrottle on, 2 per host, 16 at once, robots.txt
        # obeyed); 127.0.0.x is a private address, so it must be allowed.
        "[crawl]\nallow_private_addresses = true\n\n"
        + (f"[delivery]\nconcurrency_per_target = {concurrency}\n\n" if concurrency else "")
        + '[[targets]]\nname = "mail"\n'
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
    import resource

    import scheduler
    from crawler import runner

    cfg = scheduler.load_config(config)
    # NEWSWATCH_PEER_LOG=INFO shows the daemon's per-source and per-cycle lines on stderr.
    scheduler.setup_logging(level=getattr(logging, os.environ.get("NEWSWATCH_PEER_LOG", "WARNING")))
    phases = Counter()  # seconds per phase of the running cycle (timing only, no change)
    crawl_sources = runner.crawl_sources

    async def timed_crawl(*args, **kw):
        t0 = time.perf_counter()
        try:
            return await crawl_sources(*args, **kw)
        finally:
            phases["crawl_s"] += time.perf_counter() - t0

    runner.crawl_sources = timed_crawl

    def cpu() -> tuple[float, float]:
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # the parse workers, once joined
        return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime

    class TwoCycles(scheduler.Daemon):
        async def process(self) -> dict:
            t0 = time.perf_counter()
            try:
                return await super().process()
            finally:
                phases["process_s"] += time.perf_counter() - t0
                phases["process_runs"] += 1

        async def _once(self) -> None:
            from twisted.internet import reactor

            try:
                names = [s.name for s in self.cfg.sources if s.enabled]
                for n in (1, 2):
                    if n == 2:
                        await self.loop.run_in_executor(None, sys.stdin.readline)
                        Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS
                    phases.clear()
                    started_at, own0, kids0 = time.time(), *cpu()
                    load = os.getloadavg()[0]
                    t0 = time.perf_counter()
                    found = await self.collect(names)
                    took = time.perf_counter() - t0
                    own1, kids1 = cpu()
                    print(
                        json.dumps(
                            {
                                "cycle": n,
                                "started_at": started_at,
                                "in_process_s": took,
                                "cpu_s": own1 - own0,
                                "workers_cpu_s": kids1 - kids0,
                                "startup_cpu_s": own0 + kids0 if n == 1 else 0.0,
                                "load": (load, os.getloadavg()[0]),
                                "hwm_mb": _hwm_mb(),
                                "sources": len(found),
                                **phases,
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
    t0, wall0, load0 = time.perf_counter(), time.time(), os.getloadavg()[0]
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
        startup = info["started_at"] - wall0 if n == 1 else 0.0
        cpu = info["cpu_s"] + info["workers_cpu_s"] + info["startup_cpu_s"]
        runs.append(
            {
                "run": n,
                "wall_s": wall,
                "cpu_s": cpu,
                "in_process_s": info["in_process_s"],
                "rss_mb": info["hwm_mb"],
                "messages": mail.raw[before : mail.count()],
                "http": dict(server.counts - hits),
                "load": (load0 if n == 1 else info["load"][0], info["load"][1]),
                "phases": {
                    "start-up": startup,
                    "crawl": info.get("crawl_s", 0.0),
                    "match+deliver": info.get("process_s", 0.0),
                    "runs": info.get("process_runs", 0),
                },
            }
        )
        ph = runs[-1]["phases"]
        print(
            f"[{BENCH}] newswatch cycle {n}: {wall:.2f} s ({cpu:.1f} s CPU: daemon "
            f"{info['cpu_s'] + info['startup_cpu_s']:.1f}, parse workers "
            f"{info['workers_cpu_s']:.1f}), {len(runs[-1]['messages'])} messages; "
            + (f"start-up {startup:.2f} s, " if n == 1 else "")
            + f"crawl {ph['crawl']:.2f} s, match and deliver {ph['match+deliver']:.2f} s in "
            f"{ph['runs']} runs; load {runs[-1]['load'][0]:.1f} -> "
            f"{runs[-1]['load'][1]:.1f}",
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


def strict_check(config: Path, concurrency: int | None) -> dict:
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


if __name__ == "__main__" and sys.argv[1:2] == ["--child"]:
    sys.exit(child(sys.argv[2]))
