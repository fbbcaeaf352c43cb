"""The values a config took from the environment (``${VAR}``), kept out of what is shown.

A value the user moved out of the config file into the environment is a secret by
definition (an API key in a source URL, a token). crawler/config_file.py remembers each one
as it substitutes it; :func:`conceal` shows it as its ``${VAR}`` again, wherever it turns up
(a source URL, a fetch error quoting the URL, a log line), so that what is printed says
which variable it was and never its value; ``sources export`` writes it back the same way.
The crawler itself uses the real values.

Values shorter than :data:`MIN_LENGTH` are only concealed inside a string that is known to
be a substituted one (a source URL read from the config): replaced anywhere in free text,
``${LANG}`` = ``en`` would rewrite every "en" printed.
"""

from __future__ import annotations

import threading

MIN_LENGTH = 4

_values: dict[str, str] = {}  # value -> variable name
_templates: dict[str, str] = {}  # a substituted string -> the string as the file wrote it
_lock = threading.Lock()
_ordered: list[tuple[str, str]] = []  # (value, name), longest value first


def remember(name: str, value: str, *, written: str, result: str) -> None:
    """Remember that ``${name}`` was ``value``, in a string the file wrote as ``written``
    that became ``result``."""
    global _ordered
    with _lock:
        if value:
            _values.setdefault(value, name)
            _ordered = sorted(_values.items(), key=lambda kv: len(kv[0]), reverse=True)
        _templates[result] = written


def conceal(text: str) -> str:
    """``text`` with every environment value (of :data:`MIN_LENGTH` or more) shown as
    ``${VAR}``; a whole string the config substituted is shown as the file wrote it
    (``$${X}`` as ``${X}``, its literal meaning)."""
    if not text or not _values:
        return text
    if text in _templates:
        return _templates[text].replace("$${", "${")
    for value, name in _ordered:
        if len(value) >= MIN_LENGTH and value in text:
            text = text.replace(value, "${" + name + "}")
    return text


def conceal_value(value):
    """:func:`conceal` through the strings inside dicts, lists and tuples."""
    if isinstance(value, str):
        return conceal(value)
    if isinstance(value, dict):
        return {k: conceal_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(conceal_value(v) for v in value)
    return value


def forget() -> None:
    """Forget every remembered value (a test's fresh start; a process never needs it)."""
    global _ordered
    with _lock:
        _values.clear()
        _templates.clear()
        _ordered = []


def has_secrets() -> bool:
    """Whether any value was taken from the environment in this process."""
    return bool(_values)
