"""'Did you mean': the closest known name for a misspelt key, country or name.

Country codes: an ISO alpha-3 code (AZE), an English country name in any case
(Azerbaijan, azerbaijan) or a near miss of one (Azerbajan) gives the alpha-2 code the
config wants (AZ). Names of sources, targets, watches and keys: the closest by difflib.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, get_args


def closest(word: str, known: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The known name closest to ``word`` (case-insensitive), or None when none is close."""
    options = {k.casefold(): k for k in known}
    found = difflib.get_close_matches(word.casefold(), list(options), n=1, cutoff=cutoff)
    return options[found[0]] if found else None


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` or "" when nothing known is close."""
    best = closest(word, known)
    return f" (did you mean {best!r}?)" if best else ""


@cache
def _country_names() -> dict[str, str]:
    """Folded English country name -> alpha-2 code, for two-letter territory codes only."""
    from babel import Locale

    names = {}
    for code, name in Locale("en").territories.items():
        if len(code) == 2 and code.isalpha() and code not in ("ZZ", "EU", "UN", "EZ", "QO"):
            names[name.casefold()] = code
    return names


def country_code(text: str) -> str | None:
    """The alpha-2 code meant by ``text`` (AZE, Azerbaijan, azerbajan -> AZ), or None."""
    from babel.core import get_global

    word = " ".join(text.split())
    if not word:
        return None
    upper = word.upper()
    if len(upper) == 2 and upper.casefold() in {c.casefold() for c in _country_names().values()}:
        return upper
    if len(upper) == 3 and upper.isalpha():
        codes = get_global("territory_aliases").get(upper)
        if codes and len(codes) == 1:
            return codes[0]
    names = _country_names()
    if word.casefold() in names:
        return names[word.casefold()]
    best = closest(word, names, cutoff=0.8)
    return names[best.casefold()] if best else None


def model_keys(model: Any, loc: Sequence[str | int]) -> list[str]:
    """The keys a pydantic model accepts at ``loc`` (a validation error's location less its
    last part): walks fields, lists and dicts; [] when the path leads nowhere known."""
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return []
        model = _inner(fields[part].annotation)
    fields = getattr(model, "model_fields", None)
    return list(fields) if fields else []


def _inner(annotation: Any) -> Any:
    """The model inside ``list[M]``, ``M | None``, ``dict[str, M]``: the first argument
    that is a model, else the annotation itself."""
    for arg in get_args(annotation):
        if hasattr(arg, "model_fields"):
            return arg
        inner = _inner(arg)
        if hasattr(inner, "model_fields"):
            return inner
    return annotation


def unknown_key(model: Any, loc: Sequence[str | int]) -> str:
    """The message for a key the model does not have: with the closest known key."""
    known = model_keys(model, loc[:-1])
    hint = did_you_mean(str(loc[-1]), known) if loc else ""
    return f"unknown key{hint}" if hint else "unknown key (check the spelling)"
