"""A report that opens on another angle, with few of the event's words in its lead, joins
the story when its headline and body agree (issue 15): its text (lead and body) must agree
with the story's, not its lead alone. Fixtures written for newswatch (the story sequence
of test_event_views)."""

from __future__ import annotations

from dedupe.test_event_views import SEQUENCE, fill

# Opens on the survivors' night (its lead's cosine with the agency's lead about 0.14, where
# the threshold is 0.36); the headline and the second paragraph carry the event.
NIGHT_IN_THE_COLD = (
    "Valdera earthquake strikes Montesco, 38 dead: survivors spend a night in the cold",
    "They came out of their houses in Montesco in pyjamas when the earthquake hit on "
    "Tuesday, carrying children and whatever they could grab in the dark, and they have not gone back. On the football "
    "pitch at the edge of town, "
    "families sat around small fires until dawn, listening to the aftershocks and waiting "
    "for news of neighbours. Some cried, some prayed, most simply stared at the hills. "
    "Volunteers handed out bread, coffee and blankets from the back of a van, and a priest "
    "walked from group to group. Nobody wanted to sleep indoors, even where the walls still "
    "stood.\n\n"
    "The magnitude 6.4 earthquake struck Valdera at 3:12 on Tuesday near Montesco, killing "
    "at least 38 people and injuring 210, governor Ilaria Brenta said. The bell tower of San "
    "Teodoro fell onto the square; rescue teams from Pellona and Castrovia searched the "
    "rubble of 14 houses, and the hospital in Arvigo put up tents for the injured.",
)


def test_a_report_whose_lead_opens_elsewhere_joins_through_headline_and_body(db):
    SEQUENCE["night"] = ("daily", NIGHT_IN_THE_COLD, "2024-05-07T09:00:00Z")
    try:
        got = fill(db, ["rates", "strike", "quake", "night", "other-quake"])
    finally:
        del SEQUENCE["night"]
    assert got["night"][1] == got["quake"][1] != got["other-quake"][1]
    assert len({got[name][1] for name in ("rates", "strike", "quake")}) == 3


# The agency's headline again, over a short text on something else in the same town: the
# headline carries the whole (cosine about 0.49), the text agrees at about 0.17 only.
REUSED_HEADLINE = (
    "Magnitude 6.4 earthquake strikes Valdera province, 38 dead",
    "Volunteers in Montesco will hold a charity concert for the choir of San Teodoro next "
    "month; tickets are on sale at the town hall and the tourist office, organisers said.",
)


def test_a_reused_headline_over_other_text_stays_apart(db):
    SEQUENCE["reused"] = ("town-news", REUSED_HEADLINE, "2024-05-07T12:00:00Z")
    try:
        got = fill(db, ["rates", "strike", "quake", "reused"])
    finally:
        del SEQUENCE["reused"]
    assert got["reused"][1] != got["quake"][1]
