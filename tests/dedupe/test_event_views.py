"""The event level reads more than the lead (issue 15): a second outlet whose report opens
on another angle joins the story through the names and figures further down its text;
two events of the same kind, told in the same formulaic words, stay apart because their
names, places and figures differ. Fixtures written for newswatch."""

from __future__ import annotations

from crawler import archive
from crawler.config import DedupeSettings
from crawler.event_terms import headline_lead_body
from crawler.fingerprints import paragraphs
from crawler.store import store_items
from crawler.stories import StoryAssigner

# A bank's rate decision and a port strike: other news in the index, so that words of
# every day weigh less than the names of one event.
RATES = (
    "Central bank holds rates at 3.5 percent",
    "The central bank kept its main rate at 3.5 percent on Thursday, citing slowing inflation "
    "and weak exports, and signalled that a cut could come in the spring. Economists had "
    "expected the decision; the currency barely moved and bond yields fell slightly.",
)
STRIKE = (
    "Dock workers strike at Gdynia container port",
    "Some 600 dock workers walked out at the Gdynia container port over night-shift pay, "
    "halting three cranes and leaving eleven feeder vessels at anchor. Talks with the "
    "terminal operator resume on Thursday, the union said.",
)

# One earthquake, reported by a news agency...
QUAKE = (
    "Magnitude 6.4 earthquake strikes Valdera province, 38 dead",
    "A magnitude 6.4 earthquake struck the mountain province of Valdera early on Tuesday, "
    "killing at least 38 people and injuring 210, provincial governor Ilaria Brenta said. "
    "The quake hit at 3:12 at a depth of 11 kilometres near the town of Montesco, where "
    "the bell tower of the church of San Teodoro collapsed onto the main square. Rescue "
    "teams from Pellona and Castrovia were searching the rubble of 14 houses, and the "
    "regional hospital in Arvigo set up tents for the injured.",
)
# ...and by a newspaper whose report opens on the survivors: the names and figures of the
# event come after its first 80 words.
QUAKE_SURVIVORS = (
    "Valdera earthquake: survivors of Montesco spend a night in the cold",
    "They came out of their houses in Montesco in pyjamas and blankets when the earthquake "
    "that killed 38 people hit Valdera province on Tuesday, carrying children and whatever "
    "they could grab in the dark, and they have not gone back. On the football pitch at the "
    "edge of town, "
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
# An earthquake of the same kind somewhere else two days later, told in the same formulas.
OTHER_QUAKE = (
    "Magnitude 5.9 earthquake strikes Orvano coast, 17 dead",
    "A magnitude 5.9 earthquake struck the mountain province of Orvano early on Thursday, "
    "killing at least 17 people and injuring 85, provincial governor Tomas Reiner said. The "
    "quake hit at 22:47 at a depth of 30 kilometres near the town of Saldera, where the "
    "bell tower of the church collapsed onto the main square. Rescue teams from Kessin and "
    "Brava were searching the rubble of 26 houses, and the regional hospital in Lindau set "
    "up tents for the injured.",
)

SEQUENCE = {
    "rates": ("bank-news", RATES, "2024-05-06T08:00:00Z"),
    "strike": ("port-news", STRIKE, "2024-05-06T09:00:00Z"),
    "quake": ("agency", QUAKE, "2024-05-07T04:00:00Z"),
    "survivors": ("daily", QUAKE_SURVIVORS, "2024-05-07T09:00:00Z"),
    "other-quake": ("coast-news", OTHER_QUAKE, "2024-05-09T23:30:00Z"),
}


def item(url, title, text, published_at):
    return {
        "url": url,
        "guid": None,
        "title": title,
        "text": text,
        "summary": None,
        "author": None,
        "language": "en",
        "categories": [],
        "published_at": published_at,
        "updated_at": None,
    }


def put(db, assigner, source, slug, doc, published_at):
    url = f"https://{source}.example/{slug}"
    store_items(db, source, [item(url, *doc, published_at)], assigner)
    return db.execute("SELECT id, story_id FROM articles WHERE url = ?", [url]).fetchone()


def fill(db, names, settings=None) -> dict:
    """Store these of the sequence in crawl order; {name: (article id, story id)}."""
    with archive.write(db):
        assigner = StoryAssigner(db, settings)
        return {
            name: put(db, assigner, SEQUENCE[name][0], name, *SEQUENCE[name][1:]) for name in names
        }


def test_a_report_that_opens_on_another_angle_joins_through_its_body(db):
    # its headline and lead alone are too far from the agency's (cosine about 0.27)
    got = fill(db, ["rates", "strike", "quake", "survivors"])
    assert got["survivors"][1] == got["quake"][1]
    assert len({got[name][1] for name in ("rates", "strike", "quake")}) == 3


def test_an_earthquake_elsewhere_told_in_the_same_words_stays_apart(db):
    # the same formulas (cosine about 0.46): only the tolls, times and figures tell them apart
    got = fill(db, ["rates", "strike", "quake", "other-quake"])
    assert got["other-quake"][1] != got["quake"][1]
    assert len({got[name][1] for name in got}) == 4


def test_an_earthquake_elsewhere_stays_apart_after_the_story_grew(db):
    got = fill(db, ["rates", "strike", "quake", "survivors", "other-quake"])
    assert got["survivors"][1] == got["quake"][1] != got["other-quake"][1]


def test_without_the_event_level_the_two_reports_of_the_quake_stay_apart(db):
    got = fill(db, ["rates", "strike", "quake", "survivors"], DedupeSettings(event_threshold=0))
    assert got["survivors"][1] != got["quake"][1]


def test_the_body_read_from_the_reprint_levels_words_equals_a_fresh_reading():
    # a live article's body comes from the reprint level's words, a restarted index reads the
    # text again: both must give the same terms, or a restart would change what joins
    title, text = QUAKE_SURVIVORS
    live = headline_lead_body(title, text, "en", words=paragraphs(text).all_words())
    assert live == headline_lead_body(title, text, "en")
    assert live[2]["#38"] == 1 and live[2]["brenta"] == 1  # names and figures of the body
