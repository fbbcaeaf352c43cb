"""Fixtures for tests/serve: the fixture archive (tests/support/serve_archive.py)."""

from __future__ import annotations

import pytest
from support import serve_archive


@pytest.fixture(scope="module")
def fixture_archive(tmp_path_factory):
    """Path of a fresh fixture archive and the story id per article index."""
    path = tmp_path_factory.mktemp("serve") / "archive.db"
    stories = serve_archive.build(path)
    return path, stories
