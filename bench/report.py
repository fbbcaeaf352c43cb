"""Rendering bench/RESULTS.md: read the recorded figures, judge them against their targets,
and write the Markdown table, the run's status table and the charts (bench/plots.py).

``bench/results.py`` records the figures and calls :func:`write_results` (it loads this file
by path, as it loads plots.py, so neither needs bench/ on ``sys.path``).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
from collections.abc import Callable
from pathlib import Path

from crawler import times

BENCH_DIR = Path(__file__).resolve().parent


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
    out: Path,
    path: Path,
    *,
    run: dict,
    info: dict,
    charts: Path | None = None,
    draw: Callable[[list[dict], Path], list[tuple[str, Path]]] | None = draw_charts,
) -> Path:
    """Render ``path`` from the records in ``out``, with the date, command and wall times of
    ``run`` (what run_all.py wrote, or {}) and the machine ``info``. Charts go to ``charts``
    (default: a ``charts`` folder beside ``path``); only charts that exist are linked.
    """
    charts = Path(charts) if charts is not None else path.parent / "charts"
    records, skipped = load(out)
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
