"""Part 3 of bench/event_background.py: its per-language and per-article background
variants through the real story assigner (bench_stories.run, the SemEval and ECB+
archives), wrapped around the event level in this process only. Run through
``.venv/bin/python bench/event_background.py --assigner 15,1,2,3 --refs ...``."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
from event_background import BASE, FLOOR, MIN_SEEN


def language_median(ref: float | str):
    """An EventLinker.find wrapper: the threshold of each look-up from the running median
    of its language's best candidate cosines (``ref`` R), or x F for every language but
    English (``ref`` "nonen:F", H4's control)."""
    from crawler.event_stories import EventLinker

    orig = EventLinker.find

    def find(self, vector, language, at, **kw):
        base = self.settings
        lang = (language or "").split("-")[0].lower()
        seen = self.__dict__.setdefault("_seen", defaultdict(list))[lang]
        factor = 1.0
        if isinstance(ref, str):
            factor = float(ref.split(":")[1]) if lang != "en" else 1.0
        elif len(seen) >= MIN_SEEN:
            factor = min(1.0, max(FLOOR, float(np.median(seen)) / ref))
        best = 0.0
        if vector is not None and len(vector.ids):
            found = self.index.candidates(vector.part("all"), language, at)
            best = found[0][0] if found else 0.0
        self.settings = base.model_copy(update={"event_threshold": BASE * factor})
        try:
            return orig(self, vector, language, at, **kw)
        finally:
            self.settings = base
            seen.append(best)

    return [(EventLinker, "find", find)]


def article_background(ratio: float, floor: float):
    """Wrappers for the per-article background ("ratio:K[:F]"): a candidate story the
    shipped rule refuses is judged again at ``max(F, min(1, K * background))`` x the
    threshold, where the background is the rule's score (mean of the whole's and the long
    view's centroid cosines) with the article's best candidate of another story, read only
    from a full list of 8 candidates; shared figures ease it no further than F x the
    threshold; stories are tried down to F x the candidate share."""
    from crawler import event_stories as es
    from crawler.events import EventIndex

    orig_candidates, orig_agrees = EventIndex.candidates, es.EventLinker._agrees
    share, ease = es.CANDIDATE_SHARE, es.NUMBERS_EASE

    def candidates(self, vector, language, at, *, limit=8):
        self._h6_found = orig_candidates(self, vector, language, at, limit=limit)
        return self._h6_found

    def agrees(self, vector, whole, language, story, threshold, *, best=1.0):
        if best >= threshold * share and orig_agrees(
            self, vector, whole, language, story, threshold, best=best
        ):
            return True
        found = getattr(self.index, "_h6_found", [])
        others = [s for _, _, s in found if s != story] if len(found) >= 8 else []
        if not others:
            return False
        score = self.index.centroid_score
        background = (
            score(whole, language, others[0])
            + score(vector.part("long"), language, others[0], part="long")
        ) / 2
        mine = max(floor * threshold, min(threshold, ratio * background))
        if mine >= threshold or best < mine * share:
            return False
        es.NUMBERS_EASE = max(mine * ease, floor * threshold) / mine
        try:
            return orig_agrees(self, vector, whole, language, story, mine, best=best)
        finally:
            es.NUMBERS_EASE = ease

    return [
        (EventIndex, "candidates", candidates),
        (es.EventLinker, "_agrees", agrees),
        (es, "CANDIDATE_SHARE", share * floor),
    ]


def through_assigner(ref: float | str, seed: int) -> None:
    """bench_stories.run (the real StoryAssigner, shipped defaults) with a variant wrapped
    around the event level for this process only: ``shipped`` (none), R (a float: the
    language's running median), ``nonen:F`` or ``ratio:K[:F]`` (the article's own
    background)."""
    import tempfile

    import bench_stories as bs

    from crawler.config import DedupeSettings

    patches = []
    if isinstance(ref, str) and ref.startswith("ratio:"):
        _, k, *floor = ref.split(":")
        patches = article_background(float(k), float(floor[0]) if floor else 0.8)
    elif ref != "shipped":
        patches = language_median(ref)
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    name = ref if isinstance(ref, str) else f"R {ref}"
    try:
        for owner, attr, value in patches:
            setattr(owner, attr, value)
        sem, clusters = bs.semeval(seed), bs.ecb(seed)
        with tempfile.TemporaryDirectory() as tmp:
            bs.run(f"{name} order {seed}", DedupeSettings(), Path(tmp), sem, clusters)
    finally:
        for owner, attr, value in saved:
            setattr(owner, attr, value)
