"""Official English short names and the Saint/St./St spellings that US government texts use."""

from __future__ import annotations

import pytest

from alerts.matcher import Matcher


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.compile()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Cabo Verde is a transit point, officials said.", "CV"),
        ("The FSM Government did not prosecute any case.", "FM"),
        ("St. Vincent and the Grenadines was upgraded.", "VC"),
        ("Talks in St Kitts and Nevis ended on Friday.", "KN"),
        ("St. Kitts and Nevis signed the protocol.", "KN"),
        ("Saint Lucia hosted the meeting.", "LC"),
    ],
)
def test_official_names(matcher, text, code):
    assert matcher.match("", text).countries == [code]


def test_the_acronym_is_case_sensitive(matcher):
    assert matcher.match("", "The fsm module parses input.").countries == []
