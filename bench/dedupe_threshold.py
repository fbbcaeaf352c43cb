"""Choose the near-duplicate threshold: similarities of the labelled pairs in tests/fixtures/dedupe.

Prints, for every pair on the same topic, the MinHash estimate and the exact Jaccard
similarity of the 3-word shingle sets, then the gap between the least similar same-story
pair and the most similar different-story pair, and how likely the LSH bands chosen for the
threshold are to propose a pair at and below it. Run: .venv/bin/python bench/dedupe_threshold.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from dedupe.labelled import documents, pairs  # noqa: E402

from crawler.config import DedupeSettings  # noqa: E402
from crawler.fingerprints import tokens  # noqa: E402
from crawler.lsh import lsh_rows  # noqa: E402
from crawler.minhash import Signer, shingle_hashes, similarity  # noqa: E402


def main() -> None:
    settings = DedupeSettings()
    docs = documents()
    rows = []
    for perm in (64, 128, 256):
        signer = Signer(num_perm=perm, shingle_size=settings.shingle_size)
        for a, b, same in pairs(docs):
            sa = set(shingle_hashes(tokens(a["text"]), settings.shingle_size).tolist())
            sb = set(shingle_hashes(tokens(b["text"]), settings.shingle_size).tolist())
            exact = len(sa & sb) / len(sa | sb)
            est = similarity(signer.sign(a["text"]), signer.sign(b["text"]))
            rows.append((perm, same, est, exact, a, b))
    same_rows = [r for r in rows if r[1] and r[0] == settings.num_perm]
    diff_rows = [r for r in rows if not r[1] and r[0] == settings.num_perm]
    print(f"{len(docs)} documents, {len(same_rows)} same-story pairs, {len(diff_rows)} different")
    print(f"{'label':9} {'est':>5} {'exact':>5} {'kept':>5}  pair")
    for _, same, est, exact, a, b in sorted(same_rows + diff_rows, key=lambda r: -r[2]):
        kept = b["kept"] if same else None
        print(
            f"{'same' if same else 'different':9} {est:5.2f} {exact:5.2f} "
            f"{'' if kept is None else f'{kept:.2f}':>5}  {a['id']} ~ {b['id']}"
        )
    for perm in (64, 128, 256):
        s = [r[2] for r in rows if r[0] == perm and r[1]]
        d = [r[2] for r in rows if r[0] == perm and not r[1]]
        xs = [r[3] for r in rows if r[0] == perm and r[1]]
        xd = [r[3] for r in rows if r[0] == perm and not r[1]]
        print(
            f"num_perm={perm}: same-story estimate min {min(s):.3f}, different-story max "
            f"{max(d):.3f} (exact Jaccard: same min {min(xs):.3f}, different max {max(xd):.3f})"
        )
    print(f"configured threshold: {settings.threshold}")
    # The LSH only proposes candidates; how likely it proposes a pair of a given similarity.
    rows = lsh_rows(settings.threshold, settings.num_perm)
    bands = settings.num_perm // rows
    lowest_same = min(r[2] for r in same_rows)
    chances = ", ".join(
        f"{p:.2f}: {1 - (1 - p**rows) ** bands:.3f}"
        for p in (settings.threshold - 0.1, settings.threshold, lowest_same)
    )
    print(f"LSH: {bands} bands of {rows} rows; chance to propose a pair at similarity {chances}")


if __name__ == "__main__":
    main()
