"""Multi-line plain text (crawler.normalize.plain_text): every kind of space, tab, line
break and control comes out as one substitution over the text would make it, whichever way
the lines are cut."""

from __future__ import annotations

import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.normalize import _BLANKS, _CONTROL, _SPACES, plain_text

# every character Python or the module calls a space, a line break or a control
SPACES = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
ODD = ["\u200b", "\x00", "\x07", "\x7f", "\u00ad", "\ufeff"]
ALPHABET = st.sampled_from([*SPACES, *ODD, "a", "B", "ß", "я", "中", ".", "<", "&"])


def reference(text: str) -> str | None:
    """plain_text(text, is_html=False, multiline=True) as one substitution does it."""
    s = _CONTROL.sub("", text)
    lines = [line.strip() for line in _SPACES.sub(" ", s).split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip() or None


@settings(max_examples=400, deadline=None)
@given(st.lists(ALPHABET, max_size=80).map("".join))
def test_multiline_text_is_what_one_substitution_makes(text):
    assert plain_text(text, is_html=False, multiline=True) == reference(text)


def test_every_space_alone_and_between_words():
    for space in [*SPACES, *ODD]:
        for text in (f"a{space}b", f"{space}a\n\n{space}\nb{space}", f"a{space}{space}\nb"):
            assert plain_text(text, is_html=False, multiline=True) == reference(text), repr(text)
