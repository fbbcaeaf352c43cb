"""Benchmark figures: record them while a benchmark runs, render bench/RESULTS.md from them.

A benchmark records each figure it measures::

    import results

    results.record("matching", "full matcher throughput", 6.2, "MB/s",
                   baseline=0.21, baseline_label="re.I alternation",
                   target=5, target_ratio=20, better="higher")

Each call appends one JSON line to ``bench/out/<bench>.jsonl`` (``$NEWSWATCH_BENCH_OUT``
overrides the folder). ``write_results(out_dir, path)`` reads every ``*.jsonl`` there (the
last record of a figure wins, so re-running one benchmark replaces its figures) and writes
one Markdown table plus PNG charts next to it (the rendering is bench/report.py; the charts
are drawn by bench/plots.py with matplotlib, from the ``bench`` extra).

Figures are judged, never asserted: ``target`` applies to the value, ``target_ratio`` to
value / baseline, both in the direction of ``better``. A figure may carry a ``series`` (for
example RSS per soak cycle), which is drawn as its own line chart.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from crawler import times

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
OUT_DIR = BENCH_DIR / "out"
RUN_FILE = "_run.json"
PACKAGES = (
    "scrapy",
    "feedparser",
    "trafilatura",
    "datasketch",
    "pyahocorasick",
    "apprise",
    "sqlite-utils",
)
_BETTER = ("higher", "lower")


# --- where things are ---------------------------------------------------------------------


def corpora() -> Path:
    """The shared corpora: ``$NEWSWATCH_CORPORA``, else ../shared/corpora next to the repo."""
    env = os.environ.get("NEWSWATCH_CORPORA")
    return Path(env).expanduser().resolve() if env else REPO.parent / "shared" / "corpora"


def corpus(name: str) -> Path:
    """One corpus folder, e.g. ``corpus("real-feeds")`` (it may not exist: check it)."""
    return corpora() / name


def out_dir() -> Path:
    env = os.environ.get("NEWSWATCH_BENCH_OUT")
    return Path(env).expanduser().resolve() if env else OUT_DIR


# --- recording ----------------------------------------------------------------------------


def _series(series) -> dict[str, dict]:
    """Named series ``{name: {"x": [...], "y": [...], "x_label"?, "y_label"?}}``.

    Accepts one series or a mapping of names to series (``{"rss_mb": ..., "fds": ...}``);
    one series is named ``"value"``. See ``_points`` for the shape of one series.
    """
    if isinstance(series, Mapping) and "y" not in series:
        if not series:
            raise ValueError("series is empty")
        return {str(name): _points(points) for name, points in series.items()}
    return {"value": _points(series)}


def _points(series) -> dict:
    """One series as ``{"x": [...], "y": [...], "x_label", "y_label"}``.

    Accepts that mapping (x and labels optional), a sequence of ``(x, y)`` pairs, or a
    sequence of numbers (x is then 1, 2, ...).
    """
    if isinstance(series, Mapping):
        xs, ys = list(series.get("x") or range(1, len(series["y"]) + 1)), list(series["y"])
        labels = {k: str(series[k]) for k in ("x_label", "y_label") if series.get(k)}
    else:
        items = list(series)
        if items and isinstance(items[0], Sequence) and not isinstance(items[0], str):
            xs, ys = [p[0] for p in items], [p[1] for p in items]
        else:
            xs, ys = list(range(1, len(items) + 1)), items
        labels = {}
    if len(xs) != len(ys):
        raise ValueError(f"series has {len(xs)} x values and {len(ys)} y values")
    return {"x": [float(x) for x in xs], "y": [float(y) for y in ys], **labels}


def record(
    bench: str,
    figure: str,
    value: float,
    unit: str = "",
    *,
    baseline: float | None = None,
    baseline_label: str | None = None,
    target: float | None = None,
    target_ratio: float | None = None,
    better: str = "higher",
    series=None,
    note: str | None = None,
    out: Path | None = None,
) -> dict:
    """Append one figure of ``bench`` to ``<out>/<bench>.jsonl`` and return the record.

    ``unit`` is printed after the value (``"s"``, ``"MB/s"``, ``"%"``, ``""`` for a plain
    number). ``baseline`` is the same figure measured in the same run by the reference
    implementation named in ``baseline_label``. ``better`` says which direction is good and
    so how ``target`` (on the value) and ``target_ratio`` (on value / baseline) are judged.
    ``series`` is drawn as a line chart: one series, or a mapping of names to series drawn
    together (see ``_series`` and ``_points`` for the accepted shapes).
    """
    if better not in _BETTER:
        raise ValueError(f"better must be one of {_BETTER}, not {better!r}")
    if target_ratio is not None and baseline is None:
        raise ValueError(f"{bench}/{figure}: target_ratio needs a baseline")
    rec = {
        "bench": bench,
        "figure": figure,
        "value": float(value),
        "unit": unit,
        "baseline": None if baseline is None else float(baseline),
        "baseline_label": baseline_label,
        "target": None if target is None else float(target),
        "target_ratio": None if target_ratio is None else float(target_ratio),
        "better": better,
        "note": note,
        "series": None if series is None else _series(series),
        "recorded_at": times.utcnow(),
    }
    folder = Path(out) if out is not None else out_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{bench}.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps(rec) + "\n")
    return rec


def skip(bench: str, reason: str, *, out: Path | None = None) -> int:
    """Print the skip message, record it for RESULTS.md, and return 0 (an exit status)."""
    print(f"skipped: {reason}", flush=True)
    folder = Path(out) if out is not None else out_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{bench}.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps({"bench": bench, "skipped": reason}) + "\n")
    return 0


class Progress:
    """Prints ``[bench] what done/total`` at most every ``every`` seconds, and at the end."""

    def __init__(self, bench: str, what: str, total: int | None = None, every: float = 5.0):
        self.bench, self.what, self.total, self.every = bench, what, total, every
        self.start = self._last = time.monotonic()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        end = self.total is not None and done >= self.total
        if end or now - self._last >= self.every:
            self._last = now
            of = f"/{self.total}" if self.total is not None else ""
            print(
                f"[{self.bench}] {self.what} {done}{of} ({now - self.start:.0f} s)",
                flush=True,
            )

    def iterate(self, items: Iterable):
        """Yield from ``items``, reporting after each."""
        for done, item in enumerate(items, 1):
            yield item
            self(done)


# --- the machine --------------------------------------------------------------------------


def machine() -> dict:
    """Cores, CPU, memory, OS, Python and the versions of the packages that do the work."""
    from importlib import metadata

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    memory = None
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        memory = round(pages * size / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cores": usable,
        "cpu": cpu,
        "memory_gb": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": versions,
    }


# --- rendering (bench/report.py) ----------------------------------------------------------

_DEFAULT = object()


def _report():
    """bench/report.py, loaded by path once (bench/ need not be on ``sys.path``)."""
    module = sys.modules.get("newswatch_bench_report")
    if module is None:
        spec = importlib.util.spec_from_file_location(
            "newswatch_bench_report", BENCH_DIR / "report.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules["newswatch_bench_report"] = module
    return module


def write_results(
    out: Path | None = None,
    path: Path | None = None,
    *,
    charts: Path | None = None,
    draw: Callable[[list[dict], Path], list[tuple[str, Path]]] | None | object = _DEFAULT,
) -> Path:
    """Render ``path`` (default bench/RESULTS.md) from the records in ``out``.

    Machine, date and per-benchmark wall times come from ``<out>/_run.json`` when
    ``run_all.py`` wrote one, else from this machine and now. Charts go to ``charts``
    (default: a ``charts`` folder beside ``path``) drawn by ``draw`` (default: bench/plots.py;
    None: no charts); only charts that exist are linked.
    """
    out = Path(out) if out is not None else out_dir()
    path = Path(path) if path is not None else BENCH_DIR / "RESULTS.md"
    run_path = out / RUN_FILE
    run = json.loads(run_path.read_text(encoding="utf-8")) if run_path.exists() else {}
    options = {} if draw is _DEFAULT else {"draw": draw}
    report = _report()
    info = run.get("machine") or machine()
    return report.write_results(out, path, run=run, info=info, charts=charts, **options)


if __name__ == "__main__":
    print(write_results(), file=sys.stdout)
