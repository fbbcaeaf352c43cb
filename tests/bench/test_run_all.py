"""bench/run_all.py: a full run rewrites RESULTS.md but keeps the sections written by hand."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_sections_written_by_hand_survive_a_rewrite(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    sys.modules.pop("run_all", None)
    import run_all

    md = tmp_path / "RESULTS.md"
    md.write_text(
        "# Benchmark results\n\n| old | table |\n\n## Scale\n\nBy hand.\n\n"
        "## Charts\n\n![old](charts/old.png)\n",
        encoding="utf-8",
    )
    kept = run_all.written_by_hand(md)
    assert kept == "## Scale\n\nBy hand."
    md.write_text("# Benchmark results\n\n| new | table |\n\n## Charts\n\n![new](c.png)\n")
    run_all.put_back(md, kept)
    text = md.read_text(encoding="utf-8")
    assert "| new | table |" in text and "## Scale\n\nBy hand." in text
    assert text.index("## Scale") < text.index("## Charts") and "old" not in text

    md.write_text("# Benchmark results\n\nNo figures were recorded.\n")  # no charts
    run_all.put_back(md, kept)
    assert md.read_text(encoding="utf-8").rstrip().endswith("By hand.")
    assert run_all.written_by_hand(tmp_path / "absent.md") == ""
