"""Fingerprints, paragraphs, signatures, the near-duplicate index and its hash table, and the
threshold on the labelled set."""

from __future__ import annotations

import numpy as np
from dedupe.labelled import documents, pairs

from crawler.config import DedupeSettings
from crawler.fingerprints import fingerprint, normalize, paragraphs, tokens
from crawler.lsh import LSH_RECALL, BucketTable, lsh_rows
from crawler.minhash import Signer, shingle_hashes, similarity
from crawler.neardup import NearDuplicateIndex
from crawler.signatures import from_blob, to_blob

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
    again = from_blob(to_blob(sig))
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


def test_signatures_are_datasketch_affine32_minhashes():
    """The numpy signer gives datasketch's own affine32 MinHash values (without importing
    datasketch at run time), so the estimate keeps datasketch's accuracy."""
    from datasketch import MinHash

    for num_perm in (16, 128):
        signer = Signer(num_perm=num_perm, shingle_size=3)
        reference = MinHash(num_perm=num_perm, seed=1, scheme="affine32", hashfunc=int)
        reference.update_batch(shingle_hashes(tokens(TEXT), 3).tolist())
        assert signer.sign(TEXT).tolist() == reference.hashvalues.tolist()


def test_paragraphs_keep_the_words_and_hash_equal_paragraphs_alike():
    text = "Follow us on Telegram!\n\n" + TEXT + "\r\n  \nFOLLOW US ON TELEGRAM"
    parsed = paragraphs(text)
    assert parsed.all_words() == tokens(text)
    assert len(parsed.words) == len(parsed.hashes) == 3
    assert parsed.hashes[0] == parsed.hashes[2] != parsed.hashes[1]
    skip = np.array([True, False, True])
    assert parsed.all_words(skip=skip) == tokens(TEXT)
    assert fingerprint("T", None, parsed=parsed) == fingerprint("T", text)
    assert len(paragraphs(None).hashes) == 0


def test_lsh_bands_propose_pairs_at_the_threshold():
    # 0.3 with 128 permutations: 64 bands of 2 rows
    assert lsh_rows(0.3, 128) == 2
    for threshold in (0.05, 0.2, 0.3, 0.5, 0.8, 0.99):
        rows = lsh_rows(threshold, 128)
        bands = 128 // rows
        assert 1 - (1 - threshold**rows) ** bands >= LSH_RECALL
        # one row more would miss too often (or leave too few bands)
        more = rows + 1
        assert more > 128 or 1 - (1 - threshold**more) ** (128 // more) < LSH_RECALL


def test_index_keeps_working_through_growth_expiry_and_compaction():
    """Thousands of signatures (random ones: no two alike), a window that drops the older
    half, and the purge of dropped rows that follows: what is left is still found."""
    rng = np.random.default_rng(7)
    sigs = rng.integers(0, 2**32, (12_000, 64), dtype=np.uint32)
    index = NearDuplicateIndex(threshold=0.3, num_perm=64)
    for i, sig in enumerate(sigs):
        index.add(i, sig, f"2024-06-{1 + i // 1000:02d}T00:00:00Z", story=i)
    assert len(index) == 12_000
    assert index.query(sigs[5]) == [(1.0, 5)]
    near = sigs[11_000].copy()
    near[:20] += 1  # 44 of 64 values kept: similarity 0.69
    assert index.query(near) == [(44 / 64, 11_000)]
    assert index.expire("2024-06-08T00:00:00Z") == 7_000  # then purges: 7,000 dead > 5,000
    assert len(index) == 5_000 and 6_999 not in index and 7_000 in index
    assert index.query(sigs[5]) == []
    assert [k for _, k in index.query(sigs[9_999])] == [9_999]
    index.add(20_000, sigs[5], "2024-06-13T00:00:00Z")
    assert index.query(sigs[5]) == [(1.0, 20_000)]
    index.remove(20_000)
    assert index.query(sigs[5]) == [] and len(index) == 5_000


def test_a_full_hash_table_bucket_spills_without_losing_entries():
    table = BucketTable(0)
    same_bucket = np.array([table._nb * k + 3 + (k << 40) for k in range(1, 41)], np.uint64)
    for row, h in enumerate(same_bucket):
        table.add(np.array([h], np.uint64), row)
    table.add(same_bucket[:5], 99)  # a batch into one full bucket
    i, rows = table.get(same_bucket[[0, 30]])
    assert sorted(rows.tolist()) == [0, 30, 99]
    assert sorted(zip(i.tolist(), rows.tolist(), strict=True)) == [(0, 0), (0, 99), (1, 30)]


def test_a_bulk_filed_table_holds_what_one_by_one_filing_holds():
    """``extend`` (a rebuild's way: many entries, many to one bucket, some past its sixteen
    slots) files what ``add`` one entry at a time files: every entry comes back."""
    rng = np.random.default_rng(3)
    hashes = rng.integers(1, 2**63, 5_000, dtype=np.uint64)
    crowded = np.array([64 * k + 5 + (k << 40) for k in range(1, 60)], np.uint64)  # one bucket
    hashes = np.concatenate([hashes, crowded, hashes[:100]])  # and hashes filed twice
    rows = np.arange(len(hashes))
    bulk, single = BucketTable(0), BucketTable(0)
    assert bulk._nb == single._nb == 64
    for part in np.split(np.arange(len(hashes)), [2_600, 5_030]):  # the crowded bucket split
        bulk.extend(hashes[part], rows[part])
    for h, r in zip(hashes, rows, strict=True):
        single.add(np.array([h]), int(r))
    for table in (bulk, single):
        i, got = table.get(hashes)
        assert sorted(zip(i.tolist(), got.tolist(), strict=True)) == sorted(
            [(j, j) for j in range(len(hashes))]
            + [(j, j + len(hashes) - 100) for j in range(100)]
            + [(j + len(hashes) - 100, j) for j in range(100)]
        )


def test_an_index_that_outgrows_its_tables_finds_every_candidate():
    """Signatures added one by one from an empty index (its LSH and paragraph tables are
    rebuilt larger again and again, each when it is full): every query returns exactly the
    articles that share a band key with it and reach the threshold (brute force over all)."""
    rng = np.random.default_rng(11)
    base = rng.integers(0, 2**32, (300, 64), dtype=np.uint32)
    sigs = base[rng.integers(0, 300, 3_000)].copy()
    noise = rng.random(sigs.shape) < rng.uniform(0.2, 0.9, (3_000, 1))  # near-copies of 300
    sigs[noise] = rng.integers(0, 2**32, int(noise.sum()), dtype=np.uint32)
    index = NearDuplicateIndex(threshold=0.3, num_perm=64)
    tables = set()
    for i, sig in enumerate(sigs):
        paras = rng.integers(1, 2**63, 4, dtype=np.uint64)
        index.add(i, sig, "2024-06-01T00:00:00Z", story=i, source="s", paragraphs=paras)
        tables.add(id(index._lsh))
    assert len(tables) > 5  # rebuilt several times
    keys = index._band_keys(sigs)
    for q in range(0, 3_000, 7):
        shares = (keys == keys[q]).any(axis=1)
        sims = (sigs == sigs[q]).sum(axis=1) / 64
        expected = sorted((float(s), k) for k, s in enumerate(sims) if shares[k] and s >= 0.3)
        assert sorted(index.query(sigs[q])) == expected
