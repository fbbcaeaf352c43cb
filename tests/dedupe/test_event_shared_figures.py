"""Shared figures are evidence of one event (issue 15): a report of the earthquake in other
words, whose text alone is a little short of the threshold, joins the story because it
repeats the toll; the same report with other figures stays apart. Fixtures written for
newswatch (the story sequence of test_event_views)."""

from __future__ import annotations

from collections import Counter

import numpy as np
from dedupe.test_event_views import SEQUENCE, fill

from crawler.event_stories import _compare
from crawler.events import EventIndex

# The Valdera earthquake told by a regional paper in its own words (cosine with the
# agency's report about 0.32, under the 0.36 threshold) with the agency's toll: 38 dead,
# 210 injured.
OWN_WORDS = (
    "Valdera earthquake: {dead} killed, {hurt} hurt in hill villages",
    "Thirty-eight people lost their lives and {hurt} were hurt when a strong tremor shook "
    "Valdera province before dawn on Tuesday, governor Ilaria Brenta said. In Montesco, the "
    "worst-hit village, residents dug through collapsed homes with bare hands while "
    "firefighters brought dogs and cranes up the narrow road. The army sent field kitchens, "
    "and schools across the region will stay shut this week. Seismologists recorded more "
    "than forty aftershocks during the morning.",
)


def report(dead: str, hurt: str) -> tuple[str, str]:
    title, text = OWN_WORDS
    return title.format(dead=dead, hurt=hurt), text.format(hurt=hurt)


def store_with(db, doc) -> dict:
    SEQUENCE["own-words"] = ("regional-daily", doc, "2024-05-07T07:00:00Z")
    try:
        return fill(db, ["rates", "strike", "quake", "own-words"])
    finally:
        del SEQUENCE["own-words"]


def test_a_report_in_other_words_that_repeats_the_toll_joins(db):
    got = store_with(db, report("38", "210"))
    assert got["own-words"][1] == got["quake"][1]
    assert len({got[name][1] for name in ("rates", "strike", "quake")}) == 3


def test_the_same_words_with_other_figures_stay_apart(db):
    # the words alone are under the threshold: only the shared figures ease it
    got = store_with(db, report("17", "85"))
    assert got["own-words"][1] != got["quake"][1]


def test_shared_years_alone_are_not_shared_figures():
    # Any two reports of one season recall the same years ("in 2009, up from 2008"): years
    # alone do not ease the threshold, a shared toll beside them does; a year still counts
    # toward the figures differing
    index = EventIndex(window_seconds=86400)
    ids = index.vectors(Counter(["#2008", "#2009", "#17", "#85", "#38", "#210"]), Counter()).ids
    term = dict(zip(["#2008", "#2009", "#17", "#85", "#38", "#210"], sorted(ids), strict=True))

    def numbers(*terms):
        return np.array(sorted(term[t] for t in terms), np.int32)

    years_only = _compare(
        numbers("#2008", "#2009", "#17"), numbers("#2008", "#2009", "#38"), index.years
    )
    assert years_only == 0
    toll_too = _compare(
        numbers("#2009", "#38", "#17"), numbers("#2009", "#38", "#210"), index.years
    )
    assert toll_too == 1
    differ = _compare(numbers("#2009", "#17", "#85"), numbers("#2008", "#38", "#210"), index.years)
    assert differ == -1
