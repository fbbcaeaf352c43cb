"""The event terms of an article with site furniture, where the prepared counts are reused
(crawler.prepared): the same counts, in the same order (a new term's id follows it), as
reading the text again; and one stop-word set object for equal lists."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.event_terms import _known_words, stop_words
from crawler.prepared import prepare_text

WORDS = ["Kalo", "mine", "ruza", "tivo", "Zepa", "quadi", "2024", "ﬁnal", "Ödön", "the", "İzmir"]


def ordered(terms) -> list[list]:
    return [list(counts.items()) for counts in terms]


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10**9), st.integers(1, 60), st.sampled_from([None, "en", "de"]))
def test_reused_counts_are_those_read_again_in_order(seed, lines, language):
    rnd = random.Random(seed)
    text = "\n".join(
        " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(1, 30))) for _ in range(lines)
    )
    title = " ".join(rnd.choice(WORDS) for _ in range(6))
    prepared = prepare_text(title, text, language)
    unprepared = prepare_text(title, text, language, terms=False)
    n = len(prepared.paragraphs)
    masks = [np.arange(n) == k for k in {0, n // 2, n - 1}]
    masks.append(np.arange(n) >= n - 2)
    masks.append(np.array([rnd.random() < 0.3 for _ in range(n)], bool))
    for mask in masks:
        got = prepared.event_terms(title, text, language, mask)
        assert ordered(got) == ordered(unprepared.event_terms(title, text, language, mask))


def test_furniture_at_the_end_of_a_long_text_keeps_the_prepared_counts():
    rnd = random.Random(3)
    body = "\n".join(" ".join(rnd.choice(WORDS) for _ in range(40)) for _ in range(20))
    text = body + "\nThe post Kalo appeared first on Zepa"
    prepared = prepare_text("Headline", text, "en")
    mask = np.arange(len(prepared.paragraphs)) == len(prepared.paragraphs) - 1
    got = prepared.event_terms("Headline", text, "en", mask)
    unprepared = prepare_text("Headline", text, "en", terms=False)
    assert ordered(got) == ordered(unprepared.event_terms("Headline", text, "en", mask))
    assert got == prepared.terms


def test_equal_stop_word_lists_are_one_object():
    # without a language, English is read: the same list as "en", one table of known words
    assert stop_words(None) is stop_words("en") is stop_words("en-GB")
    assert _known_words(stop_words(None)) is _known_words(stop_words("en"))
    assert stop_words("de") is not stop_words("en")
