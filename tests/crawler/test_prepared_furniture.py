"""The event terms of an article with site furniture (crawler.prepared): read from the start
of the text only, they are exactly what reading the whole text without the furniture gives."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.event_stories import without_furniture
from crawler.event_terms import BODY_WORDS, headline_lead_body
from crawler.fingerprints import paragraphs
from crawler.prepared import first_words, prepare_text

WORDS = ["Kalo", "mine", "ruza", "tivo", "Zepa", "quadi", "2024", "ﬁnal", "ＡＢＣ", "Ödön", "İzmir"]
# lines without words, odd line breaks and spaces: where lines and paragraphs may part ways
ODD = ["", "  ", "---", "* * *", "\r", "\u2028", "\x85", "\u00a0", "\x0c", "。"]


def whole_text_terms(title: str, text: str, language: str, mask: np.ndarray):
    """The event terms read from the whole text, as before (the reference)."""
    words = first_words(paragraphs(text), mask, BODY_WORDS)
    return headline_lead_body(title, without_furniture(text, mask), language, words=words)


def line(rnd: random.Random) -> str:
    if rnd.random() < 0.2:
        return rnd.choice(ODD)
    words = [rnd.choice(WORDS) for _ in range(rnd.randint(1, 40))]
    return " ".join(words) + rnd.choice([".", "", ",", "!"])


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10**9), st.sampled_from(["\n", "\r\n", "\n\n", "\u2028"]))
def test_furniture_terms_equal_the_whole_texts(seed, newline):
    rnd = random.Random(seed)
    text = newline.join(line(rnd) for _ in range(rnd.randint(1, 60)))
    title = line(rnd)
    prepared = prepare_text(title, text, "en")
    n = len(prepared.paragraphs)
    masks = [np.zeros(n, bool), np.ones(n, bool)]
    masks += [np.array([rnd.random() < p for _ in range(n)], bool) for p in (0.1, 0.5, 0.9)]
    if n:
        masks.append(np.arange(n) == 0)
        masks.append(np.arange(n) == n - 1)
    for mask in masks:
        got = prepared.event_terms(title, text, "en", mask)
        assert got == whole_text_terms(title, text, "en", mask)


def test_a_long_text_with_furniture_at_the_top():
    """The lead starts after the furniture and runs past the characters read for it."""
    rnd = random.Random(5)
    body = "\n".join(" ".join(rnd.choice(WORDS) for _ in range(30)) for _ in range(80))
    text = "Follow us on Telegram\n" + body + "\nAll rights reserved"
    prepared = prepare_text("Headline", text, "de")
    n = len(prepared.paragraphs)
    mask = (np.arange(n) == 0) | (np.arange(n) == n - 1)
    got = prepared.event_terms("Headline", text, "de", mask)
    assert got == whole_text_terms("Headline", text, "de", mask)
    assert got == headline_lead_body("Headline", body, "de")
