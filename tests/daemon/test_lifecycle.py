"""The daemon's start-up phases, in-process on a real archive (no reactor): each phase does
its one job, and no phase adds an attribute that __init__ did not create."""

from __future__ import annotations

import pytest

from alerts.daemon import Daemon, DaemonError
from scheduler import load_config


@pytest.fixture
def daemon(write_config):
    path = write_config(
        """
        [archive]
        path = "{archive}"
        [[sources]]
        name = "on"
        kind = "feed"
        url = "https://example.org/on.xml"
        [[sources]]
        name = "off"
        kind = "feed"
        url = "https://example.org/off.xml"
        enabled = false
        """
    )
    return Daemon(str(path), load_config(path), load_config=load_config)


def test_phases_do_their_job_and_add_no_attribute(daemon):
    from alerts import schema

    born = set(vars(daemon))
    db = schema.open_archive(daemon.cfg.archive.path)
    try:
        daemon.heartbeat(db)
        daemon.load_story_index(db)
        daemon.release_outbox(db)
        daemon.plan_runs(db)
        assert db["daemon"].count == 1
    finally:
        db.close()
    assert daemon.index is not None
    assert set(daemon.plan) == {"on"}  # a disabled source is never planned
    assert set(vars(daemon)) == born


def test_a_second_daemon_on_one_archive_is_a_library_error(daemon):
    other = Daemon(daemon.config_file, daemon.cfg, load_config=load_config)
    daemon.lock()
    try:
        with pytest.raises(DaemonError):
            other.lock()
    finally:
        daemon._lock.release()


def test_the_jobs_take_what_they_need_as_arguments(daemon):
    """alerts.cycle.Cycle runs on a config, matcher and plan it is given, not the daemon's."""
    import asyncio

    from alerts import schema
    from alerts.archive_watch import ArchiveWatch
    from alerts.cycle import Cycle
    from alerts.stages import compile_matcher
    from crawler.robots import RobotsCache

    cfg = daemon.cfg
    schema.open_archive(cfg.archive.path).close()
    cycle = Cycle(ArchiveWatch(cfg.archive.path), RobotsCache())
    stats = asyncio.run(cycle.process(cfg, compile_matcher(cfg)))
    assert set(stats) >= {"matched", "queued", "delivered", "process_s"}
    assert cycle.delivery == stats["delivered"]

    cycle.stop()  # stopping: no new work starts, and nothing is crawled

    async def collect():
        return await cycle.collect(cfg, {"on": None}, None, ["on"], then=_never)

    assert asyncio.run(collect()) == []
    assert asyncio.run(cycle.process(cfg, compile_matcher(cfg))) == {}


async def _never() -> dict:
    raise AssertionError("a stopped cycle must not match and deliver")


def test_a_reload_plans_into_the_plan_a_running_collection_writes(daemon):
    from alerts import schema

    plan = daemon.plan
    db = schema.open_archive(daemon.cfg.archive.path)
    try:
        daemon.plan_runs(db)
        daemon.plan_runs(db)  # as SIGHUP does
    finally:
        db.close()
    assert daemon.plan is plan and set(plan) == {"on"}
