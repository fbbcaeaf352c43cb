"""Why SemEval's same-story pairs are not joined: the check that rejects each one (H6).

Stores bench_stories' SemEval documents through the real assigner with the shipped
defaults, with ``EventIndex.candidates`` and ``EventLinker._agrees`` wrapped to record, for
every article, its nearest articles and the values of every check against each story
tried (the decisions are the assigner's own: the wrappers only read). Every labelled
same-language pair is then put in one class, for the later article against the earlier
one's story: joined; never among the nearest articles; nominating cosine under
CANDIDATE_SHARE x the threshold; joined another story first (or not tried); or tried and
rejected by: numbers differ, the threshold (the mean or the long view or the whole),
the headline alone, the text alone. A check that rejects many same-story pairs and few
different-story ones is a candidate to relax.

    .venv/bin/python bench/event_misses.py [--seed 15]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench_stories  # noqa: E402

from crawler import archive, event_stories  # noqa: E402
from crawler import events as event_index  # noqa: E402
from crawler.config import DedupeSettings  # noqa: E402
from crawler.store import store_items  # noqa: E402
from crawler.stories import StoryAssigner  # noqa: E402

LOG: dict[int, dict] = {}
_current: dict = {}


def _checks(linker, vector, whole, language, story, threshold, best) -> list[str]:
    """The checks of EventLinker._agrees this article fails against this story."""
    es, index = event_stories, linker.index
    fails = []
    figures = linker._figures(vector, language, story)
    if figures < 0:
        fails.append("numbers")
    t = threshold * (es.NUMBERS_EASE if figures > 0 else 1.0)
    if index.size(story) > 1:
        if best < t * es.BEST_MEMBER:
            fails.append("threshold")
        original = linker._originals.get(story)
        theirs = index.article_numbers(language, original) if original is not None else None
        if theirs is not None and es._compare(index.numbers(vector.ids), theirs, index.years) < 0:
            fails.append("numbers")
    score = index.centroid_score
    short = score(whole, language, story)
    long = score(vector.part("long"), language, story, part="long")
    if short < t * es.SHORT_MIN or long < t * es.LONG_MIN or (short + long) / 2 < t:
        fails.append("threshold")
    if score(vector.part("text"), language, story, part="text") < es.TEXT_SHARE * t:
        fails.append("text")
    if score(vector.part("headline"), language, story, part="headline") < es.HEADLINE_MIN:
        fails.append("headline")
    return fails


def instrument() -> None:
    """Wrap the look-up and the checks to record what they saw (this process only)."""
    candidates, agrees, find = (
        event_index.EventIndex.candidates,
        event_stories.EventLinker._agrees,
        event_stories.EventLinker.find,
    )
    add = event_stories.EventLinker.add

    def candidates_(self, vector, language, at, *, limit=8):
        found = candidates(self, vector, language, at, limit=limit)
        _current["candidates"] = found
        return found

    def agrees_(self, vector, whole, language, story, threshold, *, best=1.0):
        ok = agrees(self, vector, whole, language, story, threshold, best=best)
        fails = _checks(self, vector, whole, language, story, threshold, best)
        _current.setdefault("tried", {})[story] = "pass" if ok else _reason(fails)
        return ok

    def find_(self, vector, language, at, **kw):
        _current.clear()
        return find(self, vector, language, at, **kw)

    def add_(self, article_id, story_id, vector, language, at, **kw):
        LOG[article_id] = dict(_current)
        _current.clear()
        return add(self, article_id, story_id, vector, language, at, **kw)

    event_index.EventIndex.candidates = candidates_
    event_stories.EventLinker._agrees = agrees_
    event_stories.EventLinker.find = find_
    event_stories.EventLinker.add = add_


def _reason(fails: list[str]) -> str:
    for name in ("numbers", "threshold", "headline", "text"):  # the first that applies
        if name in fails:
            return name
    return "other"


def store(docs: list[dict], tmp: Path) -> dict[str, tuple[int, int]]:
    """bench_stories.store, keeping article ids: {doc key: (article id, story id)}."""
    db = archive.open_archive(tmp / "misses.db")
    assigner = StoryAssigner(db, DedupeSettings())
    with archive.write(db):
        for d in docs:
            store_items(db, d["outlet"], [bench_stories.as_item(d)], assigner)
    rows = db.execute("SELECT url, id, story_id FROM articles").fetchall()
    db.close()
    return {url.rsplit("/", 1)[1]: (aid, sid) for url, aid, sid in rows}


def classify(earlier: tuple[int, int], later: tuple[int, int]) -> str:
    """Why the later article did not join the earlier one's story (or "joined")."""
    story = earlier[1]
    if later[1] == story:
        return "joined"
    log = LOG.get(later[0], {})
    tried = log.get("tried", {})
    if story in tried:
        return tried[story]
    share = event_stories.CANDIDATE_SHARE * DedupeSettings().event_threshold
    scores = [s for s, _, st in log.get("candidates", []) if st == story]
    if not scores:
        return "never a candidate"
    if scores[0] < share:
        return "nominating cosine low"
    return "another story first"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=15, help="order of the articles")
    args = ap.parse_args()
    docs, pairs = bench_stories.semeval(args.seed)
    instrument()
    with tempfile.TemporaryDirectory() as tmp:
        ids = store(docs, Path(tmp))
    language = {d["key"]: d["language"] for d in docs}
    counts = {True: Counter(), False: Counter()}
    per_language: dict[str, Counter] = defaultdict(Counter)
    for a, b, same, same_language in pairs:
        if not same_language:
            continue
        earlier, later = sorted((ids[a], ids[b]))
        why = classify(earlier, later)
        counts[same][why] += 1
        if same:
            per_language[language[a]][why] += 1
    for same in (True, False):
        label = "same-story" if same else "different-story"
        print(f"{label} pairs: " + ", ".join(f"{k} {v}" for k, v in counts[same].most_common()))
    for lang, c in sorted(per_language.items()):
        print(f"  {lang}: " + ", ".join(f"{k} {v}" for k, v in c.most_common()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
