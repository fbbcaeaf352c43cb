"""Story merges at the event level (issue 15; shipped: crawler/story_merge.py), measured
through the real assigner: bench_stories' figures without merges and with them (the
shipped defaults), in one order of the articles, and how many merges each run made.

An article that joins story S and passes every check of ``EventLinker._agrees`` against a
second nominated story T as well bridges them; T is merged into S when the two stories'
originals agree on figures (``event_stories._compare`` == 1). Before it shipped, this
script patched that rule into ``EventLinker.find`` (the figures are in
docs/architecture.md); now it switches the shipped rule off for the baseline run.

    .venv/bin/python bench/event_merge.py [--seed 15]
    .venv/bin/python bench/event_merge.py --dedupe 20000   (bench_dedupe.py, merges counted)
"""

from __future__ import annotations

import argparse
import runpy
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench_stories  # noqa: E402

from crawler import stories  # noqa: E402
from crawler.config import DedupeSettings  # noqa: E402

MERGES: list[tuple[int, int]] = []
_merge_rows, _bridged = stories.merge_rows, stories.bridged


def _counted(db, keep: int, gone: int) -> bool:
    done = _merge_rows(db, keep, gone)
    if done:
        MERGES.append((keep, gone))
    return done


stories.merge_rows = _counted  # this process only


def merges(on: bool) -> None:
    """Switch the shipped merges on or off (this process only)."""
    stories.bridged = _bridged if on else (lambda *args, **kwargs: [])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--seed", type=int, default=15, help="order of the articles (see bench_stories)"
    )
    ap.add_argument("--dedupe", type=int, metavar="N", help="run bench_dedupe.py --articles N")
    args = ap.parse_args()
    if args.dedupe:
        sys.argv = ["bench_dedupe.py", "--articles", str(args.dedupe)]
        try:
            runpy.run_path(str(ROOT / "bench" / "bench_dedupe.py"), run_name="__main__")
        finally:
            print(f"story merges: {len(MERGES)}")
        return 0
    sem, clusters = bench_stories.semeval(args.seed), bench_stories.ecb(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        merges(False)
        bench_stories.run("without story merges", DedupeSettings(), Path(tmp), sem, clusters)
        print(f"story merges: {len(MERGES)}")
        MERGES.clear()
        merges(True)
        bench_stories.run("shipped defaults", DedupeSettings(), Path(tmp), sem, clusters)
    print(f"story merges: {len(MERGES)} (order {args.seed}, both corpora)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
