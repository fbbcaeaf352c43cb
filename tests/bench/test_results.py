"""bench/results.py: recording figures and rendering RESULTS.md from a small fixture.

The benchmarks themselves never run here; only the result writer does.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load():
    spec = importlib.util.spec_from_file_location("newswatch_bench_results", BENCH / "results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


results = _load()

MACHINE = {
    "cores": 2,
    "cpu": "Fixture CPU",
    "memory_gb": 4.0,
    "os": "Linux 6.1",
    "python": "3.11.9",
    "packages": {"scrapy": "2.13.3", "feedparser": "6.0.11", "sqlite-utils": "4.0"},
}


@pytest.fixture
def out(tmp_path):
    """A bench/out folder with figures from three benchmarks and the run file."""
    folder = tmp_path / "out"
    rec = results.record
    rec("matching", "throughput", 6.0, "MB/s", baseline=0.25, baseline_label="re.I",
        target=5, target_ratio=20, out=folder)  # fmt: skip
    rec("matching", "countries recall", 0.91, target=0.95, out=folder)
    rec("collection", "first crawl", 20.0, "s", baseline=25.0, target_ratio=0.5,
        better="lower", out=folder)  # fmt: skip
    rec("delivery", "peak memory", 12.5, "MB", better="lower", out=folder)
    (folder / results.RUN_FILE).write_text(
        json.dumps(
            {
                "date": "2031-02-03T04:05:06+00:00",
                "machine": MACHINE,
                "wall_s": 600.4,
                "command": "`make bench`",
                "benches": {"matching": {"status": "ok", "wall_s": 55.2, "args": []}},
            }
        ),
        encoding="utf-8",
    )
    return folder


def _row(text: str, figure: str) -> list[str]:
    for line in text.splitlines():
        if line.startswith("|") and f"| {figure} |" in line:
            return [c.strip() for c in line.strip("|").split("|")]
    raise AssertionError(f"no row for {figure!r} in:\n{text}")


def test_table_has_value_baseline_ratio_target_and_verdict(out, tmp_path):
    md = results.write_results(out, tmp_path / "RESULTS.md", draw=None).read_text()
    bench, figure, value, base, ratio, target, met = _row(md, "throughput")
    assert (bench, value, base) == ("matching", "6 MB/s", "0.25 MB/s (re.I)")
    assert ratio == "24x"
    assert target == ">= 5 MB/s, >= 20x baseline"
    assert met == "met"
    # lower is better: 20 s against 25 s is 0.8x, which misses <= 0.5x
    row = _row(md, "first crawl")
    assert row[4:] == ["0.8x", "<= 0.5x baseline", "**missed**"]
    # a value target alone, no baseline
    assert _row(md, "countries recall")[3:] == ["—", "—", ">= 0.95", "**missed**"]


def test_missing_baseline_and_target_render_as_dashes(out, tmp_path):
    md = results.write_results(out, tmp_path / "RESULTS.md", draw=None).read_text()
    assert _row(md, "peak memory") == ["delivery", "peak memory", "12.5 MB", "—", "—", "—", "—"]


def test_counts_print_as_integers_and_targets_as_written(tmp_path):
    results.record("peer", "duplicates", 0, target=0, better="lower", out=tmp_path)
    results.record("peer", "messages", 5295, baseline=6482, target_ratio=1 / 1.5, out=tmp_path)
    md = results.write_results(tmp_path, tmp_path / "RESULTS.md", draw=None).read_text()
    assert _row(md, "duplicates")[2:] == ["0", "—", "—", "<= 0", "met"]
    assert _row(md, "messages")[2:] == ["5,295", "6,482", "0.817x", ">= 0.667x baseline", "met"]


def test_machine_info_and_date_come_from_the_run_file(out, tmp_path):
    md = results.write_results(out, tmp_path / "RESULTS.md", draw=None).read_text()
    assert "2031-02-03T04:05:06+00:00" in md
    assert "2 cores (Fixture CPU)" in md
    assert "Python 3.11.9" in md
    assert "scrapy 2.13.3" in md and "sqlite-utils 4.0" in md
    assert "Total wall time: 600 s" in md
    assert "| matching | ok | 55 s |" in md


def test_without_a_run_file_the_machine_is_this_one(tmp_path):
    folder = tmp_path / "out"
    results.record("dedupe", "recall", 0.97, target=0.95, out=folder)
    md = results.write_results(folder, tmp_path / "RESULTS.md", draw=None).read_text()
    info = results.machine()
    assert f"Python {info['python']}" in md
    for name in results.PACKAGES:
        assert f"{name} " in md
    assert "- Date: 20" in md
    assert _row(md, "recall")[-1] == "met"


def test_only_charts_that_exist_are_linked(out, tmp_path):
    charts = tmp_path / "charts"

    def draw(records, folder):
        folder.mkdir()
        (folder / "throughput.png").write_bytes(b"\x89PNG fixture")
        return [("Throughput", folder / "throughput.png"), ("Never drawn", folder / "gone.png")]

    md = results.write_results(out, tmp_path / "RESULTS.md", charts=charts, draw=draw).read_text()
    assert "![Throughput](charts/throughput.png)" in md
    assert "gone.png" not in md


def test_a_series_is_drawn_and_linked_when_matplotlib_is_there(out, tmp_path):
    results.record("soak", "RSS growth, cycle 50 to 500", 4.0, "%", target=10, better="lower",
                   series={"x": [1, 2, 3], "y": [80, 81, 81.5], "y_label": "RSS (MB)"},
                   out=out)  # fmt: skip
    md = results.write_results(out, tmp_path / "RESULTS.md").read_text()
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        # `make test` installs only the dev extra: the writer must say why there are no charts
        assert "charts not drawn: matplotlib is not installed" in md
        assert "![" not in md
    else:
        soak = tmp_path / "charts" / "soak-rss-growth-cycle-50-to-500.png"
        assert soak.read_bytes().startswith(b"\x89PNG")
        assert "(charts/soak-rss-growth-cycle-50-to-500.png)" in md
        assert (tmp_path / "charts" / "throughput.png").read_bytes().startswith(b"\x89PNG")
        assert "(charts/throughput.png)" in md


def test_without_matplotlib_the_table_is_still_written(out, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import now raises ImportError
    md = results.write_results(out, tmp_path / "RESULTS.md").read_text()
    assert "charts not drawn: matplotlib is not installed" in md
    assert _row(md, "throughput")[-1] == "met"


def test_the_last_record_of_a_figure_wins_and_skips_are_listed(tmp_path):
    folder = tmp_path / "out"
    results.record("extraction", "F1", 0.90, target=0.95, out=folder)
    results.record("extraction", "F1", 0.96, target=0.95, out=folder)
    results.skip("collection", "/nowhere/real-feeds is absent", out=folder)
    md = results.write_results(folder, tmp_path / "RESULTS.md", draw=None).read_text()
    assert _row(md, "F1")[2:] == ["0.96", "—", "—", ">= 0.95", "met"]
    assert md.count("| F1 |") == 1
    assert "| collection | skipped: /nowhere/real-feeds is absent |" in md


def test_a_skip_after_figures_is_partial_and_a_later_figure_clears_it(tmp_path):
    folder = tmp_path / "out"
    results.record("matching", "countries recall", 1.0, out=folder)
    results.skip("matching", "speed part: corpus absent", out=folder)
    results.skip("dedupe", "corpus absent", out=folder)
    results.record("dedupe", "recall", 0.96, out=folder)
    md = results.write_results(folder, tmp_path / "RESULTS.md", draw=None).read_text()
    assert "| matching | partly skipped: speed part: corpus absent |" in md
    assert "corpus absent" not in md.replace("speed part: corpus absent", "")


@pytest.mark.parametrize(
    ("series", "xs", "ys"),
    [
        ([5, 6], [1.0, 2.0], [5.0, 6.0]),
        ([(10, 5), (20, 6)], [10.0, 20.0], [5.0, 6.0]),
        ({"x": [10, 20], "y": [5, 6]}, [10.0, 20.0], [5.0, 6.0]),
    ],
)
def test_series_shapes(tmp_path, series, xs, ys):
    rec = results.record("soak", "rss", 1, "MB", series=series, out=tmp_path)
    assert (rec["series"]["value"]["x"], rec["series"]["value"]["y"]) == (xs, ys)
    stored = json.loads((tmp_path / "soak.jsonl").read_text())
    assert stored["series"]["value"]["y"] == ys


def test_named_series_keep_their_names_and_labels(tmp_path):
    rss = {"x": [50, 100], "y": [80, 82], "x_label": "cycle", "y_label": "RSS (MB)"}
    rec = results.record("soak", "rss", 1, series={"rss_mb": rss, "fds": [9, 9]}, out=tmp_path)
    assert rec["series"]["rss_mb"] == {
        "x": [50.0, 100.0], "y": [80.0, 82.0], "x_label": "cycle", "y_label": "RSS (MB)"
    }  # fmt: skip
    assert rec["series"]["fds"]["y"] == [9.0, 9.0]


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="better"):
        results.record("x", "y", 1, better="more", out=tmp_path)
    with pytest.raises(ValueError, match="baseline"):
        results.record("x", "y", 1, target_ratio=2, out=tmp_path)
    with pytest.raises(ValueError, match="series"):
        results.record("x", "y", 1, series={"x": [1, 2], "y": [1]}, out=tmp_path)


def test_corpora_path_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NEWSWATCH_CORPORA", str(tmp_path))
    assert results.corpus("real-feeds") == tmp_path / "real-feeds"
    monkeypatch.delenv("NEWSWATCH_CORPORA")
    assert results.corpora() == BENCH.parent.parent / "shared" / "corpora"
