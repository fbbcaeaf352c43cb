"""jieba's dictionary cache (crawler/event_terms.py reads Chinese articles with jieba): by
default jieba writes a 9 MB ``jieba.cache`` into the system temp directory and, when it
cannot replace the one there (another user's file in a shared /tmp, a read-only or odd
temp directory), prints a traceback on stderr and leaves its 9 MB temporary file behind,
in every process that meets a Chinese article. Found in review."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = (
    "from crawler.event_terms import headline_lead_body\n"
    "print(sorted(headline_lead_body('云南大理发生地震', '中国地震台网正式测定，云南省大理州"
    "漾濞县发生地震。', 'zh')[0]))\n"
)


@pytest.mark.slow  # a Python process loading jieba's dictionary (about a second)
def test_chinese_terms_leave_no_traceback_nor_stray_file_when_the_cache_cannot_be_replaced(
    tmp_path,
):
    temp = tmp_path / "tmp"
    temp.mkdir()
    # what jieba would replace is not a file it can replace (as another user's file in a
    # sticky /tmp is not)
    (temp / "jieba.cache").mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        env={"TMPDIR": str(temp), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "地震" in proc.stdout  # read as words
    assert "Traceback" not in proc.stderr, proc.stderr
    assert sorted(p.name for p in temp.iterdir()) == ["jieba.cache"]
