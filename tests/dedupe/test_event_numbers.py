"""Two events of one kind share a figure or two, one event's reports share many (issue 15):
an earthquake elsewhere that shares one figure, told in the same formulas, stays apart
from the first; a report of the first with most of its figures joins; a number is one
term in any script's digits. Fixtures written for newswatch (the story sequence of
test_event_views)."""

from __future__ import annotations

from dedupe.test_event_views import OTHER_QUAKE, SEQUENCE, fill

from crawler.event_terms import headline_and_lead

# The earthquake elsewhere, with one figure in common with the first (14) of seven, where
# the first quake's own reports share four of five.
ONE_FIGURE = (OTHER_QUAKE[0], OTHER_QUAKE[1] + " Schools in Orvano stay closed for 14 days.")


def test_an_earthquake_elsewhere_sharing_one_figure_stays_apart(db):
    SEQUENCE["one-figure"] = ("coast-news", ONE_FIGURE, "2024-05-09T23:30:00Z")
    try:
        got = fill(db, ["rates", "strike", "quake", "one-figure"])
    finally:
        del SEQUENCE["one-figure"]
    assert got["one-figure"][1] != got["quake"][1]
    assert len({got[name][1] for name in got}) == 4


def test_a_report_sharing_most_figures_still_joins(db):
    got = fill(db, ["rates", "strike", "quake", "survivors", "other-quake"])
    assert got["survivors"][1] == got["quake"][1] != got["other-quake"][1]


def test_a_number_is_one_term_in_any_digits():
    # Arabic outlets write 2020 in Arabic-Indic or in Western digits: one number either way
    head, lead = headline_and_lead("زلزال بقوة ٦ درجات عام ٢٠٢٠", "قتل 38 شخصا عام 2020", "ar")
    assert "#2020" in head and "#2020" in lead
    assert "#38" in lead


def test_comparing_numbers_counts_what_both_give():
    # _compare on random number-term sets, against the shares counted the plain way (every
    # term of the article looked up in the story's): the same verdict each time
    import random

    import numpy as np

    from crawler.event_stories import (
        NUMBERS_AGREE,
        NUMBERS_AGREE_SHARE,
        NUMBERS_MIN,
        NUMBERS_SHARE,
        _compare,
    )

    def expected(mine, theirs, is_year):
        if not mine or not theirs:
            return 0
        both = [t for t in mine if t in theirs]
        fewer = min(len(mine), len(theirs))
        if fewer >= NUMBERS_MIN and len(both) < max(1.0, NUMBERS_SHARE * fewer):
            return -1
        if len(both) >= NUMBERS_AGREE and len(both) >= NUMBERS_AGREE_SHARE * fewer:
            return 0 if all(is_year[t] for t in both) else 1
        return 0

    rng = random.Random(15)
    verdicts = set()
    for _ in range(2000):
        is_year = np.array([rng.random() < 0.3 for _ in range(40)])
        mine = sorted(rng.sample(range(40), rng.randint(0, 8)))
        theirs = sorted(rng.sample(range(40), rng.randint(0, 12)))
        got = _compare(np.array(mine, np.int32), np.array(theirs, np.int32), is_year.__getitem__)
        assert got == expected(mine, set(theirs), is_year), (mine, theirs)
        verdicts.add(got)
    assert verdicts == {-1, 0, 1}  # every verdict met
