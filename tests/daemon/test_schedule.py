"""Due-ness from the archive: intervals, jitter, and the staggered catch-up after downtime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crawler import archive, schedule
from crawler.config import CrawlSettings, Source

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _source(name: str, interval: str | None = None, enabled: bool = True) -> Source:
    return Source(
        name=name,
        kind="feed",
        url=f"https://example.org/{name}.xml",
        interval=interval,
        enabled=enabled,
    )


def _fetched(db, name: str, when: datetime) -> None:
    with archive.write(db):
        db["sources"].upsert(
            {"name": name, "last_attempt_at": when.strftime("%Y-%m-%dT%H:%M:%SZ")}, pk="name"
        )


def test_sources_are_due_one_interval_after_their_last_attempt(tmp_path):
    db = archive.open_archive(tmp_path / "a.db")
    crawl = CrawlSettings(interval="30m", jitter=0)
    hourly, default = _source("hourly", "1h"), _source("default")
    _fetched(db, "hourly", NOW - timedelta(minutes=10))
    _fetched(db, "default", NOW - timedelta(minutes=10))
    plan = schedule.next_runs(db, [hourly, default], crawl, now=NOW)
    assert plan["hourly"] == NOW + timedelta(minutes=50)
    assert plan["default"] == NOW + timedelta(minutes=20)
    assert schedule.due_now(plan, NOW) == []
    assert schedule.due_now(plan, NOW + timedelta(minutes=21)) == ["default"]


def test_after_three_hours_down_each_overdue_source_is_fetched_once_staggered(tmp_path):
    db = archive.open_archive(tmp_path / "a.db")
    crawl = CrawlSettings(interval="30m", jitter=0)
    sources = [_source(f"s{i}") for i in range(6)] + [_source("off", enabled=False)]
    for s in sources:
        _fetched(db, s.name, NOW - timedelta(hours=3))
    plan = schedule.next_runs(db, sources, crawl, now=NOW, stagger=timedelta(seconds=30))
    assert "off" not in plan
    times = sorted(plan.values())
    assert len(times) == 6 and len(set(times)) == 6, "one run each, none at the same moment"
    assert times[0] == NOW and times[-1] < NOW + timedelta(seconds=30)
    # Once fetched, each goes back to its own interval: nothing is owed twice.
    assert schedule.due_now(plan, NOW + timedelta(seconds=30)) == sorted(plan, key=plan.get)


def test_never_fetched_sources_are_due_at_start(tmp_path):
    db = archive.open_archive(tmp_path / "a.db")
    plan = schedule.next_runs(db, [_source("new")], CrawlSettings(), now=NOW)
    assert plan == {"new": NOW}


def test_jitter_is_stable_and_within_its_fraction(tmp_path):
    crawl = CrawlSettings(interval="1h", jitter=0.1)
    offsets = {schedule.jitter(_source(f"s{i}"), crawl) for i in range(20)}
    assert all(timedelta(0) <= o < timedelta(minutes=6) for o in offsets)
    assert len(offsets) > 10, "sources with one interval do not all fire together"
    assert schedule.jitter(_source("s1"), crawl) == schedule.jitter(_source("s1"), crawl)
