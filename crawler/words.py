"""Words for people: a count with its noun in the right number ("1 match", "2 matches")."""

from __future__ import annotations

_IRREGULAR = {"story": "stories", "match": "matches", "mail": "mails", "alert mail": "alert mails"}


def plural(word: str) -> str:
    """The plural of an English noun as newswatch uses them (story -> stories, match ->
    matches, source -> sources)."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def counted(n: int, word: str, many: str | None = None) -> str:
    """``1 match``, ``0 matches``, ``2 tier statements`` (``many`` when the plural is not
    the regular one)."""
    if n == 1:
        return f"{n} {word}"
    if many is None:
        head, _, last = word.rpartition(" ")
        many = f"{head} {plural(last)}" if head else plural(word)
    return f"{n} {many}"
