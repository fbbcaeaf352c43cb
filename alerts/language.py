"""Which language a text is written in: its function words when they settle it, else
py3langid, whose unpacked model is kept in the user's cache between processes.

py3langid ships its model LZMA-compressed (4.5 MB; 68 MB unpacked), and unpacking it took
0.4-0.5 s of CPU, a sixth of a ``newswatch match`` over 18 MB of English news in which one
text needed the model. The first process that needs the model writes the unpacked arrays
to the cache folder (:mod:`alerts.cache`), one folder per py3langid version and model
file; later processes map them from there (numpy memory maps: one classification reads a
few pages). Any problem with the cache falls back to py3langid's own loading: the
answers are the same either way.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from alerts import cache

_WORDS = re.compile(r"[^\W\d_]+")
_ARRAYS = ("ptc", "pc", "classes", "nextmove", "row", "output")


def detect_language(
    doc: str, function_words: Mapping[str, frozenset[str]] | None = None, share: float = 1.0
) -> str:
    """The language of ``doc`` (ISO 639-1), from its first 600 characters: enough for a
    language, and only asked when a name of another language than English turns up.

    When at least ``share`` of its words are one language's ``function_words`` (and fewer
    than half as many another's), that settles it; otherwise py3langid decides."""
    words = _WORDS.findall(doc[:600].lower())
    if function_words and len(words) >= 12:
        shares = sorted(
            (
                (sum(w in fw for w in words) / len(words), lang)
                for lang, fw in function_words.items()
            ),
            reverse=True,
        )
        best, lang = shares[0]
        if best >= share and (len(shares) == 1 or shares[1][0] * 2 < best):
            return lang
    return identifier().classify(doc[:600])[0]


@lru_cache(maxsize=1)
def identifier() -> Any:
    """py3langid's LanguageIdentifier with its default model (what ``py3langid.classify``
    uses), from the cache when it can be."""
    from py3langid import langid

    model = langid.MODEL_DIR / langid.MODEL_FILE
    folder = cache.folder()
    if folder is not None:
        try:
            return _from_cache(langid, model, folder)
        except (OSError, ValueError, KeyError, TypeError, ImportError):
            pass  # an unwritable home, a full disk, a half-written folder: load it as shipped
    return langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE)


def _from_cache(langid: Any, model: Path, folder: Path) -> Any:
    import numpy as np
    import py3langid

    st = model.stat()
    here = folder / f"py3langid-{py3langid.__version__}-{st.st_size}-{st.st_mtime_ns}"
    if not all((here / f"{name}.npy").exists() for name in _ARRAYS):
        _write(model, here)
    load = {name: np.load(here / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
    return langid.LanguageIdentifier(
        np.asarray(load["ptc"]),
        np.array(load["pc"]),
        load["classes"].tolist(),
        load["nextmove"],  # read a few entries per text: mapped, not loaded
        load["output"].tolist(),
        tk_row=load["row"].tolist(),
    )


def _write(model: Path, here: Path) -> None:
    """Unpack the model into ``here`` (written aside, then renamed into place: another
    process may be doing the same)."""
    import numpy as np
    from py3langid import modelio

    ptc, pc, classes, nextmove, row, output = modelio.load_model(model)
    arrays = {
        "ptc": np.asarray(ptc),
        "pc": np.asarray(pc),
        "classes": np.array(classes),
        "nextmove": np.frombuffer(nextmove, dtype=f"u{nextmove.itemsize}"),
        "row": np.frombuffer(row, dtype=f"u{row.itemsize}"),
        "output": np.asarray(output, dtype=np.int64),
    }
    here.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(here, ignore_errors=True)  # a folder a killed process left half-written
    tmp = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=here.parent))
    try:
        for name, arr in arrays.items():
            np.save(tmp / f"{name}.npy", arr, allow_pickle=False)
        os.replace(tmp, here)
        cache.prune(here.parent, "py3langid-", keep=1)  # older versions of the package
    except OSError:
        if not here.exists():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
