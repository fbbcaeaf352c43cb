"""`newswatch worker`: a cluster worker (Celery) that crawls the sources the daemon sends,
and `newswatch worker --status`: the workers that answer and the queue's depth."""

from __future__ import annotations

import os
import socket

import click

from crawler.cli import output
from crawler.cli.context import BadInput, Context, config_option, json_option, pass_ctx


@click.command()
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=None,
    help="Crawls at once (default: [cluster] worker_concurrency, 0 there: one per core).",
)
@click.option("--status", "show_status", is_flag=True, help="Show the workers and the queue.")
@json_option
@config_option
@pass_ctx
def worker(obj: Context, concurrency: int | None, show_status: bool, as_json: bool) -> None:
    """Run a cluster worker: take tasks from the [cluster] broker, crawl, send back.

    Any number of workers, on any machines with the same config and the same newswatch
    version, share the daemon's queue; the daemon stays the only archive writer. A worker
    refuses to start when the daemon runs another version. With --status, the workers
    that answer a ping and the number of tasks waiting (--json: one
    {"section": "worker", "name", "host", "pid", "active", "concurrency"} per worker, then
    {"section": "queue", "name", "waiting"}).
    """
    cfg = obj.config
    if cfg.cluster is None:
        raise BadInput(f"no [cluster] section in {obj.path}: nothing to work for")
    if show_status:
        _status(cfg.cluster, as_json)
        return
    from crawler.cluster.app import check_daemon_version, make_app

    try:
        why = check_daemon_version(cfg.cluster)
    except Exception as e:  # the broker is down: Celery keeps retrying; so do we
        why = None
        click.echo(f"cannot reach the broker yet ({type(e).__name__}); will retry", err=True)
    if why:
        raise BadInput(f"refusing to start: {why}")
    app = make_app(cfg.cluster)
    n = concurrency or cfg.cluster.worker_concurrency or os.cpu_count() or 1
    app.Worker(
        pool="threads",  # each task's crawl runs in a process of its own (crawl_job)
        concurrency=n,
        hostname=f"newswatch-{os.getpid()}@{socket.gethostname()}",
        queues=[cfg.cluster.queue],
        loglevel="INFO",
        without_mingle=True,
        without_gossip=True,
    ).start()


def _status(cluster, as_json: bool) -> None:
    from crawler.cluster.status import cluster_status, summary

    state = cluster_status(cluster)
    if state["problem"]:
        raise click.ClickException(state["problem"])
    if as_json:
        output.json_lines(
            [
                *({"section": "worker", **w} for w in state["workers"]),
                {"section": "queue", "name": state["queue"], "waiting": state["waiting"]},
            ]
        )
        return
    output.table(
        ["worker", "pid", "crawling", "concurrency"],
        [[w["name"], w["pid"], w["active"], w["concurrency"]] for w in state["workers"]],
    )
    output.line(summary(state))
