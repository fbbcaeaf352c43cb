"""The docs stay true: their sqlite-utils lines run, every config key and every command is
documented, wherever the text lives (README.md or docs/*.md)."""

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

ROOT = Path(__file__).resolve().parents[2]
DOCS = {
    str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
    for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
}
README = DOCS["README.md"]
SQLITE_UTILS = Path(sys.executable).with_name("sqlite-utils")

# (file, line) for every sqlite-utils recipe in the docs
LINES = [
    (name, line)
    for name, text in DOCS.items()
    for line in text.splitlines()
    if line.startswith("sqlite-utils ")
]

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


@pytest.mark.parametrize(("doc", "line"), LINES, ids=range(len(LINES)))
def test_readme_sqlite_utils_line_runs(doc, line, tmp_path):
    db = tmp_path / "newswatch.db"
    fixture_archive.build(db)
    args = shlex.split(line)
    args = [str(db) if a == "data/newswatch.db" else a for a in args]
    proc = subprocess.run(
        [str(SQLITE_UTILS), *args[1:]], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    text = DOCS[doc]
    comment = text[: text.index(line)].rstrip().splitlines()[-1]
    keys = [k for k in EXPECTED if k in line or k in comment]
    assert keys, f"no expectation for the line in {doc}: {line}"
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
    (text,) = [t for t in DOCS.values() if "## Configuration reference" in t]
    start = text.index("## Configuration reference")
    end = text.find("\n## ", start + 10)
    reference = text[start : end if end > 0 else len(text)]
    documented = set(re.findall(r"`\[{0,2}([a-z_]+)\]{0,2}`", reference))
    missing = [path for path, name in _fields(Config) if name not in documented]
    assert not missing, f"config keys missing from README's configuration reference: {missing}"


def test_readme_shows_the_two_commands_first():
    first_block = re.search(r"```sh\n(.*?)```", README, re.S).group(1)
    assert "make run" in first_block and "make test" in first_block


def test_every_command_is_in_the_readme():
    from scheduler import cli

    def paths(group, prefix=()):
        for name, cmd in group.commands.items():
            yield (*prefix, name)
            if hasattr(cmd, "commands"):
                yield from paths(cmd, (*prefix, name))

    missing = [p for p in paths(cli) if "newswatch " + " ".join(p) not in README]
    assert not missing, f"commands the README never shows: {missing}"


def test_links_between_the_docs_resolve():
    for name, text in DOCS.items():
        for target in re.findall(r"\]\(([^)#]+\.md)(?:#[^)]*)?\)", text):
            assert (ROOT / name).parent.joinpath(target).resolve().is_file(), (name, target)
