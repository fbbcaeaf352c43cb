"""The stages after a collection, run as one step: match, queue alerts, deliver, tell about
source health, and record the daemon's heartbeat."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from alerts import outbox, schema
from crawler import liveness


def compile_matcher(cfg: Any, watches: Any = None):
    """The compiled watchlist for this config (all watches, or ``watches``; its term sets,
    aliases and every ``[gazetteer]`` setting)."""
    from alerts.matcher import Matcher

    return Matcher.compile(
        cfg.watches if watches is None else watches,
        cfg.term_sets,
        cfg.gazetteer.aliases,
        cities=cfg.gazetteer.cities,
        tier_formulas=cfg.gazetteer.tier_formulas,
    )


def process_stage(cfg: Any, matcher, *, now: datetime | None = None) -> dict:
    """Match unmatched articles, queue alerts, deliver what is due, tell about source health."""
    from alerts import deliver, match_stage, source_alerts

    db = schema.open_archive(cfg.archive.path)
    try:
        matched = match_stage.match_pending(db, matcher, now=now)
        queued = outbox.enqueue(db, cfg.watches, cfg.targets, now=now)
        delivered = deliver.deliver_due(
            db,
            cfg.watches,
            cfg.targets,
            cfg.delivery,
            now=now,
            base_url=cfg.serve.base_url,
            tier_formulas=cfg.gazetteer.tier_formulas,
        )
        source_alerts.notify_source_health(db, cfg.health, cfg.targets, now=now)
        liveness.heartbeat(db, cycle=True)
    finally:
        db.close()
    return {"matched": as_dict(matched), "queued": queued, "delivered": as_dict(delivered)}


def as_dict(stats: Any) -> Any:
    """A stage's result (named tuple, dataclass or plain value) as plain data for logs."""
    if hasattr(stats, "_asdict"):
        return stats._asdict()
    if dataclasses.is_dataclass(stats) and not isinstance(stats, type):
        return dataclasses.asdict(stats)
    return stats
