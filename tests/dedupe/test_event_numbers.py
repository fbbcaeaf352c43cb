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
