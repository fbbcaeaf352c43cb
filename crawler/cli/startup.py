"""What a `newswatch` process does before its other imports: import sqlite-utils without
numpy and pandas.

sqlite-utils imports numpy and pandas when they are installed, only to map their scalar
types to column types when a table is created from Python values. newswatch creates its
tables from its migrations and stores no numpy values through sqlite-utils, yet every
command paid for numpy (installed for the near-duplicate signatures): about 0.09 s of CPU,
a tenth of a `newswatch crawl` of unchanged feeds, whose crawl never needs numpy. Only
sqlite-utils' own import is spared: numpy imports normally for the code that uses it.
"""

from __future__ import annotations

import sys

_OPTIONAL = ("numpy", "pandas")


def import_sqlite_utils_lean() -> None:
    """Import sqlite-utils with its optional numpy and pandas type mappings left out
    (nothing happens when sqlite-utils, numpy or pandas is imported already)."""
    if "sqlite_utils" in sys.modules or any(m in sys.modules for m in _OPTIONAL):
        return
    for name in _OPTIONAL:
        sys.modules[name] = None  # `import numpy` raises ImportError meanwhile
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for name in _OPTIONAL:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


import_sqlite_utils_lean()
