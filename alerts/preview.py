"""Previewing the next messages (`newswatch alerts preview`): what the outbox would send, built
by the delivery's own code (alerts/deliver.py, alerts/render.py), without sending or marking.

Everything still waiting in the outbox counts, whenever it is due (a digest's time, quiet
hours, a retry's backoff): a digest watch previews its next digest (its waiting stories,
and the stories sent before that have gained outlets since), an immediate watch one alert
per waiting story, naming every watch that waits with the same story for the same target,
as delivery groups them. The hourly limit (``max_per_hour``) splits an immediate watch's
rows as delivery splits them (alerts/hourly.py): the alerts still allowed, then one
summary of the rest; when the hour's messages are used up, the messages of the first
delivery after that, with its time. Only the archive is read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlite_utils import Database

# deliver.py builds a message without sending it (grouped_message, story_message), and
# message_topic says which immediate rows share a message; the preview must match them, so
# they are used as they are rather than copied
from alerts import deliver, followups, outbox
from alerts.alert_items import updated_items
from alerts.config import DeliverySettings, Target, Watch
from alerts.hourly import first_release
from alerts.render import Renderer
from alerts.targets import route, target_format
from crawler.story_ids import live_story
from crawler.times import iso, parse_iso, utc


@dataclass
class Preview:
    """One message as it would go out, and which outbox rows it would carry."""

    watch: str  # the watch, or the watches (comma-separated) of a one-story alert
    target: str
    kind: str  # alert | summary (past max_per_hour) | digest
    format: str  # text | markdown | html | slack
    subject: str
    body: str
    alerts: list[int]  # outbox row ids
    stories: int
    # when delivery sends it (UTC, ISO 8601): a digest's time, or the end of the hourly
    # limit's hour; None: the next delivery
    due: str | None

    def as_dict(self) -> dict:
        """The preview as one JSON-able object."""
        return dict(vars(self))


def waiting(db: Database) -> list[dict]:
    """The outbox rows not yet sent (pending, or being sent), oldest first."""
    if "alerts" not in db.table_names():
        return []
    rows = db["alerts"].rows_where("status IN ('pending', 'sending')", order_by="id")
    return list(rows)


def preview(
    db: Database,
    watches: Sequence[Watch],
    targets: Sequence[Target],
    delivery: DeliverySettings,
    *,
    watch: str | None = None,
    target: str | None = None,
    fmt: str | None = None,
    now: datetime | None = None,
    base_url: str | None = None,
    tier_formulas: bool = False,
) -> list[Preview]:
    """The next messages of ``watch`` (or every watch) to ``target`` (or every target),
    rendered in ``fmt`` (default: each target's own format). Reads the archive only.
    ``tier_formulas``: as in deliver.deliver_due."""
    now = utc(now)
    tz = ZoneInfo(delivery.timezone)
    renderer = Renderer(delivery.templates, excerpt_chars=delivery.excerpt_chars, base_url=base_url)
    watch_by = {w.name: w for w in watches}
    target_by = {
        t.name: t if fmt is None else t.model_copy(update={"format": fmt}) for t in targets
    }
    rows_by: dict[tuple[str, str], list[dict]] = defaultdict(list)
    rows = waiting(db)
    settled = outbox.superseded(db, rows)  # delivery settles them without a message
    for row in rows:
        if row["id"] in settled:
            continue
        if row["watch"] in watch_by and row["target"] in target_by:
            rows_by[(row["watch"], row["target"])].append(row)

    out: list[Preview] = []
    # digests: the (watch, target) pairs with rows waiting, and every digest watch's routes
    # (stories sent before that gained outlets make a digest alone)
    pairs = list(rows_by)
    for w in watches:
        if w.mode == "digest":
            pairs += [(w.name, t.name) for t in route(targets, w.targets)]
    for wname, tname in dict.fromkeys(pairs):
        if watch not in (None, wname) or target not in (None, tname):
            continue
        w, tgt = watch_by[wname], target_by[tname]
        digest = [r for r in rows_by.get((wname, tname), []) if r["mode"] == "digest"]
        updated = []
        if w.mode == "digest":  # as deliver.py: an immediate watch's digest has no updates
            exclude = {r["story_id"] for r in digest}
            updated = updated_items(db, wname, tname, exclude=exclude, formulas=tier_formulas)
        if digest or updated:
            m = deliver.grouped_message(
                db,
                w,
                tgt,
                target_format(tgt),
                digest,
                renderer,
                kind="digest",
                updated=updated,
                formulas=tier_formulas,
            )
            due = _digest_due(db, w, tname, digest, updated, now, tz)
            out.append(_preview(m, _stories(db, digest) + len(updated), due))
    # immediate rows, split by the hourly limit as deliver_due splits them: past it, one
    # summary; the others by (target, story, what about it, when): one alert each, naming
    # every watch waiting with it, grouped as deliver_due groups them
    singles: dict[tuple, list[tuple[Watch, dict]]] = defaultdict(list)
    changes = followups.changes(db, [r["change_id"] for rows in rows_by.values() for r in rows])
    for (wname, tname), rows in rows_by.items():
        immediate = [r for r in rows if r["mode"] != "digest"]
        if not immediate:
            continue
        w, tgt = watch_by[wname], target_by[tname]
        split, at = first_release(db, w, tname, immediate, now, deliver.message_key(db))
        due = None if at <= now else iso(at)
        if split.rolled and watch in (None, wname) and target in (None, tname):
            m = deliver.grouped_message(
                db,
                w,
                tgt,
                target_format(tgt),
                split.rolled,
                renderer,
                kind="summary",
                formulas=tier_formulas,
            )
            out.append(_preview(m, _stories(db, split.rolled), due))
        for r in split.singles:
            topic = deliver.message_topic(r, changes)
            singles[(tname, live_story(db, r["story_id"]), topic, due)].append((w, r))
    for (tname, _story, _topic, due), group in singles.items():
        if target not in (None, tname) or (
            watch is not None and all(w.name != watch for w, _ in group)
        ):
            continue
        m = deliver.story_message(db, target_by[tname], group, renderer, formulas=tier_formulas)
        out.append(_preview(m, 1, due))
    return out


def _digest_due(db, watch, target, rows, updated, now, tz) -> str | None:
    """When delivery sends this digest, as deliver_due decides it: a row's time is the one
    it was held to, else the first digest time after it was queued; an updates-only digest
    waits for a digest time after the last digest and after the first update. None when
    that time has come: the next delivery sends it."""
    if rows:
        at = min(
            parse_iso(r["next_attempt_at"])
            if r["next_attempt_at"]
            else deliver.next_slot(watch.digest_at, parse_iso(r["created_at"]), tz)
            for r in rows
        )
    else:
        last = outbox.last_digest(db, watch.name, target)
        first = parse_iso(min(i["updated_at"] for i in updated))
        at = deliver.next_slot(watch.digest_at, first, tz)
        if last is not None:
            at = max(at, deliver.next_slot(watch.digest_at, parse_iso(last), tz))
    return None if at <= now else iso(at)


def _stories(db: Database, rows: list[dict]) -> int:
    """How many stories these rows list: rows of two stories merged since (follow
    ``merged_into``) are one, as the message lists them once."""
    return len({live_story(db, r["story_id"]) for r in rows})


def _preview(m: deliver.Message, stories: int, due: str | None) -> Preview:
    return Preview(
        m.watch, m.target.name, m.kind, m.fmt, m.subject, m.body, list(m.ids), stories, due
    )
