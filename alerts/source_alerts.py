"""Source-health alerts: one message when a source keeps failing, one when it recovers."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlite_utils import Database

from alerts import outbox
from alerts.config import HealthSettings, Target
from alerts.render import Renderer
from alerts.secrets import redact_text
from alerts.targets import route, send, target_format
from crawler import times
from crawler.archive import write

log = logging.getLogger(__name__)


def notify_source_health(
    db: Database,
    health: HealthSettings,
    targets: Sequence[Target],
    *,
    now: datetime | None = None,
    renderer: Renderer | None = None,
) -> int:
    """Tell the health targets about sources that crossed ``after_failures`` failures in a
    row (``failing``) or that succeeded again after such an alert (``recovered``).

    ``sources.health_alerted`` remembers that the failing message went out, so each state
    change is told once. If no target accepts a message, it is tried again next cycle.
    Returns the number of messages sent.
    """
    chosen = route(targets, health.targets)
    if not chosen:
        return 0
    now = times.utc(now)
    renderer = renderer or Renderer()
    rows = db.execute(
        "SELECT name, consecutive_failures, health_alerted, last_error_class, last_error,"
        " last_success_at FROM sources"
        " WHERE (consecutive_failures >= ? AND health_alerted = 0)"
        "    OR (consecutive_failures = 0 AND health_alerted = 1)",
        [health.after_failures],
    ).fetchall()
    sent = 0
    for name, failures, alerted, error_class, error, last_success in rows:
        state = "recovered" if alerted else "failing"
        error_text = redact_text(" ".join(x for x in (error_class, error) if x))[:300]
        delivered = False
        for target in chosen:
            fmt = target_format(target)
            subject, body = renderer.render(
                "health",
                fmt,
                source=name,
                state=state,
                failures=failures,
                error=error_text,
                last_success=last_success,
            )
            result = send(target, subject, body, fmt)
            if result.ok:
                delivered = True
                sent += 1
                outbox.record_delivery(db, f"health:{name}", target.name, "health", 0, now)
            else:
                log.warning("health message to %s failed: %s", target.name, result.error)
        if delivered:
            with write(db):
                db.execute(
                    "UPDATE sources SET health_alerted = ? WHERE name = ?",
                    [0 if alerted else 1, name],
                )
    return sent
