"""The event index keeps each article's whole packed (crawler/event_pack.py): look-ups find
the same articles, with the same scores, after articles leave the window and their space is
reclaimed, and when an older article id comes in after newer ones (a rebuild's order)."""

from __future__ import annotations

from collections import Counter

from crawler import event_pack
from crawler.event_terms import headline_lead_body
from crawler.events import EventIndex

DAY = 86400.0


def _article(i: int, topic: int) -> tuple[Counter, Counter, Counter]:
    """An article on ``topic``: the topic's own rare words, and words of its own."""
    head = Counter({f"topic{topic}": 1, f"place{topic}": 1, f"own{i}": 1})
    lead = Counter({f"topic{topic}": 2, f"name{topic}": 1, f"detail{i}": 1, "said": 1})
    body = Counter({f"figure{topic}": 1, f"body{i}": 2})
    return head, lead, body


def _look_up(index: EventIndex, i: int, topic: int, at: float):
    vectors = index.vectors(*_article(i, topic))
    return index.candidates(vectors.part("all"), "en", at)


def test_look_ups_survive_expiry_and_reclaimed_space(monkeypatch):
    """The same articles added and expired in two indexes, one reclaiming the space of
    expired articles early and often: every look-up on the way finds the same candidates
    with the same scores."""
    kept, index = EventIndex(window_seconds=DAY / 4), EventIndex(window_seconds=DAY / 4)
    compacted = 0
    for i in range(600):  # a new topic every 2 articles, 100 articles a day
        now = i * DAY / 100
        for one, least in ((kept, 1 << 30), (index, 50)):
            monkeypatch.setattr(event_pack, "COMPACT_MIN", least)
            one.expire(now - DAY / 2)
            one.add(i, i // 2, one.vectors(*_article(i, i // 2)), "en", now)
        base = index._langs["en"].packed.base
        compacted += base != getattr(index, "_seen_base", 0)
        index._seen_base = base
        if i % 5 == 0:
            topic = max(0, i // 2 - 10)  # articles written before recent compactions
            assert _look_up(index, 10_000 + i, topic, now) == _look_up(kept, 10_000 + i, topic, now)
    assert compacted >= 3
    assert index._langs["en"].packed.used < kept._langs["en"].packed.used
    now = 600 * DAY / 100
    found = _look_up(index, 1000, 299, now)
    assert sorted(key for _, key, _ in found[:2]) == [598, 599]
    assert {event for _, _, event in found[:2]} == {299}
    # topic 0 left the window: none of its articles comes back
    assert all(key > 500 for _, key, _ in _look_up(index, 1001, 0, now))


def test_an_older_article_id_after_newer_ones_is_found():
    index = EventIndex(window_seconds=DAY)
    index.add(500, 7, index.vectors(*_article(500, 7)), "en", 0.0)
    index.add(20, 7, index.vectors(*_article(20, 7)), "en", 10.0)  # rebuilds go by time
    index.add(900, 8, index.vectors(*_article(900, 8)), "en", 20.0)
    found = _look_up(index, 1000, 7, 30.0)
    assert sorted(key for _, key, _ in found[:2]) == [20, 500]
    assert found[0][2] == found[1][2] == 7


def test_an_article_out_of_the_window_of_the_look_up_is_not_a_candidate():
    index = EventIndex(window_seconds=DAY)
    index.add(1, 1, index.vectors(*_article(1, 1)), "en", 0.0)
    index.add(2, 1, index.vectors(*_article(2, 1)), "en", 3 * DAY)
    assert [key for _, key, _ in _look_up(index, 3, 1, 3.5 * DAY)] == [2]


# One EventIndex lives over the whole archive in `newswatch dedupe --rebuild`: a language
# with one article every 20,000 archive ids must not cost a slot per id (review finding).
DAY = 86400.0


def test_a_rare_language_costs_what_its_window_holds():
    index = EventIndex(window_seconds=3 * DAY)
    sizes = []
    for n in range(200):
        key, at = n * 20_000, n * 4 * DAY
        terms = headline_lead_body(f"Bakı xəbər {n}", f"Azərbaycan bu gün {n} qərar verdi.", "az")
        index.expire(at - 3 * DAY)
        index.add(key, key, index.vectors(*terms), "az", at)
        sizes.append(index.nbytes)
    assert len(index) == 1
    assert sizes[-1] < 4 * sizes[10]  # one article in the window, then as now
