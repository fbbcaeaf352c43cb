"""The README stays true: its sqlite-utils lines run, and every config key is documented."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel
from support import fixture_archive

from scheduler import Config

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
SQLITE_UTILS = Path(sys.executable).with_name("sqlite-utils")

LINES = [line for line in README.splitlines() if line.startswith("sqlite-utils ")]

# What each README query must show when run on the fixture archive.
EXPECTED = {
    "latest matches for a country": ["turan-politics", "bbc-world", "azerbaijan"],
    "articles per source per day": ["un-news", "2024-07-02", "2024-07-01"],
    "trafficking": ["U.S. Trafficking Report", "bbc-world"],
    "status = 'failed'": ["SMTP 550 mailbox unavailable", "team-mail"],
    "tier_statements": ["Tier 2", "2023", "2024", "turan-politics"],
}


def test_readme_has_at_least_five_sqlite_utils_lines():
    assert len(LINES) >= 5


@pytest.mark.parametrize("line", LINES, ids=range(len(LINES)))
def test_readme_sqlite_utils_line_runs(line, tmp_path):
    db = tmp_path / "newswatch.db"
    fixture_archive.build(db)
    args = shlex.split(line)
    args = [str(db) if a == "data/newswatch.db" else a for a in args]
    proc = subprocess.run(
        [str(SQLITE_UTILS), *args[1:]], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    comment = README[: README.index(line)].rstrip().splitlines()[-1]
    keys = [k for k in EXPECTED if k in line or k in comment]
    assert keys, f"no expectation for README line: {line}"
    for word in EXPECTED[keys[0]]:
        assert word in proc.stdout, (word, proc.stdout)


def _fields(model: type[BaseModel], prefix: str = ""):
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        yield f"{prefix}{name}", name
        ann = field.annotation
        inner = getattr(ann, "__args__", (ann,))
        for t in inner:
            if isinstance(t, type) and issubclass(t, BaseModel):
                yield from _fields(t, f"{prefix}{name}.")


def test_every_config_key_is_in_the_configuration_reference():
    start = README.index("## Configuration reference")
    reference = README[start : README.index("\n## ", start + 10)]
    documented = set(re.findall(r"`\[{0,2}([a-z_]+)\]{0,2}`", reference))
    missing = [path for path, name in _fields(Config) if name not in documented]
    assert not missing, f"config keys missing from README's configuration reference: {missing}"


def test_readme_shows_the_two_commands_first():
    first_block = re.search(r"```sh\n(.*?)```", README, re.S).group(1)
    assert "make run" in first_block and "make test" in first_block
