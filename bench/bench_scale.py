"""Benchmark: the single-machine ceiling, and collection on 1 vs 2 cluster workers (issue 19).

    .venv/bin/python bench/bench_scale.py [--sizes 40,80] [--full-text 0.2] [--cycles 2]
                                          [--workers 0,1,2] [--profile 40] [--soak 0]
                                          [--sustain 400 --interval 120 --rounds 3.5]

A simulated web served from this machine: N hosts on loopback addresses (127.1.x.y), each
answering after a latency drawn from 50-500 ms (fixed per host). Most hosts serve a real
feed from ../shared/corpora/real-feeds with two fresh items put in front of it every cycle;
a share (``--full-text``) serve a feed of their own whose items link to article pages from
../shared/corpora/article-extraction (followed and extracted: ``full_text = true``), also
with two fresh items per cycle. ETags are sent, so an unchanged body would be a 304.

For each N in ``--sizes`` and each collection mode in ``--workers`` (0: the embedded daemon,
k: a [cluster] section, a redis-server of our own and k `newswatch worker` processes of
one crawl each), ``newswatch run --once`` runs ``--cycles`` times with the SHIPPED defaults
(only ``allow_private_addresses`` set, as the hosts are 127.x), one watch. Printed per run:
the crawl and whole-cycle time (from the daemon's JSON log), CPU seconds (the daemon, its
parse workers and the cluster workers, from getrusage of reaped children) and peak RSS.
The steady state is the last cycle (two fresh items per source); the ceiling per
15-minute cycle is projected from the two largest sizes (time = a + b*N).

``--profile N`` crawls N sources once in this process under cProfile (parsing in place) and
splits its time into fetch wait (wall minus CPU), feed parsing, extraction, dedupe (story
assignment) and storing; matching and delivery come from the daemon's own ``cycle`` log.
``--sustain N,...`` runs the real daemon (``newswatch run``) at a scaled-down interval for a
few intervals per N and says whether each cycle fits its interval (bench/scale_sustain.py);
the largest N that fits, times 15 minutes / interval, is the per-15-minute figure (the
multiplication is an extrapolation; the N is measured). ``--sizes ''`` skips the --once runs.
``--soak K`` sends K one-source tasks to one cluster worker (``--soak-concurrency`` crawls
at once) and prints its open files and RSS, and its fork server's, every tenth of the way
(bench/scale_soak.py). The machine may be shared: read ratios, not absolute times.
Skips cleanly when the corpora are absent. Never asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CYCLE_S = 15 * 60


# --- the simulated web --------------------------------------------------------------------


from scale_web import ARTICLES, FEEDS, Web, _free_port, load_corpora  # noqa: E402

# --- runs ---------------------------------------------------------------------------------


BATCH: int | None = None  # --batch: [cluster] batch (None: the shipped default)


def write_config(
    folder: Path,
    web: Web,
    broker: str | None,
    interval: str | None = None,
    batch: int | None = None,
) -> Path:
    lines = [
        f'[archive]\npath = "{folder / "archive.db"}"',
        "[crawl]\nallow_private_addresses = true"
        + (f'\ninterval = "{interval}"' if interval else ""),
        '[[watches]]\nname = "all"\nquery = "NOT zqxjvkwscale"',
    ]
    if broker:
        lines.append(f'[cluster]\nbroker = "{broker}"\nworker_concurrency = 1')
        if batch or BATCH:
            lines[-1] += f"\nbatch = {batch or BATCH}"
    for i in range(web.n):
        full = "true" if i in web.full else "false"
        lines.append(
            f'[[sources]]\nname = "s{i}"\nkind = "feed"\nurl = "{web.url(i)}"\nfull_text = {full}'
        )
    path = folder / "newswatch.toml"
    path.write_text("\n\n".join(lines) + "\n")
    return path


def newswatch(config: Path, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(REPO / "scheduler.py"), "--config", str(config), *args],
        cwd=REPO,
        start_new_session=True,
        **kw,
    )


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_cycle(config: Path) -> dict:
    """One `newswatch run --once`: its crawl/cycle/process times and items stored."""
    started = time.perf_counter()
    proc = newswatch(
        config, "run", "--once", "--log-format", "json",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, err = proc.communicate()
    wall = time.perf_counter() - started
    out = {"wall_s": wall, "rc": proc.returncode, "new": 0, "failed": 0}
    for line in err.decode("utf-8", "replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("event") == "collect":
            out["crawl_s"], out["cycle_s"] = rec.get("crawl_s"), rec.get("cycle_s")
        elif rec.get("event") == "cycle":
            out["process_s"] = rec.get("process_s")
        elif rec.get("event") == "fetch":
            out["new"] += rec.get("items_new") or 0
            out["failed"] += 1 if rec.get("error_class") else 0
    return out


class Cluster:
    """A redis-server and k `newswatch worker` processes for one config."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = _free_port()
        self.redis = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(0.5)
        self.workers: list[subprocess.Popen] = []

    @property
    def broker(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start_workers(self, config: Path, k: int, *args: str) -> None:
        for n in range(k):
            log = open(self.folder / f"worker{n}.log", "wb")  # noqa: SIM115
            self.workers.append(
                newswatch(config, "worker", *args, stdout=log, stderr=subprocess.STDOUT)
            )
        time.sleep(4)  # the workers connect

    def stop(self) -> None:
        for p in self.workers:
            os.killpg(p.pid, signal.SIGTERM)
        for p in self.workers:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.redis.terminate()
        self.redis.wait()


def run_mode(n: int, workers: int, cycles: int, full_text: float, corpora) -> list[dict]:
    web = Web(n, full_text, *corpora)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        folder = Path(tmp)
        cluster = Cluster(folder) if workers else None
        config = write_config(folder, web, cluster.broker if cluster else None)
        cpu0 = children_cpu()
        if cluster:
            cluster.start_workers(config, workers)
        rows = []
        try:
            for c in range(cycles):
                web.next_cycle()
                rows.append({"cycle": c + 1, **run_cycle(config)})
        finally:
            if cluster:
                cluster.stop()
        cpu = children_cpu() - cpu0
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    web.loop.call_soon_threadsafe(web.loop.stop)
    for r in rows:
        r.update(n=n, workers=workers)
    rows[-1]["cpu_s_all_cycles"] = cpu
    rows[-1]["peak_rss_mb"] = peak_mb
    return rows


# --- the profiled in-process crawl --------------------------------------------------------


def profile_stages(n: int, full_text: float, corpora) -> None:
    """A steady-state crawl of N sources (a cold `newswatch crawl` first, then fresh items)
    in this process under cProfile, and the matching of what it stored."""
    import cProfile
    import pstats

    sys.path[:0] = [str(REPO)]
    from crawler import workers as workers_mod
    from crawler.runner import run_crawl
    from scheduler import load_config

    workers_mod.ParseWorkers.__init__.__kwdefaults__["min_bytes"] = 1 << 62  # parse in place
    web = Web(n, full_text, *corpora)
    web.next_cycle()
    with tempfile.TemporaryDirectory(prefix="bench-scale-prof-") as tmp:
        config = write_config(Path(tmp), web, None)
        newswatch(config, "run", "--once", stdout=subprocess.DEVNULL,
                  stderr=subprocess.DEVNULL).wait()  # fmt: skip
        web.next_cycle()
        cfg = load_config(config)
        prof = cProfile.Profile(time.process_time)  # CPU time: the machine may be shared
        wall0, cpu0 = time.perf_counter(), time.process_time()
        prof.enable()
        run_crawl(cfg.crawl, cfg.sources, cfg.archive.path)
        prof.disable()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        from alerts import match_stage, schema
        from alerts.stages import compile_matcher

        matcher = compile_matcher(cfg)
        db = schema.open_archive(cfg.archive.path)
        m0 = time.process_time()
        matched = match_stage.match_pending(db, matcher)
        match_s = time.process_time() - m0
        db.close()
    stats = pstats.Stats(prof).stats
    cum = {}
    for (file, _, name), (_, _, _, ct, _) in stats.items():
        cum[(Path(file).name, name)] = cum.get((Path(file).name, name), 0) + ct
    # parse_feed_for_store calls parse_feed: the larger of the two, not their sum
    parse = max(
        cum.get(("feeds.py", "parse_feed"), 0), cum.get(("feeds.py", "parse_feed_for_store"), 0)
    )
    extract = cum.get(("extract.py", "extract_article"), 0)
    dedupe = cum.get(("stories.py", "assign"), 0) + cum.get(("stories.py", "record_update"), 0)
    store = max(0.0, cum.get(("store.py", "store_items"), 0) - dedupe)
    print(
        f"\nprofiled steady-state crawl of {n} sources in one process (after a cold one;"
        " cProfile inflates CPU stages):"
    )
    print(
        f"  wall {wall:.1f} s, CPU {cpu:.1f} s, waiting (wall - CPU: the network, and the cores"
        f" other work held) {max(0, wall - cpu):.1f} s"
    )
    for name, v in (("feed parsing", parse), ("extraction", extract), ("dedupe", dedupe),
                    ("store", store)):  # fmt: skip
        print(f"  {name:13s} {v:6.2f} s  ({v / max(cpu, 1e-9):.0%} of CPU)")
    other = cpu - parse - extract - dedupe - store
    print(f"  {'the rest':13s} {other:6.2f} s  ({other / max(cpu, 1e-9):.0%}: Scrapy, normalizing)")
    print(
        f"  then matching what it stored: {match_s:.2f} s CPU"
        f" ({getattr(matched, 'articles', matched)} articles, not profiled); no targets, so"
        " delivery does nothing here (bench_delivery.py measures it)"
    )


# --- the soak -----------------------------------------------------------------------------


# --- main ---------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="40,80", help="numbers of sources, comma-separated")
    ap.add_argument("--full-text", type=float, default=0.2, help="share of full-text sources")
    ap.add_argument("--cycles", type=int, default=2)
    ap.add_argument("--workers", default="0,1,2", help="0: embedded; k: k cluster workers")
    ap.add_argument("--profile", type=int, default=0, help="profile a crawl of N sources")
    ap.add_argument("--soak", type=int, default=0, help="send K tasks to one worker")
    ap.add_argument("--soak-concurrency", type=int, default=2, help="--soak: crawls at once")
    ap.add_argument("--batch", type=int, default=None, help="[cluster] batch (default: shipped)")
    ap.add_argument(
        "--sustain", default="", help="sizes N (comma-separated) for sustained daemon runs"
    )
    ap.add_argument("--interval", type=int, default=120, help="--sustain: interval, seconds")
    ap.add_argument("--rounds", type=float, default=3.5, help="--sustain: intervals to run")
    args = ap.parse_args()
    global BATCH
    BATCH = args.batch
    if not FEEDS.is_dir() or not ARTICLES.is_dir():
        print(f"skipped: {FEEDS} or {ARTICLES} is missing")
        return
    corpora = load_corpora()
    modes = [int(w) for w in args.workers.split(",")]
    if any(modes) and shutil.which("redis-server") is None:
        print("redis-server is missing (make redis): cluster modes skipped")
        modes = [m for m in modes if m == 0]
    print(f"{len(corpora[0])} real feeds, {len(corpora[1])} article pages; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    sys.path[:0] = [str(REPO / "bench")]
    import results

    steady: dict[int, list[tuple[int, float]]] = {}
    for n in [int(s) for s in args.sizes.split(",") if s]:
        for w in modes:
            rows = run_mode(n, w, args.cycles, args.full_text, corpora)
            label = "embedded" if w == 0 else f"{w} worker{'s' if w > 1 else ''}"
            for r in rows:
                print(
                    f"N={n:5d} {label:10s} cycle {r['cycle']}: wall {r['wall_s']:6.1f} s,"
                    f" crawl {r.get('crawl_s') or 0:6.1f} s, match+deliver"
                    f" {r.get('process_s') or 0:5.2f} s, new items {r['new']:6d},"
                    f" failed sources {r['failed']}, exit {r['rc']}"
                )
            last = rows[-1]
            print(
                f"           {label}: CPU {last['cpu_s_all_cycles']:.1f} s over {args.cycles}"
                f" cycles (all processes), peak RSS of one process {last['peak_rss_mb']:.0f} MB"
            )
            steady.setdefault(w, []).append((n, last.get("cycle_s") or last["wall_s"]))
    for w, points in steady.items():
        label = "embedded" if w == 0 else f"{w} workers"
        if len(points) >= 2:
            (n1, t1), (n2, t2) = points[-2], points[-1]
            b = (t2 - t1) / (n2 - n1) if n2 != n1 else t2 / n2
            a = t1 - b * n1
            ceiling = (CYCLE_S - a) / b if b > 0 else float("inf")
            print(
                f"{label}: steady cycle = {a:.1f} s + {b * 1000:.0f} ms x N ->"
                f" about {ceiling:,.0f} sources per 15-minute cycle (projected)"
            )
            results.record(
                "scale", f"sources per 15-minute cycle, {label} (projected from N={n1},{n2})",
                round(ceiling), "sources", note=f"load average {os.getloadavg()[0]:.1f}",
            )  # fmt: skip
        else:
            n, t = points[-1]
            print(f"{label}: {t / n * 1000:.0f} ms per source -> about {CYCLE_S / (t / n):,.0f}")
    base = dict(steady.get(0, []))
    for w, points in steady.items():
        if w and base:
            for n, t in points:
                if n in base:
                    print(f"N={n}: {w} workers' steady cycle / embedded = {t / base[n]:.2f}x")
                    results.record(
                        "scale", f"steady cycle, N={n}, {w} cluster workers", round(t, 1), "s",
                        baseline=round(base[n], 1), baseline_label="embedded daemon",
                        better="lower",
                    )  # fmt: skip
    sustained = []
    for n in [int(s) for s in args.sustain.split(",") if s]:
        from scale_sustain import sustain

        sustained.append(
            sustain(n, args.interval, args.rounds, args.full_text, corpora,
                    (write_config, newswatch))
        )  # fmt: skip
    fitting = [r for r in sustained if r["fits"]]
    if fitting:
        best = max(fitting, key=lambda r: r["n"])
        per15 = best["n"] * CYCLE_S / best["interval_s"]
        print(
            f"largest N measured to fit a {best['interval_s']} s interval: {best['n']} sources"
            f" (measured); x {CYCLE_S / best['interval_s']:.1f} = {per15:,.0f} sources per"
            f" 15-minute cycle (extrapolated: the same cost per source at {CYCLE_S / best['interval_s']:.1f}x"
            " the interval)"
        )
        results.record(
            "scale", f"sources per {best['interval_s']} s interval, sustained (measured)",
            best["n"], "sources", note=f"load average {best['load'][1]:.1f}",
        )  # fmt: skip
    if args.profile:
        profile_stages(args.profile, args.full_text, corpora)
    if args.soak:
        from scale_soak import soak

        soak(args.soak, corpora, args.soak_concurrency, (Cluster, write_config))


if __name__ == "__main__":
    main()
