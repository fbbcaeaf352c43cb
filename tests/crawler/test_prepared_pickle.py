"""A prepared text crosses from the parse worker to the writer pickled (crawler.prepared.
PreparedText.__reduce__): it arrives with every field, array type and shape as it left."""

from __future__ import annotations

import pickle

import numpy as np

from crawler.minhash import Signer
from crawler.prepared import PreparedText, prepare_text

TEXT = "Storm hits the coast.\n\nThousands of homes lost power overnight, officials said.\n" * 8


def _same(a: PreparedText, b: PreparedText) -> None:
    for name in PreparedText.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray):
            assert isinstance(y, np.ndarray) and y.dtype == x.dtype and y.shape == x.shape
            assert np.array_equal(x, y) and y.flags.writeable, name
        else:
            assert x == y, name


def test_a_prepared_text_pickles_to_itself():
    signer = Signer(num_perm=64)
    for prepared in (
        prepare_text("Storm", TEXT, "en", signer=signer),
        prepare_text("Storm", TEXT, "en", terms=False),
        prepare_text(None, None, None),
    ):
        back = pickle.loads(pickle.dumps(prepared))
        _same(prepared, back)
        assert back.fits(
            "Storm" if prepared.size[0] else None,
            TEXT if prepared.size[1] else None,
            prepared.language,
        )
    signed = prepare_text("Storm", TEXT, "en", signer=signer)
    back = pickle.loads(pickle.dumps(signed))
    nothing = np.zeros(len(back.paragraphs), bool)
    assert np.array_equal(back.signature(signer, nothing), signed.signature(signer, nothing))


def test_other_array_types_and_shapes_survive():
    odd = PreparedText(
        paragraphs=np.arange(6, dtype=np.int64).reshape(2, 3),
        lengths=np.array([], np.int16),
        words=np.array([1.5, 2.5]),
        fingerprint="f",
        terms=None,
        size=(1, 2),
        sig=np.array([7], np.uint8),
    )
    _same(odd, pickle.loads(pickle.dumps(odd)))
