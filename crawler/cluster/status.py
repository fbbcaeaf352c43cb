"""What the cluster looks like now: the workers that answer a ping, what each is crawling,
and the tasks waiting in the queue (for `newswatch status` and `newswatch worker --status`)."""

from __future__ import annotations

from crawler.config import ClusterSettings

PING_S = 1.0  # how long to wait for workers to answer


def cluster_status(cluster: ClusterSettings) -> dict:
    """``{"queue", "waiting", "workers": [{"name", "host", "pid", "active",
    "concurrency"}], "problem"}``; ``problem`` says why the broker could not be asked
    (the rest is then empty). Never raises for an unreachable broker."""
    from crawler.cluster.app import make_app, queue_depth

    out: dict = {"queue": cluster.queue, "waiting": None, "workers": [], "problem": None}
    try:
        out["waiting"] = queue_depth(cluster)
        inspect = make_app(cluster).control.inspect(timeout=PING_S)
        stats = inspect.stats() or {}
        active = inspect.active() or {}
    except Exception as e:
        out["problem"] = f"cannot reach the broker: {type(e).__name__}: {e}"
        return out
    for name, st in sorted(stats.items()):
        out["workers"].append(
            {
                "name": name,
                "host": name.split("@", 1)[-1],
                "pid": st.get("pid"),
                "active": len(active.get(name, [])),
                "concurrency": (st.get("pool") or {}).get("max-concurrency"),
            }
        )
    return out


def summary(state: dict) -> str:
    """One line for people."""
    if state.get("problem"):
        return f"cluster: {state['problem']}"
    workers = state["workers"]
    busy = sum(w["active"] for w in workers)
    hosts = len({w["host"] for w in workers})
    return (
        f"cluster: {len(workers)} workers on {hosts} hosts ({busy} tasks running),"
        f" {state['waiting']} tasks waiting in queue {state['queue']!r}"
    )
