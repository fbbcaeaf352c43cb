"""The user's cache: derived data read back as derived, never stale, never an error."""

from __future__ import annotations

import pytest

from alerts import cache, gazetteer, language


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("NEWSWATCH_CACHE", str(folder))
    return folder


def _fresh_names() -> tuple:
    gazetteer._base_names_cached.cache_clear()  # the in-process copy: read the cache again
    return gazetteer._base_names(("en", "de"))


def test_gazetteer_names_read_back_equal_the_derived_ones(cache_dir):
    derived = gazetteer._derive(("en", "de"))
    first = _fresh_names()
    assert len(list(cache_dir.glob("gazetteer-names-*"))) == 1
    again = _fresh_names()  # from the file this time
    assert first == again == derived
    gazetteer._base_names_cached.cache_clear()


def test_a_damaged_entry_is_derived_again(cache_dir):
    _fresh_names()
    (entry,) = cache_dir.glob("gazetteer-names-*")
    entry.write_bytes(b"\x00 not marshal data")
    assert _fresh_names() == gazetteer._derive(("en", "de"))
    assert entry.read_bytes() != b"\x00 not marshal data"  # written anew
    gazetteer._base_names_cached.cache_clear()


def test_an_entry_that_loads_but_is_not_what_was_written_is_derived_again(cache_dir):
    # A file that reads as valid marshal data (a foreign entry, another entry's bytes, a
    # flipped byte inside a string) must not be taken for the gazetteer: here an empty one.
    import marshal

    _fresh_names()
    (entry,) = cache_dir.glob("gazetteer-names-*")
    derived = gazetteer._derive(("en", "de"))
    for foreign in (marshal.dumps(([], [])), marshal.dumps(([("x", "GE")], ["GE"]))):
        entry.write_bytes(foreign)
        assert _fresh_names() == derived
    # a byte of the stored data changed: the checksum tells
    data = bytearray(entry.read_bytes())
    data[-40] ^= 0x20
    entry.write_bytes(bytes(data))
    assert _fresh_names() == derived
    # another kind's entry under this name: the name is part of the checksum
    cache.remembered("other", (1,), lambda: marshal.dumps(([], [])), bytes, bytes)
    (other,) = cache_dir.glob("other-*")
    entry.write_bytes(other.read_bytes())
    assert _fresh_names() == derived
    gazetteer._base_names_cached.cache_clear()


def test_a_load_that_fails_in_any_way_derives_again(cache_dir):
    def load(data: bytes) -> bytes:
        raise IndexError("a layout the code no longer reads")

    assert cache.remembered("x", (1,), lambda: b"v", bytes, load) == b"v"
    assert cache.remembered("x", (1,), lambda: b"w", bytes, load) == b"w"


def test_off_and_unwritable_caches_change_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSWATCH_CACHE", "off")
    assert cache.folder() is None
    built = cache.remembered("x", (1,), lambda: b"value", bytes, bytes)
    assert built == b"value"
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("NEWSWATCH_CACHE", str(blocker / "cache"))
    assert cache.remembered("x", (1,), lambda: b"value", bytes, bytes) == b"value"


def test_a_new_key_is_a_new_entry(cache_dir):
    assert cache.remembered("x", ("v1",), lambda: b"one", bytes, bytes) == b"one"
    assert cache.remembered("x", ("v1",), lambda: b"other", bytes, bytes) == b"one"
    assert cache.remembered("x", ("v2",), lambda: b"two", bytes, bytes) == b"two"


TEXTS = [
    "Die Regierung hat am Montag mitgeteilt, dass die Gespräche andauern.",
    "Le gouvernement a annoncé lundi que les discussions continuaient.",
    "Правительство заявило в понедельник, что переговоры продолжаются.",
    "GIRLS BASKETBALL Palm Bay d. Rockledge 70-44 Merritt Island d. Titusville",
    "",
]


@pytest.mark.slow  # seconds of CPU
def test_the_cached_language_model_answers_as_py3langid(cache_dir):
    import py3langid

    language.identifier.cache_clear()
    unpacked = language.identifier()  # unpacks into the cache
    assert list(cache_dir.glob("py3langid-*/nextmove.npy"))
    language.identifier.cache_clear()
    mapped = language.identifier()  # maps what the first one wrote
    for text in TEXTS:
        assert unpacked.classify(text) == mapped.classify(text) == py3langid.classify(text)
    language.identifier.cache_clear()


@pytest.mark.slow  # seconds of CPU
def test_a_damaged_or_foreign_language_model_is_unpacked_anew(cache_dir):
    # Arrays that still load (another file under the name, a byte changed) would answer
    # wrongly or fail only in the middle of a match (an IndexError in py3langid).
    import numpy as np
    import py3langid

    language.identifier.cache_clear()
    language.identifier()
    (here,) = cache_dir.glob("py3langid-*")
    np.save(here / "output.npy", np.arange(3, dtype=np.int64))
    language.identifier.cache_clear()
    for text in TEXTS:
        assert language.identifier().classify(text) == py3langid.classify(text)
    assert np.load(here / "output.npy").shape != (3,)  # unpacked anew
    # same shape, other values: the probe's answer differs
    ptc = np.load(here / "ptc.npy")
    np.save(here / "ptc.npy", ptc[::-1].copy())
    language.identifier.cache_clear()
    for text in TEXTS:
        assert language.identifier().classify(text) == py3langid.classify(text)
    language.identifier.cache_clear()


def test_old_entries_of_a_kind_are_removed(cache_dir):
    for version in range(cache.KEEP + 3):
        cache.remembered("x", (version,), lambda: b"v", bytes, bytes)
    assert len(list(cache_dir.glob("x-*"))) == cache.KEEP
    cache.remembered("other", (0,), lambda: b"o", bytes, bytes)
    assert len(list(cache_dir.glob("x-*"))) == cache.KEEP
