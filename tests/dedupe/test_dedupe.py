"""Fingerprints, signatures and the near-duplicate index, and the threshold on the labelled set."""

from __future__ import annotations

from dedupe.labelled import documents, pairs

from crawler.config import DedupeSettings
from crawler.dedupe import (
    NearDuplicateIndex,
    Signer,
    fingerprint,
    normalize,
    similarity,
    to_blob,
)

TEXT = (
    "The US State Department has kept Azerbaijan on Tier 2 in its annual Trafficking in "
    "Persons report, released in Washington on Monday, saying the government made "
    "significant efforts but does not fully meet the minimum standards."
)


def test_normalize_folds_case_punctuation_and_spacing():
    assert normalize("  Tier\u00a02 —  WATCH\tList!  ") == "tier 2 watch list"
    assert normalize("Ｔｉｅｒ ２") == "tier 2"  # NFKC: full-width letters and digits


def test_fingerprint_is_the_same_for_the_same_words_only():
    a = fingerprint("Azerbaijan on Tier 2", TEXT)
    assert a == fingerprint("AZERBAIJAN ON TIER 2.", "  " + TEXT.replace(" ", "\n  "))
    assert a != fingerprint("Azerbaijan on Tier 3", TEXT)
    assert a != fingerprint("Azerbaijan on Tier 2", TEXT + " More.")
    assert fingerprint(None, "") is None


def test_signature_survives_storage_and_short_texts_are_not_signed():
    signer = Signer(num_perm=64, shingle_size=3)
    sig = signer.sign(TEXT)
    again = signer.from_blob(to_blob(sig))
    assert similarity(sig, again) == 1.0
    assert similarity(sig, signer.sign(TEXT.upper())) == 1.0
    assert signer.sign("Read more on our website") is None
    assert Signer(num_perm=64, shingle_size=2).params != signer.params


def test_index_finds_near_duplicates_and_expires_old_entries():
    signer = Signer()
    index = NearDuplicateIndex(threshold=0.3, num_perm=128)
    index.add(1, signer.sign(TEXT), "2024-06-01T00:00:00Z")
    index.add(2, signer.sign("Completely unrelated words about the weather " * 5), "2024-06-02")
    reprint = signer.sign("Follow us on Telegram. " + TEXT[:150] + " All rights reserved.")
    assert [key for _, key in index.query(reprint)] == [1]
    assert index.expire("2024-06-01T12:00:00Z") == 1
    assert index.query(reprint) == [] and 1 not in index and len(index) == 1


def test_threshold_separates_the_labelled_pairs():
    """The configured threshold puts every same-story pair of the labelled set at or above
    it and every different-story pair on the same topic below it (see bench/dedupe_threshold.py
    for the figures it was chosen from)."""
    settings = DedupeSettings()
    signer = Signer(num_perm=settings.num_perm, shingle_size=settings.shingle_size)
    labelled = pairs(documents())
    assert sum(same for *_, same in labelled) >= 8
    assert sum(not same for *_, same in labelled) >= 20
    wrong = []
    for a, b, same in labelled:
        s = similarity(signer.sign(a["text"]), signer.sign(b["text"]))
        if (s >= settings.threshold) != same:
            wrong.append((a["id"], b["id"], round(s, 3), same))
    assert wrong == []


def test_labelled_reprints_keep_sixty_to_a_hundred_percent():
    kept = [d["kept"] for d in documents() if d["kept"] is not None and d["story"] != d["id"]]
    assert len(kept) >= 8
    assert min(kept) >= 0.6 and max(kept) == 1.0
