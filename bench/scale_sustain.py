"""The sustained cycle of bench_scale.py (``--sustain N``): the real daemon (``newswatch
run``, the shipped defaults but for a scaled-down ``[crawl] interval``) over N simulated
hosts for a few intervals. Does every source come round on time?

A warm-up (``run --once``: the first crawl stores and matches every item of every feed,
which is not the steady state, so it is not measured) comes first; its fetch times are then
moved back by most of an interval, so sources come due soon after the daemon starts instead
of a whole idle interval later. The daemon then runs ``--rounds`` intervals while the
simulated web puts fresh items in every feed once per interval.

A source is due one interval (plus its jitter) after its last attempt finished, so a
daemon that cannot keep up does not fall behind a clock: its rounds stretch (and sources
that come due during a collection wait for it: one runs at a time). So the measure is the
collector's busy time per source, from the daemon's JSON log (each collection's sources and
its time: crawl, then match and deliver): a round of all N sources takes N times that, and
the cycle fits its interval when that round is shorter than the interval. Lateness is
printed beside it, from the archive's ``fetches`` table: each fetch's start minus its due
time (the end of the source's previous attempt plus the interval plus its jitter,
crawler/schedule.py); a source still not fetched at the end counts as late by the time it
has waited. From /proc: the CPU seconds and resident memory of the daemon's
process group (the daemon and its parse workers), sampled every 2 s.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from scale_web import Web

TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def run_queue_s(pid: int) -> float:
    """Seconds this process was ready to run but waited for a core (the machine's load)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def group_usage(pgid: int) -> tuple[float, int, int]:
    """CPU seconds (reaped children included), resident KB and process count of a group."""
    cpu, rss, count = 0.0, 0, 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) != pgid:  # field 5 of stat: the process group
            continue
        ticks = int(fields[11]) + int(fields[12])  # utime, stime
        if int(entry.name) == pgid:
            ticks += int(fields[13]) + int(fields[14])  # cutime, cstime: reaped children
        cpu += ticks / TICKS
        rss += int(fields[21]) * PAGE_KB
        count += 1
    return cpu, rss, count


def _lateness(config: Path, archive: Path, since: datetime, end: datetime) -> dict:
    """Each daemon fetch's lateness, and each source still waiting at ``end``."""
    from sqlite_utils import Database

    from crawler import schedule
    from crawler.times import parse_time
    from scheduler import load_config

    cfg = load_config(config)
    by_name = {s.name: s for s in cfg.sources}
    rows: dict[str, list[dict]] = {}
    db = Database(archive)
    for r in db.query("SELECT * FROM fetches ORDER BY source, started_at"):
        rows.setdefault(r["source"], []).append(r)
    late, waiting, failed, fetched = [], [], 0, 0
    for name, src in by_name.items():
        interval = src.effective_interval(cfg.crawl)
        jitter = schedule.jitter(src, cfg.crawl)
        history = rows.get(name, [])
        prev = None
        for r in history:
            started = parse_time(r["started_at"])
            if prev is not None and started >= since:
                fetched += 1
                # the collection the stop cut short is not a failure of the crawl
                failed += 1 if r["error_class"] not in (None, "interrupted") else 0
                due = parse_time(prev["finished_at"]) + interval + jitter
                late.append((started - due).total_seconds())
            prev = r
        if prev is not None and prev["finished_at"]:
            due = parse_time(prev["finished_at"]) + interval + jitter
            if due < end:
                waiting.append((end - due).total_seconds())
    return {"late": late, "waiting": waiting, "failed": failed, "fetched": fetched}


def _backdate(archive: Path, seconds: float) -> None:
    """Move the warm-up's fetch times back (as if it had run that long ago)."""
    import sqlite3

    shift = f"-{seconds:.0f} seconds"
    con = sqlite3.connect(archive)
    with con:
        for table, cols in (("fetches", ("started_at", "finished_at")),
                            ("sources", ("last_attempt_at",))):  # fmt: skip
            for col in cols:
                con.execute(
                    f"UPDATE {table} SET {col} = strftime('%Y-%m-%dT%H:%M:%fZ', {col}, ?)"
                    f" WHERE {col} IS NOT NULL",
                    [shift],
                )
    con.close()


def _log(path: Path) -> dict:
    crawls, process, spans = [], [], []
    for line in path.read_text("utf-8", "replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("event") == "collect":
            crawls.append((rec.get("sources") or 0, rec.get("crawl_s") or 0, rec.get("cycle_s")))
            end = datetime.fromisoformat(rec["time"].replace("Z", "+00:00")).timestamp()
            spans.append((end - (rec.get("cycle_s") or rec.get("crawl_s") or 0), end))
        elif rec.get("event") == "cycle" and rec.get("process_s") is not None:
            process.append(rec["process_s"])
    return {"crawls": crawls, "process": process, "spans": spans}


def sustain(n: int, interval_s: int, rounds: float, full_text: float, corpora, helpers) -> dict:
    """Run the daemon over ``n`` hosts for ``rounds`` intervals; print and return figures."""
    write_config, newswatch = helpers
    web = Web(n, full_text, *corpora, period=interval_s)
    with tempfile.TemporaryDirectory(prefix="bench-scale-sustain-") as tmp:
        folder = Path(tmp)
        config = write_config(folder, web, None, interval=f"{interval_s}s")
        t = time.perf_counter()
        # `run --once`: the first crawl and the matching of everything it stored
        warm = newswatch(config, "run", "--once", stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)  # fmt: skip
        warm.wait()
        warm_s = time.perf_counter() - t
        _backdate(folder / "archive.db", interval_s - 15)
        log = folder / "daemon.log"
        load0 = os.getloadavg()
        with open(log, "wb") as out:
            since = datetime.now(UTC)
            daemon = newswatch(config, "run", "--log-format", "json", stdout=out,
                               stderr=subprocess.STDOUT)  # fmt: skip
            samples = []
            stop_at = time.monotonic() + rounds * interval_s
            while time.monotonic() < stop_at and daemon.poll() is None:
                samples.append(
                    (time.monotonic(), *group_usage(daemon.pid), run_queue_s(daemon.pid),
                     time.time())
                )  # fmt: skip
                time.sleep(2)
            end = datetime.now(UTC)
            os.killpg(daemon.pid, signal.SIGTERM)
            daemon.wait(120)
        load1 = os.getloadavg()
        late = _lateness(config, folder / "archive.db", since, end)
        logged = _log(log)
    web.loop.call_soon_threadsafe(web.loop.stop)
    window = samples[-1][0] - samples[0][0] if len(samples) > 1 else 0.0
    # CPU and run-queue time from the start of the first whole collection to the end of the
    # last (a collection cut short by the stop is not counted, in sources or in CPU)
    inside = samples
    if logged["spans"]:
        first, last = logged["spans"][0][0], logged["spans"][-1][1]
        inside = [x for x in samples if first - 2 <= x[5] <= last + 2] or samples
    cpu = inside[-1][1] - inside[0][1] if len(inside) > 1 else 0.0
    queued = inside[-1][4] - inside[0][4] if len(inside) > 1 else 0.0
    crawl_s = sum(c for _, c, _ in logged["crawls"])
    busy_s = sum(c if c is not None else k for _, k, c in logged["crawls"])
    collected = sum(n for n, _, _ in logged["crawls"])
    per_source = busy_s / collected if collected else float("inf")
    process_s = sum(logged["process"])
    waits = sorted(late["late"] + late["waiting"])
    worst = waits[-1] if waits else 0.0
    p95 = waits[int(0.95 * (len(waits) - 1))] if waits else 0.0
    fits = bool(collected) and n * per_source <= interval_s
    out = {
        "n": n, "interval_s": interval_s, "warm_s": warm_s, "window_s": window,
        "fetched": late["fetched"], "failed": late["failed"], "waiting": len(late["waiting"]),
        "late_p50": statistics.median(late["late"]) if late["late"] else None,
        "late_max": worst, "late_p95": p95, "collections": len(logged["crawls"]), "crawl_s": crawl_s,
        "process_s": process_s, "cpu_s": cpu, "run_queue_s": queued, "busy_s": busy_s, "collected": collected,
        "per_source_s": per_source, "round_s": n * per_source,
        "peak_rss_mb": max((s[2] for s in samples), default=0) / 1024,
        "load": (load0[0], load1[0]), "fits": fits,
    }  # fmt: skip
    rate = out["fetched"] / window if window else 0.0
    out["rate"] = rate
    print(
        f"\nsustained: N={n}, interval {interval_s} s, {rounds} intervals of `newswatch run`"
        f" (warm-up crawl {warm_s:.0f} s, not counted); load average"
        f" {load0[0]:.1f} -> {load1[0]:.1f} on {os.cpu_count()} cores (a shared machine)"
    )
    p50 = f"{out['late_p50']:.1f}" if out["late_p50"] is not None else "-"
    print(
        f"  {out['fetched']} fetches ({out['failed']} failed) in {window:.0f} s = {rate:.2f}"
        f" sources/s; lateness p50 {p50} s, p95 {p95:.1f} s, worst {worst:.1f} s;"
        f" {out['waiting']} sources overdue at the end"
    )
    print(
        f"  {out['collections']} collections of {collected} sources: busy {busy_s:.0f} s of"
        f" {window:.0f} s (crawling {crawl_s:.0f} s; match+deliver {process_s:.1f} s on its"
        f" own timer), {per_source * 1000:.0f} ms of collector time per source: a round of"
        f" {n} sources takes {n * per_source:.0f} s"
    )
    print(
        f"  CPU of the daemon and its parse workers during the collections {cpu:.0f} s"
        f" ({cpu / max(inside[-1][0] - inside[0][0], 1e-9):.2f}"
        f" cores), {cpu / max(collected, 1) * 1000:.0f} ms per source; peak RSS of the"
        f" group {out['peak_rss_mb']:.0f} MB; the daemon process waited {queued:.0f} s for a"
        " core (other people's work on the machine)"
    )
    print(
        f"  fits its {interval_s} s interval (a round of all {n} sources takes less):"
        f" {'yes' if fits else 'NO'}"
    )
    return out
