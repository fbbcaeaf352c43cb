"""`newswatch match` over an 18 MB JSON Lines file, process start included (issue 14).

The input is built from the article bodies of ../shared/corpora/article-extraction
(ground-truth.json; $NEWSWATCH_CORPORA overrides ../shared/corpora), repeated until the file
holds 18 MB, one {"id", "title", "text"} per line, in a temporary folder. Both commands run
as their own processes with the shipped defaults (data/newswatch.toml), output to
/dev/null:

- baseline: a Python process that reads the same file and writes one JSON line per
  article (json.loads, json.dumps): the floor of any command that reads this input;
- `newswatch match FILE`.

Each run prints wall time and CPU time (user + system, from the children's rusage) and the
load average, since the machine is shared; ratios are against the baseline of the same round.
Skips cleanly when the corpus is absent.

    .venv/bin/python bench/bench_matching_cli.py [--rounds N] [--mb 18]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import results

REPO = Path(__file__).resolve().parent.parent
BENCH = "matching_cli"
SOURCE = results.corpus("article-extraction") / "ground-truth.json"
TARGET_MB_S = 8  # issue 14: `newswatch match` over 18 MB JSON Lines, process start included
BASELINE = (
    "import json, sys\n"
    "with open(sys.argv[1], encoding='utf-8') as f:\n"
    "    for line in f:\n"
    "        a = json.loads(line)\n"
    "        sys.stdout.write(json.dumps({'id': a['id'], 'n': len(a['text'])}) + '\\n')\n"
)


def build(path: Path, megabytes: float) -> tuple[int, int]:
    """Write the JSON Lines input to ``path``; (articles, bytes)."""
    truth = json.loads(SOURCE.read_text(encoding="utf-8"))
    bodies = [v["articleBody"] for v in truth.values() if v.get("articleBody")]
    size = count = 0
    with path.open("w", encoding="utf-8") as f:
        while size < megabytes * 1e6:
            body = bodies[count % len(bodies)]
            line = json.dumps(
                {"id": f"a{count}", "title": body.split("\n", 1)[0][:120], "text": body},
                ensure_ascii=False,
            )
            f.write(line + "\n")
            size += len(line.encode("utf-8")) + 1
            count += 1
    return count, size


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one command, its output discarded."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="rounds of baseline + match")
    ap.add_argument("--mb", type=float, default=18, help="size of the input in MB")
    args = ap.parse_args()
    if not SOURCE.exists():
        results.skip(BENCH, f"{SOURCE} is absent")
        return
    newswatch = Path(sys.executable).with_name("newswatch")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "articles.jsonl"
        count, size = build(path, args.mb)
        mb = size / 1e6
        print(f"input: {count} articles, {mb:.1f} MB of JSON Lines ({SOURCE.parent.name})")
        best: dict[str, tuple[float, float]] = {}
        for r in range(args.rounds):
            load = os.getloadavg()[0]
            base = timed([sys.executable, "-c", BASELINE, str(path)])
            match = timed([str(newswatch), "match", str(path)])
            for label, (wall, cpu) in (("baseline", base), ("match", match)):
                if label not in best or wall < best[label][0]:
                    best[label] = (wall, cpu)
            print(
                f"  round {r + 1} (load {load:.1f}): baseline {base[0]:.2f} s wall "
                f"{base[1]:.2f} s CPU; newswatch match {match[0]:.2f} s wall {match[1]:.2f} s "
                f"CPU = {mb / match[0]:.1f} MB/s wall, {mb / match[1]:.1f} MB/s CPU; "
                f"{match[0] / base[0]:.1f}x the baseline's wall time"
            )
    (bw, bc), (mw, mc) = best["baseline"], best["match"]
    print(
        f"  best round: newswatch match {mb / mw:.1f} MB/s wall ({mb / mc:.1f} MB/s of CPU "
        f"time), baseline {mb / bw:.1f} MB/s; target >= {TARGET_MB_S} MB/s"
    )
    results.record(BENCH, "newswatch match over 18 MB JSON Lines", mb / mw, "MB/s",
                   baseline=mb / bw, baseline_label="read + write JSON Lines",
                   target=TARGET_MB_S, note="process start included, wall time")  # fmt: skip
    results.record(BENCH, "newswatch match over 18 MB JSON Lines, CPU time", mb / mc, "MB/s",
                   baseline=mb / bc, baseline_label="read + write JSON Lines",
                   note="user + system time of the process")  # fmt: skip


if __name__ == "__main__":
    main()
