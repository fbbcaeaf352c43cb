"""An article that agrees with two stories joins the one it agrees with best (issue 15), not
the story of its most similar single article: a report of a river ferry accident whose
headline and lead use the words an earlier report of a lake ferry accident used, but whose
names and details are the river accident's, belongs to the river story. Fixtures written
for newswatch."""

from __future__ import annotations

from dedupe.test_event_views import RATES, STRIKE, put

from crawler import archive
from crawler.stories import StoryAssigner

RIVER = (
    "Brennock river ferry sinks near Oldmoor, captain Haskel arrested",
    "The river ferry Morning Star sank on the Brennock near Oldmoor on Tuesday after hitting "
    "the pier of the Kelver bridge, police in Oldmoor said, and its captain, Piet Haskel, "
    "was arrested. Divers from Wexham and Oldmoor searched the wreck below the Kelver "
    "bridge through the afternoon. The ferry's owner, Brennock Lines, suspended its Oldmoor "
    "crossings and said its other boats would be inspected. Witnesses on the embankment said "
    "the Morning Star was going too fast in the flood current; the harbour master of "
    "Oldmoor, Greta Voss, said the pier had been hit twice before.",
)
LAKE = (
    "Ferry capsizes in storm, passengers missing",
    "A passenger ferry capsized in a sudden storm on Lake Verrin on Sunday afternoon, and "
    "rescuers were searching the cold water for missing passengers, the coast guard said. "
    "The ferry Santa Lucia was crossing from Port Amell to the island of Tessaly with 64 "
    "people on board when strong winds overturned it near the Corran lighthouse. Fishing "
    "boats from Amell pulled 41 survivors from the water, and helicopters dropped life rafts "
    "as night fell over the lake.",
)
# The river accident again, opening in the lake report's formulas: against the lake story
# its headline and lead score higher (0.52 against 0.38), against the river story its
# long view (0.58 against 0.39); both stories pass every check, the river story better.
RIVER_AGAIN = (
    "Ferry capsizes on the Brennock, passengers missing",
    "A passenger ferry, the Morning Star, capsized in a sudden storm on the Brennock on "
    "Tuesday afternoon, and rescuers were searching the cold water near Oldmoor for missing "
    "passengers, police in Oldmoor said. People on board were thrown into the water when "
    "the boat overturned, and the rescuers pulled survivors from the water as night fell. "
    "Relatives waited on the shore for news through the evening, and the coast guard said "
    "the search would go on until every passenger was found, whatever the weather in the "
    "coming hours.\n\n"
    "Police in Oldmoor arrested Piet Haskel, who was at the helm of the Morning Star when it "
    "struck a pier of the Kelver bridge on the Brennock. Wexham divers worked with Oldmoor "
    "divers on the wreck beneath the Kelver bridge. Brennock Lines halted every Oldmoor "
    "crossing and will have its other boats inspected. Greta Voss, Oldmoor's harbour master, "
    "told reporters the Kelver pier had been struck twice already, and people on the "
    "embankment described the Morning Star racing in the flood current.",
)

SEQUENCE = [
    ("rates", "bank-news", RATES, "2024-05-06T08:00:00Z"),
    ("strike", "port-news", STRIKE, "2024-05-06T09:00:00Z"),
    ("river", "daily", RIVER, "2024-05-07T10:00:00Z"),
    ("lake", "agency", LAKE, "2024-05-07T11:00:00Z"),
    ("river-again", "evening-post", RIVER_AGAIN, "2024-05-07T16:00:00Z"),
]


def test_an_article_joins_the_story_it_agrees_with_best(db):
    with archive.write(db):
        assigner = StoryAssigner(db, None)
        got = {
            name: put(db, assigner, source, name, doc, at)[1] for name, source, doc, at in SEQUENCE
        }
    assert got["river"] != got["lake"]
    assert got["river-again"] == got["river"]
    assert len(set(got.values())) == 4
