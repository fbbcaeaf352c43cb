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

import json
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
        except Exception:  # noqa: BLE001 - any trouble with the cache: load it as shipped
            pass  # an unwritable home, a full disk, a damaged folder, another py3langid
    return langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE)


#: Classified when the model is unpacked and again whenever it is mapped from the cache:
#: the same answer, to the last bit of its score, or the folder is unpacked anew.
_PROBE = (
    "Die Regierung hat am Montag mitgeteilt, dass die Gespräche andauern; le gouvernement"
    " a annoncé lundi que les discussions continuaient. Правительство заявило"
)
_MANIFEST = "manifest.json"


def _from_cache(langid: Any, model: Path, folder: Path) -> Any:
    import py3langid

    st = model.stat()
    here = folder / f"py3langid-{py3langid.__version__}-{st.st_size}-{st.st_mtime_ns}"
    if not (here / _MANIFEST).exists():
        _write(langid, model, here)
    try:
        return _mapped(langid, here)
    except (OSError, ValueError, LookupError, TypeError):
        # damaged or another's files (a mapped array that does not match what was unpacked
        # would fail, or answer wrongly, only later, in the middle of a match): anew, once
        _write(langid, model, here)
        return _mapped(langid, here)


def _identifier(langid: Any, arrays: Mapping[str, Any]) -> Any:
    import numpy as np

    return langid.LanguageIdentifier(
        np.asarray(arrays["ptc"]),
        np.array(arrays["pc"]),
        arrays["classes"].tolist(),
        arrays["nextmove"],  # read a few entries per text: mapped, not loaded
        arrays["output"].tolist(),
        tk_row=arrays["row"].tolist(),
    )


def _mapped(langid: Any, here: Path) -> Any:
    """The identifier over the arrays in ``here``, checked against its manifest (each
    array's shape and type, and the probe's answer); ValueError when they differ."""
    import numpy as np

    manifest = json.loads((here / _MANIFEST).read_text(encoding="utf-8"))
    arrays = {name: np.load(here / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
    for name, arr in arrays.items():
        if [list(arr.shape), arr.dtype.str] != manifest["arrays"][name]:
            raise ValueError(f"{here / name}.npy is not the array unpacked there")
    found = _identifier(langid, arrays)
    if list(found.classify(_PROBE)) != manifest["probe"]:
        raise ValueError(f"{here}: the unpacked model answers otherwise")
    return found


def _write(langid: Any, model: Path, here: Path) -> None:
    """Unpack the model into ``here`` with its manifest (written aside, then renamed into
    place: another process may be doing the same)."""
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
    manifest = {
        "arrays": {name: [list(arr.shape), arr.dtype.str] for name, arr in arrays.items()},
        "probe": list(_identifier(langid, arrays).classify(_PROBE)),
    }
    here.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(here, ignore_errors=True)  # a damaged folder, or one of older code
    tmp = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=here.parent))
    try:
        for name, arr in arrays.items():
            np.save(tmp / f"{name}.npy", arr, allow_pickle=False)
        (tmp / _MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        os.replace(tmp, here)
        cache.prune(here.parent, "py3langid-", keep=1)  # older versions of the package
    except OSError:
        if not here.exists():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
