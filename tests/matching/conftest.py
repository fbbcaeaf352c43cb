"""Fixtures for the matching tests: the labelled set and matchers on the default watchlist
(as shipped, and with the opt-in tier readings from a formula alone)."""

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


@pytest.fixture(scope="session")
def formula_matcher(default_config) -> Matcher:
    """The default watchlist with ``[gazetteer] tier_formulas = true`` (off as shipped)."""
    cfg = default_config
    return Matcher.compile(cfg.watches, cfg.term_sets, cfg.gazetteer.aliases, tier_formulas=True)
