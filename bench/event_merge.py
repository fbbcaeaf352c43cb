"""Story merges at the event level, measured through the real assigner (issue 15, H6).

The assigner never merges stories: two stories that formed separately about one event
(neither's reports reached the other's centroid early on) stay two for good. Here an
article that joins story S and passes every check of ``EventLinker._agrees`` against a
second candidate story T as well is taken as evidence that S and T report one event; T is
merged into S when the two stories' originals (their first articles in the index) agree on
figures (``event_stories._compare`` == 1: two shared numbers or more, at least half of the
smaller set, not only years), and with ``--union`` also when the stories' unions of
numbers do not differ.

A scratch measurement, not the product: the merge is patched into ``EventLinker.find``
(the event index's articles move to S, the articles' ``story_id`` is updated and T's
``stories`` row is dropped), which the product cannot do as is (alerts reference story ids;
see docs/architecture.md). Prints bench_stories' figures for the shipped defaults and with
merges, in one order of the articles:

    .venv/bin/python bench/event_merge.py [--seed 15] [--union]
    .venv/bin/python bench/event_merge.py --dedupe 20000   (bench_dedupe.py with merges)
"""

from __future__ import annotations

import argparse
import json
import runpy
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench_stories  # noqa: E402

from crawler import event_stories  # noqa: E402
from crawler.config import DedupeSettings  # noqa: E402

MERGES: list[tuple[int, int]] = []


def _merge(linker: event_stories.EventLinker, keep: int, gone: int) -> None:
    index = linker.index
    for lang in index._langs.values():
        for key, doc in list(lang.docs.items()):
            if doc.event == gone:
                doc.event = keep
                index._join(keep, key, lang, doc.vectors)
    index._solo.pop(gone, None)
    index._members.pop(gone, None)
    for cents in index._centroids.values():
        cents.pop(gone, None)
    originals = linker._originals
    mine, theirs = originals.get(keep), originals.pop(gone, None)
    if theirs is not None and (mine is None or theirs < mine):
        originals[keep] = theirs
    db = linker.db
    db.execute("UPDATE articles SET story_id = ? WHERE story_id = ?", [keep, gone])
    rows = dict(
        db.execute("SELECT id, sources FROM stories WHERE id IN (?, ?)", [keep, gone]).fetchall()
    )
    sources = list(dict.fromkeys(json.loads(rows[keep]) + json.loads(rows[gone])))
    db.execute(
        "UPDATE stories SET sources = ?, article_count = "
        "(SELECT count(*) FROM articles WHERE story_id = ?) WHERE id = ?",
        [json.dumps(sources), keep, keep],
    )
    db.execute("DELETE FROM stories WHERE id = ?", [gone])
    MERGES.append((keep, gone))


def patch(union: bool = False) -> None:
    """Patch the merge into EventLinker.find (this process only)."""
    find = event_stories.EventLinker.find
    compare = event_stories._compare

    def merging_find(self, vector, language, at, *, accept=None, names=None):
        story = find(self, vector, language, at, accept=accept, names=names)
        if story is None or vector is None or not len(vector.ids):
            return story
        whole, threshold, index = vector.part("all"), self.settings.event_threshold, self.index
        tried = {story}
        for score, _, other in index.candidates(whole, language, at):
            if score < threshold * event_stories.CANDIDATE_SHARE:
                break
            if len(tried) >= event_stories.MAX_STORIES:
                break
            if other in tried:
                continue
            tried.add(other)
            if not self._agrees(vector, whole, language, other, threshold, best=score):
                continue
            first, second = self._originals.get(story), self._originals.get(other)
            mine = index.article_numbers(language, first) if first is not None else None
            theirs = index.article_numbers(language, second) if second is not None else None
            if mine is None or theirs is None or compare(mine, theirs, index.years) != 1:
                continue
            if union and (
                compare(
                    index.event_numbers(language, story),
                    index.event_numbers(language, other),
                    index.years,
                )
                < 0
            ):
                continue
            _merge(self, story, other)
        return story

    event_stories.EventLinker.find = merging_find


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--seed", type=int, default=15, help="order of the articles (see bench_stories)"
    )
    ap.add_argument("--union", action="store_true", help="the unions' numbers must not differ")
    ap.add_argument("--dedupe", type=int, metavar="N", help="run bench_dedupe.py --articles N")
    args = ap.parse_args()
    if args.dedupe:
        patch(args.union)
        sys.argv = ["bench_dedupe.py", "--articles", str(args.dedupe)]
        try:
            runpy.run_path(str(ROOT / "bench" / "bench_dedupe.py"), run_name="__main__")
        finally:
            print(f"story merges: {len(MERGES)}")
        return 0
    sem, clusters = bench_stories.semeval(args.seed), bench_stories.ecb(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        bench_stories.run("shipped defaults", DedupeSettings(), Path(tmp), sem, clusters)
        patch(args.union)
        bench_stories.run("with story merges", DedupeSettings(), Path(tmp), sem, clusters)
    print(f"story merges: {len(MERGES)} (order {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
