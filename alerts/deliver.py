"""Sending the outbox through Apprise: immediate alerts, digests, the hourly limit, quiet hours.

Each call of :func:`deliver_due` looks at the rows that are due, decides per (watch, target)
what goes out now (one message per immediate alert, one digest at the watch's ``digest_at``
times, one summary for what passes ``max_per_hour``), holds the rest, marks every row it sends
``sending`` first, sends each target's messages one after another (targets in parallel, in a
small thread pool, from the first message built on: alerts/send_loop.py), and records each
result as it comes, so a crash between a send and its record repeats at most one message per
target. A refused message is retried with backoff; it
never stops the others.

``[delivery] concurrency_per_target = n`` (default 1) sends up to n of one target's messages
at once, for a mail server that answers slowly; a crash may then repeat up to n messages per
target.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from alerts import followups, outbox
from alerts.alert_items import alert_item, group_by_country, updated_items
from alerts.config import DeliverySettings, Target, Watch
from alerts.hourly import hourly_limit
from alerts.render import Renderer
from alerts.schema import ensure
from alerts.secrets import redact_text
from alerts.send_loop import SendLoops
from alerts.targets import route, target_format
from crawler.story_ids import live_story
from crawler.times import parse_iso, utc

WORKERS = 8


@dataclass
class DeliveryStats:
    """What one delivery pass did."""

    messages: int = 0  # messages Apprise accepted
    sent: int = 0  # outbox rows those messages carried
    retrying: int = 0  # rows that failed and will be tried again
    failed: int = 0  # rows that reached max_attempts (or lost their watch or target)
    held: int = 0  # rows kept for later: quiet hours, digest time, hourly limit
    merged: int = 0  # first-alert rows settled unsent: their live story was sent already
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Message:
    """One message to one target, and the outbox rows it carries."""

    watch: str
    target: Target
    kind: str  # alert | summary | digest
    fmt: str
    subject: str
    body: str
    ids: list[int]
    #: rows per watch, when one message carries several watches' rows (one story)
    counts: dict[str, int] | None = None


def deliver_due(
    db: Database,
    watches: Sequence[Watch],
    targets: Sequence[Target],
    delivery: DeliverySettings,
    *,
    now: datetime | None = None,
    renderer: Renderer | None = None,
    workers: int = WORKERS,
    base_url: str | None = None,
    tier_formulas: bool = False,
) -> DeliveryStats:
    """Send what is due now; hold, retry or fail the rest. See the module docstring.
    ``base_url`` (``[serve] base_url``): messages link to each story's page there.
    ``tier_formulas`` (``[gazetteer] tier_formulas``): messages show tier statements read
    from a formula alone (off: never, even those stored while it was on)."""
    ensure(db)
    now = utc(now)
    tz = ZoneInfo(delivery.timezone)
    renderer = renderer or Renderer(
        delivery.templates, excerpt_chars=delivery.excerpt_chars, base_url=base_url
    )
    stats = DeliveryStats()
    watch_by = {w.name: w for w in watches}
    target_by = {t.name: t for t in targets}
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    due = outbox.due(db, now)
    # one first alert per story, watch and target, also across live merges: a row whose
    # story merged into one this watch and target were sent is settled without a message
    # (its articles are that story's later coverage: "+N outlets", follow-ups, digests)
    settled = outbox.superseded(db, due)
    if settled:
        outbox.settle_merged(db, settled)
        stats.merged = len(settled)
    for row in due:
        if row["id"] not in settled:
            groups[(row["watch"], row["target"])].append(row)

    messages: list[Message] = []
    # immediate rows that go out now, by (target, story, what about it): one message each,
    # whatever the number of watches that matched the story (the rows stay one per watch);
    # a follow-up (an update, growth) is a message of its own
    singles: dict[tuple, list[tuple[Watch, dict]]] = defaultdict(list)
    changes = followups.changes(db, [r["change_id"] for rows in groups.values() for r in rows])
    for (wname, tname), rows in groups.items():
        watch, target = watch_by.get(wname), target_by.get(tname)
        ids = [r["id"] for r in rows]
        if watch is None or target is None:
            gone = f"watch {wname!r}" if watch is None else f"target {tname!r}"
            outbox.give_up(db, ids, f"{gone} is no longer in the config")
            stats.failed += len(ids)
            continue
        until = quiet_until(watch.quiet_hours, now, tz)
        if until is not None:
            outbox.hold(db, ids, until)
            stats.held += len(ids)
            continue
        try:
            fmt = _format(target)
            digest = [r for r in rows if r["mode"] == "digest"]
            immediate = [r for r in rows if r["mode"] != "digest"]
            if digest:
                messages += _digest(
                    db, watch, target, fmt, digest, now, tz, renderer, stats, tier_formulas
                )
            if immediate:
                now_rows, rolled = _immediate(
                    db, watch, target, fmt, immediate, now, renderer, stats, tier_formulas
                )
                messages += rolled
                for r in now_rows:  # rows of two stories merged since: one message
                    story = live_story(db, r["story_id"])
                    singles[(tname, story, message_topic(r, changes))].append((watch, r))
        except Exception as e:  # a broken template or row must not stop the other targets
            _unbuildable(db, ids, e, now, delivery, stats)

    built = {(m.watch, m.target.name) for m in messages if m.kind == "digest"}
    later = _updated_only(db, watches, targets, built, now, tz, renderer, tier_formulas)
    # In sending order: the digests and summaries, one message per story, the updated-only
    # digests. The story messages are built while the first ones are sent (alerts/send_loop.py).
    work: list[Message | tuple[Target, list]] = [
        *messages,
        *((target_by[tname], pairs) for (tname, *_story), pairs in singles.items()),
        *later,
    ]
    if not work:
        return stats
    planned: dict[str, int] = defaultdict(int)
    claimed: list[int] = []
    for w in work:
        target, ids = (w.target, w.ids) if isinstance(w, Message) else (w[0], _pair_ids(w[1]))
        planned[target.name] += 1
        claimed += ids
    outbox.claim(db, claimed, now)
    with SendLoops(db, delivery, stats, now, planned, workers) as loops:
        for w in work:
            if isinstance(w, Message):
                loops.put(w)
                continue
            target, pairs = w
            with loops.lock:  # the archive connection is shared with the loops' records
                try:
                    m = story_message(db, target, pairs, renderer, formulas=tier_formulas)
                except Exception as e:
                    _unbuildable(db, _pair_ids(pairs), e, now, delivery, stats, claimed=True)
                    continue
            loops.put(m)
    return stats


def _pair_ids(pairs: list[tuple[Watch, dict]]) -> list[int]:
    return [r["id"] for _, r in pairs]


_FORMATS: dict[tuple[str, str], str] = {}


def _format(target: Target) -> str:
    """:func:`target_format`, remembered per URL and setting: it builds the target's Apprise
    plugin, which per message was half the match-and-deliver time of 5,300 alerts."""
    key = (target.url, target.format)
    if key not in _FORMATS:
        _FORMATS[key] = target_format(target)
    return _FORMATS[key]


def _unbuildable(db, ids, error: Exception, now, delivery, stats, claimed=False) -> None:
    """A message that cannot be built (a broken template or row): its rows fail like a
    refused send (``claimed``: they count the attempt already), and the others go on."""
    text = redact_text(f"cannot build the message: {type(error).__name__}: {error}")[:500]
    if not claimed:
        outbox.claim(db, ids, now)
    stats.failed += outbox.mark_failure(db, ids, text, now, delivery)
    stats.errors.append(text)


def _immediate(db, watch, target, fmt, rows, now, renderer, stats, formulas=False):
    """The rows that go out now, one message per story (built by :func:`story_message`), and past
    max_per_hour one summary message for the rest (alerts/hourly.py)."""
    split = hourly_limit(db, watch, target.name, rows, now, key=message_key(db))
    if split.held_until is not None:
        outbox.hold(db, [r["id"] for r in rows], split.held_until)
        stats.held += len(rows)
        return [], []
    out = []
    if split.rolled:
        out.append(
            grouped_message(
                db, watch, target, fmt, split.rolled, renderer, kind="summary", formulas=formulas
            )
        )
    return split.singles, out


def story_message(
    db, target, pairs: list[tuple[Watch, dict]], renderer, *, formulas: bool = False
) -> Message:
    """One alert message for one story and one target, naming every watch that matched it."""
    names = list(dict.fromkeys(w.name for w, _ in pairs))
    prefer = list(dict.fromkeys(c for w, _ in pairs for c in w.countries))
    # a follow-up names the countries any of its watches cares about (a watch without
    # countries cares about all)
    cares = None if any(not w.countries for w, _ in pairs) else set(prefer)
    rows = [r for _, r in pairs]
    item = alert_item(
        db, rows, _excerpt_chars(renderer), prefer=prefer, cares=cares, formulas=formulas
    )
    fmt = _format(target)
    subject, body = renderer.render("alert", fmt, watch=", ".join(names), watches=names, item=item)
    counts: dict[str, int] = defaultdict(int)
    for w, _ in pairs:
        counts[w.name] += 1
    ids = [r["id"] for r in rows]
    return Message(", ".join(names), target, "alert", fmt, subject, body, ids, dict(counts))


def _digest(db, watch, target, fmt, rows, now, tz, renderer, stats, formulas) -> list[Message]:
    """Schedule new digest rows for their slot; send those whose slot has come as one digest."""
    ready, later = [], defaultdict(list)
    for r in rows:
        if r["next_attempt_at"] is None:
            slot = next_slot(watch.digest_at, parse_iso(r["created_at"]), tz)
            if slot > now:
                later[slot].append(r["id"])
                continue
        ready.append(r)
    for slot, ids in later.items():
        outbox.hold(db, ids, slot)
        stats.held += len(ids)
    if not ready:
        return []
    updated = []
    if watch.mode == "digest":  # an immediate watch's digest carries its follow-ups alone
        stories = {r["story_id"] for r in ready}
        updated = updated_items(db, watch.name, target.name, exclude=stories, formulas=formulas)
    return [
        grouped_message(
            db,
            watch,
            target,
            fmt,
            ready,
            renderer,
            kind="digest",
            updated=updated,
            formulas=formulas,
        )
    ]


def _updated_only(db, watches, targets, built, now, tz, renderer, formulas) -> list[Message]:
    """Digests of updated stories alone: when a digest watch's next time has come with no
    new story for a target, stories that gained sources since they went out still make a
    digest (``built``: the (watch, target) pairs that have one already)."""
    out = []
    for watch in watches:
        if watch.mode != "digest":
            continue
        for target in route(targets, watch.targets):
            if (watch.name, target.name) in built:
                continue
            last = outbox.last_digest(db, watch.name, target.name)
            if last is None or next_slot(watch.digest_at, parse_iso(last), tz) > now:
                continue  # no digest time has come since the last digest
            updated = updated_items(db, watch.name, target.name, exclude=set(), formulas=formulas)
            if not updated:
                continue
            first = parse_iso(min(i["updated_at"] for i in updated))
            if next_slot(watch.digest_at, first, tz) > now:
                continue  # the first digest time after the update has not come yet
            if quiet_until(watch.quiet_hours, now, tz) is not None:
                continue
            fmt = _format(target)
            out.append(
                grouped_message(
                    db,
                    watch,
                    target,
                    fmt,
                    [],
                    renderer,
                    kind="digest",
                    updated=updated,
                    formulas=formulas,
                )
            )
    return out


def grouped_message(
    db, watch, target, fmt, rows, renderer, *, kind: str, updated=(), formulas: bool = False
) -> Message:
    """One message listing ``rows`` grouped by country: a digest, or the summary of what
    passed ``max_per_hour``. In a digest, follow-ups (updates, growth) are listed with the
    updated stories, saying what is new. ``formulas``: as :func:`alert_item`."""
    cares = watch.countries or None
    items = [
        alert_item(db, r, _excerpt_chars(renderer), cares=cares, formulas=formulas) for r in rows
    ]
    if kind == "digest":
        updated = [*(i for i in items if i["change"]), *updated]
        items = [i for i in items if not i["change"]]
    # the rows of two stories merged since they were queued (crawler/story_merge.py): one item
    firsts: dict[int, dict] = {}
    items = [i for i in items if i["change"] or firsts.setdefault(i["story_id"], i) is i]
    subject, body = renderer.render(
        "digest",
        fmt,
        watch=watch.name,
        summary=kind == "summary",
        limit=watch.max_per_hour,
        count=len(items),
        groups=group_by_country(items),
        updated=list(updated),
    )
    return Message(watch.name, target, kind, fmt, subject, body, [r["id"] for r in rows])


def message_topic(row: dict, changes: dict[int, dict]) -> tuple:
    """What an immediate row tells about its story: the story itself (a first alert), or
    one change (the same update or growth found for several watches is one message)."""
    change = changes.get(row.get("change_id") or 0)
    if change is None:
        return ("story",)
    return (change["kind"], change["article_id"], change["version"])


def message_key(db: Database) -> Callable[[dict], tuple]:
    """What makes an immediate row a message of its own, for the hourly limit: its live
    story (rows of two stories merged since are one message) and what it tells about it."""

    def key(row: dict) -> tuple:
        return (live_story(db, row["story_id"]), row.get("change_id") or 0)

    return key


def _excerpt_chars(renderer: Renderer) -> int:
    return renderer.excerpt_chars


def _hhmm(text: str) -> time:
    h, m = text.strip().split(":")
    return time(int(h), int(m))


def next_slot(times: Sequence[str], after: datetime, tz: ZoneInfo) -> datetime:
    """The first of the daily ``times`` (HH:MM in ``tz``) strictly after ``after``, in UTC."""
    local = after.astimezone(tz)
    candidates = []
    for offset in range(3):
        day = local.date() + timedelta(days=offset)
        for t in times:
            at = datetime.combine(day, _hhmm(t), tzinfo=tz)
            if at > local:
                candidates.append(at)
    return utc(min(candidates))


def quiet_until(spec: str | None, now: datetime, tz: ZoneInfo) -> datetime | None:
    """If ``now`` falls in the quiet hours ``spec`` ("22:00-07:00" in ``tz``), when they end."""
    if not spec:
        return None
    start_s, end_s = spec.split("-")
    start, end = _hhmm(start_s), _hhmm(end_s)
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    inside = (start <= t < end) if start <= end else (t >= start or t < end)
    if not inside:
        return None
    until = datetime.combine(local.date(), end, tzinfo=tz)
    if until <= local:
        until += timedelta(days=1)
    return utc(until)
