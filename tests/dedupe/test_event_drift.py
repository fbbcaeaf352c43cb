"""A story's centroid drifts as it grows (issue 15): three reports of the Valdera earthquake
make a centroid that holds the formulas of all three, and a report of another earthquake
that borrows a little from each (the bell tower from one, the firefighters from another,
the tents from the third) reaches the threshold against it while no report of the story
alone comes near. It stays apart: against a story of several articles the best single
member must reach the threshold too. Fixtures written for newswatch."""

from __future__ import annotations

from dedupe.test_event_views import QUAKE, RATES, STRIKE, put

from crawler import archive
from crawler.stories import StoryAssigner

# Two more reports of the Valdera earthquake, in their own words.
TOLL = (
    "Valdera earthquake toll rises to 38, governor Brenta says",
    "Rescue teams from Pellona and Castrovia pulled more bodies from collapsed houses in "
    "Montesco on Tuesday as the toll of the earthquake in Valdera province rose to 38 dead "
    "and 210 injured, governor Ilaria Brenta said. Firefighters with dogs searched the "
    "rubble of 14 houses through the day, and the hospital in Arvigo treated the injured in "
    "tents on its car park.",
)
NIGHT = (
    "Montesco earthquake survivors sleep in tents, Valdera governor Brenta says",
    "Families in Montesco spent the night in tents on the football pitch after Tuesday's "
    "earthquake in Valdera province, which killed 38 people and injured 210, governor "
    "Ilaria Brenta said. The civil protection agency set up field kitchens and sent "
    "blankets; engineers began checking schools and the hospital in Arvigo. Schools will "
    "stay shut this week, and the army brought cranes up the mountain road to clear the "
    "rubble.",
)
# Another earthquake two days later, in words gathered from all three reports above: against
# the story's centroid it scores about 0.39 (threshold 0.36), against its best report 0.35.
ORVANO = (
    "Orvano earthquake: families sleep in tents as rescuers search rubble",
    "An earthquake struck the province of Orvano on Thursday, and the bell tower of the "
    "church collapsed onto the main square of Saldera, killing 17 people and injuring 85, "
    "governor Tomas Reiner said. Firefighters with dogs searched collapsed houses through "
    "the day. Families spent the night in tents, and the hospital treated the injured on "
    "its car park, while rescue teams searched the rubble.",
)

SEQUENCE = [
    ("rates", "bank-news", RATES, "2024-05-06T08:00:00Z"),
    ("strike", "port-news", STRIKE, "2024-05-06T09:00:00Z"),
    ("quake", "agency", QUAKE, "2024-05-07T04:00:00Z"),
    ("toll", "daily", TOLL, "2024-05-07T09:00:00Z"),
    ("night", "regional", NIGHT, "2024-05-07T20:00:00Z"),
    ("orvano", "coast-news", ORVANO, "2024-05-09T23:30:00Z"),
]


def fill(db, names) -> dict:
    """Store these of the sequence in order; {name: story id}."""
    with archive.write(db):
        assigner = StoryAssigner(db, None)
        return {
            name: put(db, assigner, source, name, doc, at)[1]
            for name, source, doc, at in SEQUENCE
            if name in names
        }


def test_three_reports_of_one_earthquake_make_one_story(db):
    got = fill(db, ["rates", "strike", "quake", "toll", "night"])
    assert got["quake"] == got["toll"] == got["night"]
    assert len(set(got.values())) == 3


def test_another_earthquake_that_matches_only_the_grown_centroid_stays_apart(db):
    got = fill(db, ["rates", "strike", "quake", "toll", "night", "orvano"])
    assert got["quake"] == got["toll"] == got["night"]
    assert got["orvano"] != got["quake"]
    assert len(set(got.values())) == 4


def test_the_story_holds_after_a_restart(db):
    # a restarted assigner loads the index from the archive: the same originals, the same rule
    fill(db, ["rates", "strike", "quake", "toll", "night"])
    got = fill(db, ["orvano"])
    story = db.execute("SELECT story_id FROM articles WHERE url LIKE '%/quake'").fetchone()[0]
    assert got["orvano"] != story
