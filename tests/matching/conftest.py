"""Fixtures for the matching tests: the labelled set and one matcher on the default watchlist."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.matcher import Matcher
from scheduler import load_config

REPO = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(scope="session")
def default_config():
    """The shipped config (data/newswatch.toml): its watches and term sets are the product."""
    return load_config(REPO / "data" / "newswatch.toml")


@pytest.fixture(scope="session")
def default_matcher(default_config) -> Matcher:
    """The default watchlist, compiled once for the session."""
    cfg = default_config
    return Matcher.compile(cfg.watches, cfg.term_sets, cfg.gazetteer.aliases)
