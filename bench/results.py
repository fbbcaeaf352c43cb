"""Benchmark figures: record them while a benchmark runs, render bench/RESULTS.md from them.

A benchmark records each figure it measures::

    import results

    results.record("matching", "full matcher throughput", 6.2, "MB/s",
                   baseline=0.21, baseline_label="re.I alternation",
                   target=5, target_ratio=20, better="higher")

Each call appends one JSON line to ``bench/out/<bench>.jsonl`` (``$NEWSWATCH_BENCH_OUT``
overrides the folder). ``write_results(out_dir, path)`` reads every ``*.jsonl`` there (the
last record of a figure wins, so re-running one benchmark replaces its figures) and writes
one Markdown table plus PNG charts next to it (drawn by bench/plots.py with matplotlib,
from the ``bench`` extra).

Figures are judged, never asserted: ``target`` applies to the value, ``target_ratio`` to
value / baseline, both in the direction of ``better``. A figure may carry a ``series`` (for
example RSS per soak cycle), which is drawn as its own line chart.
"""

from __future__ import annotations

import importlib.util
import json
import math
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


# --- reading and judging ------------------------------------------------------------------


def load(out: Path) -> tuple[list[dict], dict[str, str]]:
    """Figures (last record per bench and figure, in first-recorded order) and skips.

    A skip stands until a later figure of the same benchmark supersedes it; a benchmark with
    figures recorded before its skip skipped only a part.
    """
    figures: dict[tuple[str, str], dict] = {}  # dicts keep first-insertion order
    skipped: dict[str, str] = {}
    for path in sorted(Path(out).glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            rec = json.loads(line)
            if "skipped" in rec:
                skipped[rec["bench"]] = rec["skipped"]
            else:
                skipped.pop(rec["bench"], None)
                figures[(rec["bench"], rec["figure"])] = rec
    return list(figures.values()), skipped


def ratio(rec: dict) -> float | None:
    base = rec.get("baseline")
    if base is None or base == 0:
        return None
    return rec["value"] / base


def verdict(rec: dict) -> bool | None:
    """True when every target of the figure is met, False when one is missed, None if none."""
    checks = []
    higher = rec.get("better", "higher") == "higher"
    if rec.get("target") is not None:
        checks.append((rec["value"], rec["target"]))
    if rec.get("target_ratio") is not None:
        r = ratio(rec)
        checks.append((r if r is not None else math.nan, rec["target_ratio"]))
    if not checks:
        return None
    return all((v >= t) if higher else (v <= t) for v, t in checks)


# --- rendering ----------------------------------------------------------------------------


def number(v: float | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    a = abs(v)
    if float(v).is_integer() and (a == 0 or a >= 2):  # counts: 0, 5,295
        return f"{int(v):,}"
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1 or a == 0:
        return f"{v:.2f}"
    return f"{v:.3g}"


def _with_unit(v: float | None, unit: str) -> str:
    if v is None:
        return "—"
    if not unit:
        return number(v)
    return f"{number(v)}{unit}" if unit == "%" else f"{number(v)} {unit}"


def _short(v: float) -> str:
    """A target as written: 1,000 / 0.95 / 0.667 (for 1 / 1.5)."""
    return f"{int(v):,}" if float(v).is_integer() else f"{v:.3g}"


def target_text(rec: dict) -> str:
    op = ">=" if rec.get("better", "higher") == "higher" else "<="
    parts = []
    if rec.get("target") is not None:
        unit = rec.get("unit", "")
        sep = "" if unit in ("", "%") else " "
        parts.append(f"{op} {_short(rec['target'])}{sep}{unit}")
    if rec.get("target_ratio") is not None:
        parts.append(f"{op} {_short(rec['target_ratio'])}x baseline")
    return ", ".join(parts) or "—"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(records: list[dict]) -> list[str]:
    lines = [
        "| benchmark | figure | value | baseline (same run) | ratio | target | met? |",
        "|---|---|--:|--:|--:|---|---|",
    ]
    for rec in records:
        unit = rec.get("unit", "")
        base = _with_unit(rec.get("baseline"), unit)
        if rec.get("baseline") is not None and rec.get("baseline_label"):
            base = f"{base} ({rec['baseline_label']})"
        r = ratio(rec)
        ok = verdict(rec)
        figure = rec["figure"] + (f" ({rec['note']})" if rec.get("note") else "")
        cells = [
            rec["bench"],
            figure,
            _with_unit(rec["value"], unit),
            base,
            "—" if r is None else f"{number(r)}x",
            target_text(rec),
            {True: "met", False: "**missed**", None: "—"}[ok],
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def draw_charts(records: list[dict], charts: Path) -> list[tuple[str, Path]]:
    """Draw the PNG charts with bench/plots.py; return (title, path) for each. Needs
    matplotlib (ImportError otherwise)."""
    spec = importlib.util.spec_from_file_location("newswatch_bench_plots", BENCH_DIR / "plots.py")
    plots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plots)
    return plots.draw_charts(records, charts, number)


def _machine_lines(info: dict) -> list[str]:
    pkgs = ", ".join(f"{k} {v}" for k, v in info.get("packages", {}).items())
    mem = f", {info['memory_gb']} GB RAM" if info.get("memory_gb") else ""
    return [
        f"- Machine: {info.get('cores')} cores ({info.get('cpu')}){mem}, {info.get('os')}",
        f"- Python {info.get('python')}; {pkgs}",
    ]


def write_results(
    out: Path | None = None,
    path: Path | None = None,
    *,
    charts: Path | None = None,
    draw: Callable[[list[dict], Path], list[tuple[str, Path]]] | None = draw_charts,
) -> Path:
    """Render ``path`` (default bench/RESULTS.md) from the records in ``out``.

    Machine, date and per-benchmark wall times come from ``<out>/_run.json`` when
    ``run_all.py`` wrote one, else from this machine and now. Charts go to ``charts``
    (default: a ``charts`` folder beside ``path``); only charts that exist are linked.
    """
    out = Path(out) if out is not None else out_dir()
    path = Path(path) if path is not None else BENCH_DIR / "RESULTS.md"
    charts = Path(charts) if charts is not None else path.parent / "charts"
    records, skipped = load(out)
    run_path = out / RUN_FILE
    run = json.loads(run_path.read_text(encoding="utf-8")) if run_path.exists() else {}
    info = run.get("machine") or machine()
    date = run.get("date") or times.utcnow()

    lines = ["# Benchmark results", ""]
    how = run.get("command", "the benchmarks in bench/")
    lines.append(f"- Date: {date} (UTC), written from {how}")
    if run.get("wall_s") is not None:
        lines.append(f"- Total wall time: {run['wall_s']:.0f} s")
    lines += _machine_lines(info)
    lines += [
        "",
        "Every baseline is measured in the same run on the same machine. Ratio = value / "
        "baseline. Figures are reported, never asserted.",
        "",
    ]
    if records:
        lines += table(records)
    else:
        lines.append("No figures were recorded.")

    benches = run.get("benches") or {}
    with_figures = {r["bench"] for r in records}
    for name, reason in sorted(skipped.items()):
        partly = "partly skipped" if name in with_figures else "skipped"
        benches.setdefault(name, {})["status"] = f"{partly}: {reason}"
    if benches:
        lines += ["", "| benchmark | status | wall time | arguments |", "|---|---|--:|---|"]
        for name, b in benches.items():
            wall = f"{b['wall_s']:.0f} s" if b.get("wall_s") is not None else "—"
            args = " ".join(b.get("args", [])) or "(defaults)"
            lines.append(
                f"| {_cell(name)} | {_cell(b.get('status', 'ok'))} | {wall} | `{_cell(args)}` |"
            )

    drawn: list[tuple[str, Path]] = []
    problem = None
    if draw is not None and records:
        if charts.is_dir():
            for old in charts.glob("*.png"):
                old.unlink()
        try:
            drawn = draw(records, charts)
        except ImportError as e:
            problem = (
                f"charts not drawn: {e.name or e} is not installed (pip install -e '.[bench]')"
            )
    existing = [(title, p) for title, p in drawn if Path(p).is_file()]
    if existing or problem:
        lines += ["", "## Charts", ""]
        for title, p in existing:
            rel = os.path.relpath(Path(p).resolve(), path.parent.resolve())
            lines += [f"![{title}]({Path(rel).as_posix()})", ""]
        if problem:
            lines.append(problem)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_results(), file=sys.stdout)
