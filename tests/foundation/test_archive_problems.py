"""An archive that is missing, not writable or damaged is one clear message with what to do,
exit code 4, from every command, never a traceback, and read commands create nothing
(issue 13 items 4, 5 and 8); `newswatch backup` copies a live archive."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from support import fixture_archive

REPO = Path(__file__).resolve().parents[2]
# As root, permissions are not checked; drop the capabilities that skip the checks.
UNPRIVILEGED = (
    ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    if os.geteuid() == 0
    else []
)
READ_COMMANDS = [
    ["status"],
    ["status", "--json"],
    ["search", "trafficking"],
    ["tiers", "AZ"],
    ["alerts", "list"],
    ["alerts", "retry", "1"],
    ["match", "--archive"],
]


def newswatch(config: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """A real `newswatch` process without root's way past file permissions."""
    return subprocess.run(
        [*UNPRIVILEGED, sys.executable, str(REPO / "scheduler.py"), "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


def config_for(write_config, archive: Path) -> Path:
    return write_config(
        f"""
        [archive]
        path = "{archive}"
        [[sources]]
        name = "nowhere"
        kind = "feed"
        url = "http://127.0.0.1:9/feed.xml"
        """
    )


@pytest.mark.parametrize("args", READ_COMMANDS, ids=" ".join)
def test_a_mistyped_archive_path_creates_nothing(cli, write_config, tmp_path, args):
    archive = tmp_path / "typo" / "deeper" / "archive.db"
    result = cli("--config", str(config_for(write_config, archive)), *args)
    assert result.exit_code == 4, result.output
    assert f"no archive at {archive}" in result.output
    assert "newswatch crawl` creates" in result.output
    assert not (tmp_path / "typo").exists()


def test_an_empty_folder_gets_no_empty_archive(cli, write_config, tmp_path):
    archive = tmp_path / "archive.db"
    result = cli("--config", str(config_for(write_config, archive)), "status")
    assert result.exit_code == 4 and "there is no such file" in result.output
    assert list(tmp_path.iterdir()) == [tmp_path / "newswatch.toml"]


@pytest.fixture
def damaged(write_config, tmp_path):
    archive = tmp_path / "archive.db"
    fixture_archive.build(archive)
    with open(archive, "r+b") as f:
        f.truncate(50_000)  # a copy cut short, a disk that filled up
    return config_for(write_config, archive)


@pytest.mark.parametrize("args", [*READ_COMMANDS, ["backup", "copy.db"]], ids=" ".join)
def test_a_damaged_archive_is_one_message_with_what_to_do(cli, damaged, args):
    result = cli("--config", str(damaged), *args)
    assert result.exit_code == 4, result.output
    assert f"the archive {damaged.parent / 'archive.db'} is damaged" in result.output
    assert "restore your latest backup" in result.output and ".recover" in result.output


@pytest.mark.slow  # real processes
@pytest.mark.parametrize("args", [["run", "--once"], ["crawl"]], ids=" ".join)
def test_a_damaged_archive_stops_collection_with_the_same_message(damaged, args):
    result = newswatch(damaged, *args)
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr
    assert f"the archive {damaged.parent / 'archive.db'} is damaged" in result.stderr
    assert "restore your latest backup" in result.stderr and ".recover" in result.stderr


@pytest.mark.slow  # real processes
def test_a_read_only_folder_is_one_message_naming_folder_and_permission(write_config, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    config = config_for(write_config, folder / "archive.db")
    folder.chmod(0o555)
    try:
        for args in (["run", "--once"], ["crawl"]):
            result = newswatch(config, *args)
            assert result.returncode == 4, (args, result.stderr)
            err = result.stderr
            assert "Traceback" not in err and "PermissionError" not in err, err
            assert f"the folder {folder} is not writable" in err, err
            assert err.count("\n") == 1, err  # one message
    finally:
        folder.chmod(0o755)


@pytest.mark.slow  # a real process
def test_a_read_only_archive_left_read_only_side_files_and_they_are_repaired(
    write_config, tmp_path
):
    archive = tmp_path / "archive.db"
    fixture_archive.build(archive)
    config = config_for(write_config, archive)
    archive.chmod(0o444)
    result = newswatch(config, "alerts", "retry", "1")
    assert result.returncode == 4 and "is read-only for" in result.stderr, result.stderr
    # SQLite made -wal and -shm with the archive's mode while it was read-only.
    sides = [Path(f"{archive}-wal"), Path(f"{archive}-shm")]
    if not any(p.exists() for p in sides):  # the process removed them on close
        for p in sides:
            p.write_bytes(b"")
            p.chmod(0o444)
    archive.chmod(0o644)
    result = newswatch(config, "alerts", "retry", "1")
    assert result.returncode == 0, result.stderr


def test_backup_copies_an_open_archive_and_refuses_to_overwrite(cli, write_config, tmp_path):
    archive = tmp_path / "archive.db"
    fixture_archive.build(archive)
    config = str(config_for(write_config, archive))
    writer = sqlite3.connect(archive)  # another process's open connection, mid-transaction
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE articles SET title = 'uncommitted' WHERE id = 1")
    result = cli("--config", config, "backup", str(tmp_path / "copy.db"))
    writer.rollback()
    writer.close()
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(tmp_path / "copy.db")
    original = sqlite3.connect(archive)
    query = "SELECT id, title FROM articles ORDER BY id"
    assert copy.execute(query).fetchall() == original.execute(query).fetchall()
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert not (tmp_path / "copy.db.part").exists()
    again = cli("--config", config, "backup", str(tmp_path / "copy.db"))
    assert again.exit_code == 2 and "--force" in again.output


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KB filesystem (tmpfs; needs root), too small for a new archive's tables."""
    where = tmp_path / "tiny"
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_disk_is_named_as_such(cli, write_config, tiny_disk):
    result = cli("--config", str(config_for(write_config, tiny_disk / "a.db")), "crawl")
    assert result.exit_code == 4, result.output
    assert "the disk holding it is full" in result.output


@pytest.mark.parametrize(("write", "verb"), [(True, "cannot write"), (False, "cannot use")])
def test_a_locked_archive_is_named_busy_with_the_right_verb(tmp_path, write, verb):
    from crawler.archive_access import explain

    path = tmp_path / "archive.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0.05)
    try:
        with pytest.raises(sqlite3.OperationalError) as met:
            other.execute("INSERT INTO t VALUES (1)")
        error = explain(path, met.value, write=write)
    finally:
        other.close()
        holder.execute("ROLLBACK")
        holder.close()
    assert error.kind == "busy"
    assert str(error).startswith(f"{verb} the archive {path}: archive busy")
    assert "held the write lock" in str(error)
