"""bench_soak.py --trace: the daemon's memory, dumped on SIGUSR1 (objects by type, the story
indexes' sizes, glibc's heap in use and free, the event terms' word table, and what
tracemalloc saw allocated and kept over the last cycles), and the report of the dumps."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _heap() -> dict:
    """glibc's heap (mallinfo2): bytes in use and bytes free but kept by the process."""
    import ctypes

    class Info(ctypes.Structure):
        _fields_ = [
            (f, ctypes.c_size_t)
            for f in (
                "arena",
                "ordblks",
                "smblks",
                "hblks",
                "hblkhd",
                "usmblks",
                "fsmblks",
                "uordblks",
                "fordblks",
                "keepcost",
            )
        ]

    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = Info
    info = libc.mallinfo2()
    return {"in_use": info.uordblks + info.hblkhd, "free_kept": info.fordblks}


def traced_daemon(out: Path, argv: list[str]) -> None:
    """Run scheduler.py; each SIGUSR1 writes to ``out`` (dump-N.json) the objects by type,
    the story indexes' sizes, Python's allocated blocks and glibc's heap use; the second
    starts tracemalloc and the third also writes a snapshot of what was allocated since
    and is still alive (tracing slows the daemon several times: only a few cycles)."""
    import gc
    import runpy
    import tracemalloc
    from collections import Counter

    dumps = [0]

    def dump(signum, frame) -> None:
        dumps[0] += 1
        gc.collect()
        stem = out / f"dump-{dumps[0]}"
        if tracemalloc.is_tracing():
            tracemalloc.take_snapshot().dump(f"{stem}.snapshot")
            tracemalloc.stop()
        objs = gc.get_objects()
        counts = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in objs)
        sizes = {
            f"{type(o).__name__}@{id(o)}": [len(o), o.nbytes() if callable(o.nbytes) else o.nbytes]
            for o in objs
            if type(o).__name__ in ("NearDuplicateIndex", "EventIndex")
        }
        # the daemon's reprint index was built before start-up's gc.freeze(), so
        # gc.get_objects() does not list it: found through the event state kept with it
        from crawler import event_state

        for o in list(event_state._SHARED.keys()):
            sizes[f"{type(o).__name__}@{id(o)}"] = [len(o), o.nbytes]
        held = [o for o in objs if type(o).__name__ == "EventIndex"]
        del objs
        record_chains = [_holders(o) for o in held]
        from crawler import event_terms

        known = sum(len(v) for v in event_terms._KNOWN.values())
        record = {
            "types": counts,
            "indexes": sizes,
            "blocks": sys.getallocatedblocks(),
            "heap": _heap(),
            "known_words": known,
            "event_index_holders": record_chains,
        }
        Path(f"{stem}.json").write_text(json.dumps(record))
        if dumps[0] == 2:
            tracemalloc.start(6)
        Path(f"{stem}.done").touch()

    signal.signal(signal.SIGUSR1, dump)
    sys.argv = [str(REPO / "scheduler.py"), *argv]
    runpy.run_path(str(REPO / "scheduler.py"), run_name="__main__")


def _holders(obj, depth: int = 16) -> list[str]:
    """What keeps ``obj`` alive: one chain of referrers, outward, by type (and a module's or
    a function's name)."""
    import gc

    chain, seen = [], {id(obj)}
    for _ in range(depth):
        refs = [r for r in gc.get_referrers(obj) if id(r) not in seen and r is not chain]
        refs = [r for r in refs if type(r).__name__ not in ("frame", "list")] or refs
        if not refs:
            break
        obj = refs[0]
        seen.add(id(obj))
        name = getattr(obj, "__name__", "") or getattr(obj, "__qualname__", "")
        keys = list(obj)[:6] if isinstance(obj, dict) else ""
        chain.append(f"{type(obj).__module__}.{type(obj).__qualname__} {name} {keys}")
    return chain


def ask_dump(pid: int, out: Path, n: int) -> None:
    os.kill(pid, signal.SIGUSR1)
    deadline = time.time() + 300
    while not (out / f"dump-{n}.done").exists() and time.time() < deadline:
        time.sleep(0.2)


def print_trace(out: Path, cycles: list[int]) -> None:
    """The dumps at ``cycles`` side by side, and what tracemalloc saw alive at the last one
    of what was allocated since the one before."""
    import tracemalloc

    dumps = [json.loads((out / f"dump-{n}.json").read_text()) for n in (1, 2, 3)]
    print(f"daemon memory at cycles {cycles}:")
    for label, key in [("glibc heap in use", "in_use"), ("glibc heap free, kept", "free_kept")]:
        print(f"  {label}: " + " -> ".join(f"{d['heap'][key] / 1e6:.1f}" for d in dumps) + " MB")
    print("  Python blocks: " + " -> ".join(str(d["blocks"]) for d in dumps))
    print("  event-term word table: " + " -> ".join(str(d["known_words"]) for d in dumps))
    for name in sorted(set().union(*(d["indexes"] for d in dumps))):
        vals = [d["indexes"].get(name, [0, 0]) for d in dumps]
        print(f"  {name.split('@')[0]}: " + " -> ".join(f"{n} ({b / 1e6:.2f} MB)" for n, b in vals))
    a, b = dumps[0]["types"], dumps[2]["types"]
    grew = sorted(((b[t] - a.get(t, 0), t) for t in b), reverse=True)
    print(
        f"  objects by type, cycle {cycles[0]} to {cycles[2]}: "
        + ", ".join(f"{t} {d:+d}" for d, t in grew[:10])
    )
    snap = tracemalloc.Snapshot.load(str(out / "dump-3.snapshot"))
    snap = snap.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    stats = snap.statistics("lineno")
    print(
        f"Python memory allocated from cycle {cycles[1]} and alive at cycle {cycles[2]}: "
        f"{sum(s.size for s in stats) / 1e6:.2f} MB in {sum(s.count for s in stats)} blocks"
    )
    for stat in stats[:12]:
        print(f"  {stat.size / 1e3:9.1f} kB {stat.count:7d} blocks  {stat.traceback}")
    for stat in snap.statistics("traceback")[:3]:
        print(f"  {stat.size / 1e3:9.1f} kB {stat.count:7d} blocks, from:")
        for line in stat.traceback.format()[-12:]:
            print("     " + line)
