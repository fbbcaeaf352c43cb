"""The PNG charts of bench/RESULTS.md: each stage against its baseline, and each figure's
series (RSS per soak cycle, ...) as a line chart. Needs matplotlib (the ``bench`` extra).

``report.draw_charts`` (bench/report.py) loads this module and calls :func:`draw_charts`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def is_speed(rec: dict) -> bool:
    """Throughput or wall-time figures with a baseline: what the throughput chart compares."""
    unit = rec.get("unit", "")
    return rec.get("baseline") is not None and (unit.endswith("/s") or unit == "s")


def draw_charts(
    records: list[dict], charts: Path, number: Callable[[float], str] = str
) -> list[tuple[str, Path]]:
    """Draw the PNG charts; return (title, path) for each. Needs matplotlib. ``number``
    formats the values written on the bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    charts.mkdir(parents=True, exist_ok=True)
    drawn: list[tuple[str, Path]] = []
    speed = [r for r in records if is_speed(r)]
    if speed:
        cols = min(3, len(speed))
        rows = math.ceil(len(speed) / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
        for ax, rec in zip(axes.flat, speed, strict=False):
            labels = [rec.get("baseline_label") or "baseline", "newswatch"]
            values = [rec["baseline"], rec["value"]]
            bars = ax.bar(labels, values, color=["#9e9e9e", "#1f77b4"])
            ax.bar_label(bars, labels=[number(v) for v in values], fontsize=8)
            direction = "higher" if rec.get("better", "higher") == "higher" else "lower"
            ax.set_title(f"{rec['bench']}: {rec['figure']}", fontsize=9)
            ax.set_ylabel(f"{rec.get('unit', '')} ({direction} is better)", fontsize=8)
            ax.tick_params(axis="x", labelsize=7)
            if rec.get("target") is not None:
                ax.axhline(rec["target"], color="#d62728", linestyle="--", linewidth=1)
            ax.margins(y=0.15)
        for ax in list(axes.flat)[len(speed) :]:
            ax.axis("off")
        fig.suptitle("Each stage against its baseline, measured in the same run (dashed: target)")
        fig.tight_layout()
        path = charts / "throughput.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        drawn.append(("Throughput and wall time of each stage against its baseline", path))
    for rec in records:
        named = {k: v for k, v in (rec.get("series") or {}).items() if v.get("y")}
        if not named:
            continue
        fig, ax = plt.subplots(figsize=(7, 3.6))
        for name, points in named.items():
            ax.plot(points["x"], points["y"], linewidth=1.2, label=name)
        first = next(iter(named.values()))
        ax.set_xlabel(first.get("x_label", ""))
        ax.set_ylabel(first.get("y_label", rec.get("unit", "")))
        ax.set_title(f"{rec['bench']}: {rec['figure']}")
        if len(named) > 1:
            ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        path = charts / f"{_slug(rec['bench'])}-{_slug(rec['figure'])}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        drawn.append((f"{rec['bench']}: {rec['figure']}", path))
    return drawn
