"""Dedupe benchmark: a synthetic 100k-article archive with 10% planted reprints.

Articles are built from the sentences of the item texts of ../shared/corpora/real-feeds:
an original is a random draw of sentences (as many as a real item has, 3 to 25) with a
fifth of the words swapped for random corpus words (see ``synthesize``); a reprint drops
10-40% of an earlier original's sentences (rounded: a 3-sentence original loses 0 or 1),
adds 1-5 lines of site furniture (drawn from the same twelve lines on every site) and gets
a reworded headline. Everything goes through the real collection path
(``crawler.store.store_items`` with one ``StoryAssigner``) into a real archive file.

Articles are stored as the crawl's pipeline stores them (a transaction per 500, a
savepoint per item), after being prepared as the parse workers prepare them
(``crawler.store.prepare_item``, pickled to cross to the writer). Prints the rate of the
writing process (store and assign, wall and CPU: the headline, because in a crawl the
preparing runs in parse workers on other cores and the single writer is the bound), the
rate of preparing alone, and the end-to-end rate of one process doing both; the load
average with each; peak RSS and the index's own size, reprint recall, false merges (originals merged into another story; reprints put
in a wrong story), and what a new process needs to load the stored signatures (seconds,
memory held), with ratios against baselines measured in the same run (storing without
dedupe; datasketch's default SHA-1 MinHash). Figures are recorded through bench/results.py
for RESULTS.md. Never asserts. ``--no-furniture`` switches off the learning of site
furniture, to see what it buys.

Stories have two levels since issue 15: reprints, and other outlets' own reports of one
event (crawler/events.py). The default run has both, so a false merge counted here may come
from either; ``--event-threshold 0`` runs the reprint level alone, as before.

Run: .venv/bin/python bench/bench_dedupe.py [--articles 100000] [--no-furniture] [--split]
     [--event-threshold 0]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# before results, which imports crawler: from a git worktree, the installed (editable)
# package would otherwise be the main tree's, and this tree's code would not be measured
sys.path.insert(0, str(ROOT))

import results  # noqa: E402

BENCH = "dedupe"

from dedupe_corpus import CORPUS, item, quality, synthesize  # noqa: E402, F401 (item: stories_scale)
from dedupe_store import NoDedupe, Split, Timed, load_avg, store_all  # noqa: E402

from crawler import archive  # noqa: E402
from crawler.config import DedupeSettings  # noqa: E402
from crawler.fingerprints import tokens  # noqa: E402
from crawler.minhash import Signer  # noqa: E402
from crawler.neardup import NearDuplicateIndex  # noqa: E402
from crawler.stories import StoryAssigner  # noqa: E402


def rss_mb() -> float:
    """Peak resident set size of this process, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sign_rates(articles: list[dict], settings: DedupeSettings) -> tuple[float, float]:
    """Signatures/s: ours vs datasketch's default (SHA-1 per shingle, update_batch)."""
    from datasketch import MinHash

    sample = [a["text"] for a in articles[:3000]]
    signer = Signer(num_perm=settings.num_perm, shingle_size=settings.shingle_size)
    t = time.perf_counter()
    for text in sample:
        signer.sign(text)
    ours = len(sample) / (time.perf_counter() - t)
    k = settings.shingle_size
    t = time.perf_counter()
    for text in sample:
        w = tokens(text)
        m = MinHash(num_perm=settings.num_perm)
        m.update_batch([" ".join(w[i : i + k]).encode() for i in range(len(w) - k + 1)])
    default = len(sample) / (time.perf_counter() - t)
    return ours, default


# Run in a fresh interpreter: what `newswatch crawl` or a restarted daemon pays to load
# the stored signatures (time, memory held afterwards, peak while loading).
LOADER = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from crawler import archive
from crawler.config import DedupeSettings
from crawler.stories import load_story_index

def status(key):  # VmHWM, not ru_maxrss: that counts the parent's pages at fork
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0

def rss():
    return status("VmRSS")

before = rss()
start = time.perf_counter()
db = archive.open_archive(sys.argv[2])
index = load_story_index(db, DedupeSettings(threshold=float(sys.argv[3])))
seconds = time.perf_counter() - start
print(json.dumps({
    "seconds": seconds, "signatures": len(index), "held_mb": rss() - before,
    "peak_mb": status("VmHWM"),
    "before_mb": before, "index_mb": index.nbytes / 1e6,
}))
"""


def load_in_new_process(path: Path, settings: DedupeSettings) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", LOADER, str(ROOT), str(path), str(settings.threshold)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--baseline", type=int, default=10_000, help="articles for the baseline")
    ap.add_argument("--threshold", type=float, help="override [dedupe] threshold")
    ap.add_argument(
        "--event-threshold",
        type=float,
        help="override [dedupe] event_threshold (0: the reprint level alone, as before issue 15)",
    )
    ap.add_argument(
        "--split",
        action="store_true",
        help="also print the CPU of each level's calls (timers add a little to the rates)",
    )
    ap.add_argument(
        "--no-furniture",
        action="store_true",
        help="do not learn site furniture (to see what learning it buys)",
    )
    args = ap.parse_args()
    if not CORPUS.is_dir():
        return results.skip(
            BENCH, f"{CORPUS} not found (the shared corpora are not part of a clone)"
        )
    settings = DedupeSettings()
    if args.threshold:
        settings = settings.model_copy(update={"threshold": args.threshold})
    if args.event_threshold is not None:
        settings = settings.model_copy(update={"event_threshold": args.event_threshold})
    print(f"settings: {settings!r}")
    t = time.perf_counter()
    articles = synthesize(args.articles)
    print(f"synthesized {len(articles)} articles in {time.perf_counter() - t:.1f} s")
    ours, default = sign_rates(articles, settings)
    print(
        f"signing: {ours:,.0f} docs/s vs datasketch default {default:,.0f} docs/s "
        f"(x{ours / default:.1f})"
    )
    results.record(
        BENCH, "signing", ours, "docs/s", baseline=default, baseline_label="datasketch MinHash"
    )

    with tempfile.TemporaryDirectory() as tmp:
        base_db = archive.open_archive(Path(tmp) / "baseline.db")
        base_n = min(args.baseline, len(articles))
        print(f"before the baseline: {load_avg()}", flush=True)
        base, _, _ = store_all(base_db, articles[:base_n], NoDedupe(base_db, settings))
        base_rate, base_cpu = base_n / base.wall, base_n / base.cpu
        base_db.close()
        print(
            f"baseline (storing without dedupe, items prepared as in a crawl): "
            f"{base.rates(base_n)} over {base_n}; {load_avg()}"
        )

        rss0 = rss_mb()
        db = archive.open_archive(Path(tmp) / "bench.db")
        index = None
        if args.no_furniture:
            never = 1 << 62
            index = NearDuplicateIndex(
                threshold=settings.threshold,
                num_perm=settings.num_perm,
                furniture_stories=never,
                furniture_articles=never,
            )
            print("site furniture: not learnt (--no-furniture)")
        assigner = StoryAssigner(db, settings, index=index)
        n = len(articles)
        print(f"before the dedupe run: {load_avg()}", flush=True)
        split = Split() if args.split else None
        if split is not None:
            split.install()
        try:
            spent, prep, story_ids = store_all(db, articles, assigner)
        finally:
            if split is not None:
                split.remove()
        rate, cpu_rate = n / spent.wall, n / spent.cpu
        both = Timed(spent.wall + prep.wall, spent.cpu + prep.cpu)
        rss1 = rss_mb()
        first_of = dict(db.execute("SELECT id, article_id FROM stories").fetchall())
        q = quality(articles, story_ids, first_of, settings.threshold)
        recall = q["found"] / q["reprints"]
        merged = q["merged"] / q["originals"]
        wrong = q["wrong"] / q["reprints"]
        index_mb = assigner.index.nbytes / 1e6
        # The headline is the writer's rate: in a crawl the items are prepared in the parse
        # workers (other cores, in parallel), and the one process that writes the archive
        # and assigns stories is what bounds how many articles a crawl can take per second.
        print(
            f"story assignment with storage, in the writing process (HEADLINE): {n} articles "
            f"in {spent.wall:.1f} s = {rate:,.0f} articles/s wall (x{rate / base_rate:.2f} of "
            f"the no-dedupe baseline; target >= 1,000), {cpu_rate:,.0f} articles/s CPU "
            f"(x{cpu_rate / base_cpu:.2f}); {load_avg()}"
        )
        print(
            f"preparing the items (the parse workers' share, measured in this process): "
            f"{prep.rates(n)}"
        )
        print(
            f"end to end in one process (preparing + storing, no parse worker): "
            f"{both.rates(n)} (x{n / both.wall / base_rate:.2f} of the baseline)"
        )
        if split is not None:
            print("CPU by level (--split), in the writing process:")
            print("\n".join(split.lines(n)))
        print(
            f"peak RSS {rss1:.0f} MB (before the dedupe run {rss0:.0f} MB); index holds "
            f"{len(assigner.index)} signatures in about {index_mb:.0f} MB"
        )
        events = assigner.events.index if assigner.events.enabled else None
        event_mb = events.nbytes / 1e6 if events is not None else 0.0
        print(
            f"event level (event_threshold {settings.event_threshold}): its index holds "
            f"{len(events) if events is not None else 0} articles in about {event_mb:.0f} MB"
        )
        print(f"reprint recall: {q['found']}/{q['reprints']} = {recall:.4f} (target >= 0.97)")
        wrong_by_text = (q["merged"] - q["merged_by_text"]) / q["originals"]
        print(
            f"false merges: {q['merged']}/{q['originals']} originals joined another story = "
            f"{merged:.3%} (target <= 0.1%); of them {q['merged_by_text']} share at least "
            f"the threshold ({settings.threshold}) of their 3-word shingles with an earlier "
            f"article of that story (right by the text: the synthetic originals drew the same "
            f"long corpus block), {q['merged'] - q['merged_by_text']} do not = "
            f"{wrong_by_text:.3%}; reprints put in a wrong story: {q['wrong']} = "
            f"{wrong:.3%} of reprints"
        )
        note = f"{len(articles):,} articles, 10% reprints"
        results.record(
            BENCH,
            "insert with dedupe (with storage)",
            rate,
            "articles/s",
            baseline=base_rate,
            baseline_label="storing without dedupe",
            target=1000,
            note=note + ", writing process (items prepared as parse workers do)",
        )
        results.record(
            BENCH,
            "insert with dedupe (with storage), CPU",
            cpu_rate,
            "articles/s",
            baseline=base_cpu,
            baseline_label="storing without dedupe",
            note=note + ", writing process, CPU time",
        )
        results.record(
            BENCH,
            "insert with dedupe, end to end in one process",
            n / both.wall,
            "articles/s",
            baseline=base_rate,
            baseline_label="storing without dedupe",
            note=note + ", preparing included",
        )
        results.record(BENCH, "reprint recall", recall, target=0.97, note=note)
        results.record(
            BENCH, "false merges (originals)", 100 * merged, "%", target=0.1, better="lower"
        )
        results.record(
            BENCH,
            "false merges wrong by the text (originals)",
            100 * wrong_by_text,
            "%",
            target=0.1,
            better="lower",
            note="merges of originals sharing less than the threshold of their shingles",
        )
        results.record(BENCH, "reprints in a wrong story", 100 * wrong, "%", better="lower")
        results.record(BENCH, "index memory", index_mb, "MB", better="lower", note=note)
        results.record(BENCH, "event index memory", event_mb, "MB", better="lower", note=note)
        results.record(BENCH, "peak RSS while inserting", rss1, "MB", better="lower", note=note)
        db.close()
        del assigner, index

        load = load_in_new_process(Path(tmp) / "bench.db", settings)
        print(
            f"restart: a new process loads {load['signatures']} stored signatures in "
            f"{load['seconds']:.2f} s; it then holds {load['held_mb']:.0f} MB more than before "
            f"(index about {load['index_mb']:.0f} MB; peak RSS {load['peak_mb']:.0f} MB)"
        )
        results.record(
            BENCH,
            "load signatures in a new process",
            load["seconds"],
            "s",
            better="lower",
            note=f"{load['signatures']:,} signatures",
        )
        results.record(
            BENCH,
            "memory held after loading",
            load["held_mb"],
            "MB",
            better="lower",
            note=f"{load['signatures']:,} signatures",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
