"""Reading a config file: TOML, ``${VAR}`` from the environment, validation into a model.

The root model (which sections a config has) is the composition root's business; this module
knows only how to turn a file into a validated model and every problem into a
``ConfigError`` that names the file, the key and what is wrong. Nothing here knows click.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from crawler import env_secrets
from crawler.suggest import unknown_key

_VAR = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}")

M = TypeVar("M", bound=BaseModel)
Problems = list[tuple[str, str]]


class ConfigError(Exception):
    """A config file that cannot be used; says which file, which key, and what is wrong."""

    def __init__(self, file: str, problems: Problems):
        self.file = file
        # a message may quote a value the file took from the environment: a secret
        problems = [(path, env_secrets.conceal(msg)) for path, msg in problems]
        self.problems = problems
        lines = [f"{path}: {msg}" if path else msg for path, msg in problems]
        super().__init__(f"config error in {file}:\n  " + "\n  ".join(lines))


def _loc(parts: tuple) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def interpolate(value: Any, path: str, problems: Problems) -> Any:
    """Replace ``${VAR}`` in every string from the environment; ``$${VAR}`` stays literal.
    A variable that is not set is added to ``problems`` under the key path it was found at.
    Each value taken is remembered as a secret (crawler/env_secrets.py: shown as ``${VAR}``)."""
    if isinstance(value, str):
        taken: list[tuple[str, str]] = []

        def sub(m: re.Match) -> str:
            if m.group(1):
                return "${" + m.group(2) + "}"
            name = m.group(2)
            if name not in os.environ:
                problems.append((path, f"environment variable {name} is not set"))
                return ""
            taken.append((name, os.environ[name]))
            return os.environ[name]

        result = _VAR.sub(sub, value)
        for name, env_value in taken:
            env_secrets.remember(name, env_value, written=value, result=result)
        return result
    if isinstance(value, list):
        return [interpolate(v, f"{path}[{i}]", problems) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: interpolate(v, f"{path}.{k}" if path else k, problems) for k, v in value.items()}
    return value


def read_toml(path: str | os.PathLike) -> dict:
    """The file's TOML as a dict. Raises ConfigError (missing, unreadable, not UTF-8, bad TOML)."""
    file = str(path)
    try:
        raw = Path(file).read_bytes()
    except FileNotFoundError:
        raise ConfigError(file, [("", "file not found")]) from None
    except OSError as e:
        raise ConfigError(file, [("", f"cannot read: {e.strerror}")]) from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(file, [("", "not UTF-8 text")]) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(file, [("", f"not valid TOML: {e}")]) from None


class ConfigLoader(Generic[M]):
    """Loads files into one root model, then runs the checks that span its sections."""

    def __init__(self, model: type[M], check: Callable[[M], Problems] | None = None):
        self.model = model
        self.check = check

    def load(self, path: str | os.PathLike) -> M:
        """Read, interpolate and validate a config file. Raises ConfigError; writes nothing."""
        data = read_toml(path)
        problems: Problems = []
        data = interpolate(data, "", problems)
        if problems:
            raise ConfigError(str(path), problems)
        return self.validate(data, str(path))

    def validate(self, data: dict, file: str) -> M:
        """Validate already-parsed settings (``file`` names where they came from)."""
        try:
            cfg = self.model.model_validate(data)
        except ValidationError as e:
            problems: Problems = []
            for err in e.errors(include_url=False, include_input=False):
                msg = err["msg"].removeprefix("Value error, ")
                if err["type"] == "extra_forbidden":
                    msg = unknown_key(self.model, err["loc"])  # with "did you mean" if close
                elif err["type"] == "missing":
                    msg = "required key is missing"
                problems.append((_loc(err["loc"]), msg))
            raise ConfigError(file, problems) from None
        problems = self.check(cfg) if self.check else []
        if problems:
            raise ConfigError(file, problems)
        return cfg
