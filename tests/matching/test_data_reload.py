"""Gazetteer and tier data are read again when a file changes: a SIGHUP reload, which compiles
the matcher again, sees an edited data file (no stale per-process cache)."""

from __future__ import annotations

import os
import shutil

import pytest

from alerts import gazetteer, tiers
from alerts.matcher import Matcher

TEXT = "Zembla stays on Tier 3, the grumbleflax review says."


def _edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} no longer holds {old!r}: update this test"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    # A later mtime even on a file system with coarse timestamps.
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))


@pytest.mark.slow  # two full gazetteer builds
def test_a_recompiled_matcher_sees_edited_gazetteer_and_tier_files(tmp_path, monkeypatch):
    data = tmp_path / "gazetteer"
    shutil.copytree(gazetteer.DATA, data)
    monkeypatch.setattr(gazetteer, "DATA", data)
    monkeypatch.setattr(tiers, "DATA", data / "tiers.toml")

    before = Matcher.compile().match(None, TEXT)
    assert before.countries == [] and before.tiers == []

    _edit(data / "aliases.toml", 'names = ["Republic of Azerbaijan"', 'names = ["Zembla"')
    _edit(data / "tiers.toml", "cue = '''traffick|", "cue = '''grumbleflax|traffick|")
    after = Matcher.compile().match(None, TEXT)  # what Daemon.reload does on SIGHUP
    assert after.countries == ["AZ"]
    assert [(s.country, s.tier) for s in after.tiers] == [("AZ", "Tier 3")]
