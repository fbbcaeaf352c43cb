"""Due-ness from the archive: intervals, jitter, and the staggered catch-up after downtime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crawler import archive, schedule, times
from crawler.config import CrawlSettings, Source
from crawler.fetch_outcomes import SourceResult, record_results

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
        db["sources"].upsert({"name": name, "last_attempt_at": times.iso(when)}, pk="name")


def test_sources_are_due_one_interval_after_their_last_attempt(tmp_path):
    db = archive.open_archive(tmp_path / "a.db")
    crawl = CrawlSettings(interval="30m", schedule_jitter=0)
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
    crawl = CrawlSettings(interval="30m", schedule_jitter=0)
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
    crawl = CrawlSettings(interval="1h", schedule_jitter=0.1)
    offsets = {schedule.jitter(_source(f"s{i}"), crawl) for i in range(20)}
    assert all(timedelta(0) <= o < timedelta(minutes=6) for o in offsets)
    assert len(offsets) > 10, "sources with one interval do not all fire together"
    assert schedule.jitter(_source("s1"), crawl) == schedule.jitter(_source("s1"), crawl)


def _ran(db, sources, started: datetime, finished: datetime) -> None:
    """Record one crawl of ``sources`` the way the crawler does (crawler/fetch_outcomes.py)."""
    results = [SourceResult(s.name, status="ok", http_status=200) for s in sources]
    stamp = times.iso(started)
    with archive.write(db):
        record_results(db, sources, results, stamp)
        # the crawl took a while: its fetch rows end when it ended
        db.execute(
            "UPDATE fetches SET finished_at = ? WHERE started_at = ?",
            [times.iso(finished), stamp],
        )


def test_the_running_daemon_and_a_restart_plan_the_same_times(tmp_path):
    db = archive.open_archive(tmp_path / "a.db")
    crawl = CrawlSettings(interval="30m", schedule_jitter=0.2)
    sources = [_source("a"), _source("b", "1h"), _source("c")]
    _ran(db, sources, NOW, NOW + timedelta(minutes=3))
    running = schedule.due_after_run(db, sources, crawl)
    restarted = schedule.next_runs(db, sources, crawl, now=NOW + timedelta(minutes=4))
    assert running == restarted
    # finished + interval + the source's jitter, not the start of the crawl
    for s in sources:
        assert running[s.name] == (
            NOW + timedelta(minutes=3) + s.effective_interval(crawl) + schedule.jitter(s, crawl)
        )


def test_sources_that_ran_together_drift_apart_by_their_jitter(tmp_path):
    db = archive.open_archive(tmp_path / "a.db")
    crawl = CrawlSettings(interval="30m", schedule_jitter=0.2)
    a, b = _source("a"), _source("b")
    ja, jb = schedule.jitter(a, crawl), schedule.jitter(b, crawl)
    assert ja != jb
    _ran(db, [a, b], NOW, NOW + timedelta(seconds=20))
    plan = schedule.due_after_run(db, [a, b], crawl)
    assert plan["a"] - plan["b"] == ja - jb
    # Each then runs at its own time: the gap grows by the jitter difference every cycle,
    # so two sources that once ran together do not stay in lockstep.
    gaps = []
    for _ in range(3):
        for s in (a, b):
            _ran(db, [s], plan[s.name], plan[s.name] + timedelta(seconds=20))
        plan = schedule.due_after_run(db, [a, b], crawl)
        gaps.append(abs(plan["a"] - plan["b"]))
    assert gaps[0] < gaps[1] < gaps[2]
    # (the archive keeps times to the second)
    assert abs(gaps[2] - gaps[1] - abs(ja - jb)) <= timedelta(seconds=1)


def test_the_old_jitter_key_still_sets_the_schedule_jitter():
    assert CrawlSettings(jitter=0.3).schedule_jitter == 0.3
    assert CrawlSettings(jitter=0.3).download_delay_jitter == CrawlSettings().download_delay_jitter


def test_each_source_plans_from_its_newest_fetch_or_its_last_attempt(tmp_path):
    db = archive.open_archive(tmp_path / "a.db")
    crawl = CrawlSettings(interval="30m", schedule_jitter=0)
    a, b, c = _source("a"), _source("b"), _source("c")
    # a: its newer crawl recorded before an older one (rows out of time order)
    _ran(db, [a], NOW - timedelta(minutes=5), NOW - timedelta(minutes=4))
    _ran(db, [a, b], NOW - timedelta(hours=2), NOW - timedelta(hours=2) + timedelta(minutes=1))
    _fetched(db, "c", NOW - timedelta(minutes=10))  # c: no fetches row, only its last attempt
    for plan in (
        schedule.due_after_run(db, [a, b, c], crawl),
        schedule.next_runs(db, [a, b, c], crawl, now=NOW, stagger=timedelta(0)),
    ):
        assert plan["a"] == NOW - timedelta(minutes=4) + timedelta(minutes=30)
        assert plan["c"] == NOW + timedelta(minutes=20)
    assert schedule.due_after_run(db, [a, b, c], crawl)["b"] == NOW - timedelta(minutes=89)
