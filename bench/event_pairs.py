"""The event level's evidence at the pairs level: how well each kind of evidence separates
same-event from different-event pairs, before it goes through the real assigner.

Cheap and order-free (bench/bench_stories.py is the real assigner, in one order): every
labelled pair of the SemEval-2022 Task 8 development sample (same-language pairs; Overall
<= 1.5 same, >= 3 different) and every pair of ECB+ articles within a topic is scored by
the event level's views (crawler.event_terms: the whole, the long view, the text, the
headline) with document frequencies over the corpus's articles of that language, and the
rule of crawler/event_stories.py (mean of the whole and long cosines, the text, headline
and numbers checks, shared figures easing the threshold) is swept over thresholds.
Printed per variant: SemEval same-story pairs joined at a budget of different-story pairs
(each half, as bench_stories.py halves them, and all), ECB+ recall at pairwise precision
>= 0.9 within topics, both at the shipped threshold, and per language. Variants (measured,
see docs/architecture.md): ``before`` (the rule without the figures' ease), ``shipped``,
``prior:C:W[:wordlist]`` (wordfreq's rarity in the idf) and ``lemma``/``lemma6``/
``lemma8`` (simplemma's lemmas, whole or cut, for prefixes); bench/event_fit.py fits a
logistic regression on these features, one half against the other.

Run: .venv/bin/python bench/event_pairs.py [--variants before,shipped,prior:4:1:small]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import results

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PAIRS = results.corpus("story-pairs") / "semeval2022-task8-train-sample.csv"
CLUSTERS = results.corpus("story-clusters") / "ecbplus.jsonl"

from bench_stories import headline  # noqa: E402
from event_variants import index_idf, lemma_terms, prior_idf  # noqa: E402

from crawler import event_terms  # noqa: E402
from crawler.fingerprints import tokens  # noqa: E402


def load_semeval():
    docs: dict[str, tuple[str, str]] = {}
    pairs = []
    scored = 0
    with PAIRS.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            a, b = row["pair_id"].split("_")
            docs.setdefault(a, (row["lang1"], row["text1"]))
            docs.setdefault(b, (row["lang2"], row["text2"]))
            overall = float(row["Overall"])
            if overall <= 1.5 or overall >= 3:
                # the halves of bench_stories.py: by position among the scored pairs
                if row["lang1"] == row["lang2"]:
                    pairs.append((a, b, overall <= 1.5, scored % 2))
                scored += 1
    return docs, pairs


def load_ecb():
    docs, gold, topic = {}, {}, {}
    with CLUSTERS.open(encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            docs[d["doc_id"]] = ("en", d["text"])
            gold[d["doc_id"]] = d["story_id"]
            topic[d["doc_id"]] = d["topic"]
    by_topic = defaultdict(list)
    for k, t in topic.items():
        by_topic[t].append(k)
    pairs = []
    for t, keys in by_topic.items():
        for i, a in enumerate(keys):
            for b in keys[i + 1 :]:
                pairs.append((a, b, gold[a] == gold[b], t % 2))
    return docs, pairs


def read_terms(docs, terms_fn=None):
    """{key: (language, head, lead, body)} Counters as the event level reads them."""
    fn = terms_fn or event_terms.headline_lead_body
    out = {}
    for key, (lang, text) in docs.items():
        title, body = headline(text)
        out[key] = (lang, *fn(title, body, lang, words=tokens(body)))
    return out


def doc_freqs(terms):
    df: dict[str, Counter] = defaultdict(Counter)
    n: Counter = Counter()
    for lang, h, ld, b in terms.values():
        n[lang] += 1
        df[lang].update(set(h) | set(ld) | set(b))
    return df, n


def views(h: Counter, ld: Counter, b: Counter) -> dict[str, dict[str, float]]:
    tw = event_terms.TITLE_WEIGHT
    allc = Counter({t: tw * c for t, c in h.items()}) + ld
    return {
        "all": allc,
        "long": allc + b,
        "text": ld + b,
        "headline": h,
    }


def weigh(counts: Counter, idf) -> dict[str, float]:
    w = {t: (1 + math.log(c)) * idf(t) for t, c in counts.items() if c > 0}
    norm = math.sqrt(sum(x * x for x in w.values())) or 1.0
    return {t: x / norm for t, x in w.items()}


def cos(a: dict, b: dict) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(x * b.get(t, 0.0) for t, x in a.items())


def features(terms, pairs, idf_for):
    """Per pair: cosines of the four views, numbers stats, names share, sizes."""
    cache: dict[str, dict] = {}

    def vec(key):
        v = cache.get(key)
        if v is None:
            lang, h, ld, b = terms[key]
            idf = idf_for(lang)
            vs = views(h, ld, b)
            v = {name: weigh(c, idf) for name, c in vs.items()}
            allterms = set(h) | set(ld) | set(b)
            v["#"] = {t for t in allterms if t[0] == "#"}
            v["@"] = {t for t in allterms if t[0] == "@"}
            v["n"] = sum(ld.values()) + sum(b.values())
            cache[key] = v
        return v

    rows = []
    for a, b, same, half in pairs:
        va, vb = vec(a), vec(b)
        na, nb = va["#"], vb["#"]
        shared_n = len(na & nb)
        ma, mb = va["@"], vb["@"]
        rows.append(
            [
                cos(va["all"], vb["all"]),
                cos(va["long"], vb["long"]),
                cos(va["text"], vb["text"]),
                cos(va["headline"], vb["headline"]),
                len(na),
                len(nb),
                shared_n,
                len(ma & mb) / max(1, min(len(ma), len(mb))),
                min(va["n"], vb["n"]) / max(1, va["n"], vb["n"]),
                float(same),
                float(half),
            ]
        )
    return np.array(rows)


COLS = ["all", "long", "text", "head", "na", "nb", "nshared", "names", "lenratio", "y", "half"]


def rule_joins(f: np.ndarray, t: float, *, ease: float = 0.8) -> np.ndarray:
    """crawler/event_stories.py's decision at threshold t (pair-level: the other article
    stands for the story); ``ease``: its NUMBERS_EASE (1: the rule before it)."""
    short, long, text, head = f[:, 0], f[:, 1], f[:, 2], f[:, 3]
    na, nb, ns = f[:, 4], f[:, 5], f[:, 6]
    fewer = np.minimum(na, nb)
    differ = (fewer >= 3) & (ns < np.maximum(1.0, 0.25 * fewer))
    agree = (ns >= 2) & (ns >= 0.5 * fewer)
    t = np.where(agree, t * ease, t)
    return (
        ~differ
        & (short >= 0.75 * t)
        & ((short + long) / 2 >= t)
        & (long >= 0.9 * t)
        & (text >= 0.5 * t)
        & (head >= 0.15)
    )


def rule_before(f: np.ndarray, t: float) -> np.ndarray:
    """The rule before shared figures eased the threshold (this session's baseline)."""
    return rule_joins(f, t, ease=1.0)


def recall_at(f: np.ndarray, joins_at, precision=0.9, grid=None):
    """Best recall with precision >= ``precision`` over thresholds; (recall, precision, t)."""
    y = f[:, 9] > 0
    best = (0.0, float("nan"), None)
    for t in grid if grid is not None else np.arange(0.15, 0.7, 0.01):
        j = joins_at(f, t)
        tp = int((j & y).sum())
        fp = int((j & ~y).sum())
        if tp + fp and tp / (tp + fp) >= precision and tp / y.sum() > best[0]:
            best = (tp / y.sum(), tp / (tp + fp), round(float(t), 3))
    return best


def at_threshold(f, joins_at, t):
    y = f[:, 9] > 0
    j = joins_at(f, t)
    tp, fp = int((j & y).sum()), int((j & ~y).sum())
    return tp / max(1, tp + fp), tp / y.sum(), tp, fp


def tp_at_fp(f, joins_at, max_fp, grid=None):
    """Most same pairs joined with at most ``max_fp`` different pairs joined."""
    y = f[:, 9] > 0
    best = (0, None)
    for t in grid if grid is not None else np.arange(0.15, 0.7, 0.01):
        j = joins_at(f, t)
        if int((j & ~y).sum()) <= max_fp and int((j & y).sum()) > best[0]:
            best = (int((j & y).sum()), round(float(t), 2))
    return best


def report(name, sem, ecb, joins_at=rule_joins, t_ship=0.36):
    """One line: SemEval same pairs joined with at most 4 different pairs joined in each
    half (halves as bench_stories.py's) and at most 8 in all, at the best threshold for
    each; ECB+ recall at pairwise precision >= 0.9; and both at ``t_ship``."""
    line = [f"{name:14s}"]
    for half, k in ((0, 4), (1, 4), (None, 8)):
        f = sem if half is None else sem[sem[:, 10] == half]
        tp, t = tp_at_fp(f, joins_at, k)
        line.append(f"sem{'' if half is None else f' half {half + 1}'} {tp}@fp<={k} (t {t})")
    r, _, t = recall_at(ecb, joins_at)
    line.append(f"ECB+ R {r:.3f}@P>=0.9 (t {t})")
    p1, r1, tp, fp = at_threshold(sem, joins_at, t_ship)
    p2, r2, _, _ = at_threshold(ecb, joins_at, t_ship)
    line.append(f"| at {t_ship}: sem {tp}/{fp} P {p1:.3f} R {r1:.3f}, ECB+ P {p2:.3f} R {r2:.3f}")
    print("  ".join(line), flush=True)


def per_language(sem, pairs, docs, rule=rule_joins, t=0.36):
    """Same pairs joined / different pairs joined per language at threshold t."""
    j = rule(sem, t)
    c = defaultdict(lambda: [0, 0, 0])
    for i, (a, _, same, _) in enumerate(pairs):
        x = c[docs[a][0]]
        x[0] += same
        x[1] += bool(j[i]) and same
        x[2] += bool(j[i]) and not same
    print("    " + ", ".join(f"{k} {tp}/{p} -{fp}" for k, (p, tp, fp) in sorted(c.items())))


def measure(variant: str, sdocs, spairs, edocs, epairs, read) -> tuple:
    """(SemEval features, ECB+ features, decision rule) of one variant."""
    kind, *params = variant.split(":")
    st, et = read
    if kind.startswith("lemma"):  # lemma, lemma6, lemma8: simplemma's lemmas
        event_terms._KNOWN.clear()
        fn = lemma_terms(kind)
        st, et = read_terms(sdocs, fn), read_terms(edocs, fn)
        event_terms._KNOWN.clear()
    sdf, sn = doc_freqs(st)
    edf, en = doc_freqs(et)
    if kind == "prior":  # prior:C:W[:wordlist]: wordfreq's rarity in the idf
        c, w = float(params[0]), float(params[1])
        wl = params[2] if len(params) > 2 else "best"
        sem = features(st, spairs, lambda lang: prior_idf(sdf[lang], sn[lang], lang, c, w, wl))
        ecb = features(et, epairs, lambda lang: prior_idf(edf[lang], en[lang], lang, c, w, wl))
    else:
        sem = features(st, spairs, lambda lang: index_idf(sdf[lang], sn[lang]))
        ecb = features(et, epairs, lambda lang: index_idf(edf[lang], en[lang]))
    # "before": the rule without the figures' ease; every other variant with the shipped rule
    return sem, ecb, rule_before if kind == "before" else rule_joins


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--variants",
        default="before,shipped",
        help="comma-separated: before, shipped, prior:C:W[:wordlist], lemma, lemma6, lemma8",
    )
    args = ap.parse_args()
    if not (PAIRS.is_file() and CLUSTERS.is_file()):
        print("corpora not found; skipped")
        return 0
    sdocs, spairs = load_semeval()
    edocs, epairs = load_ecb()
    st, et = read_terms(sdocs), read_terms(edocs)
    for variant in args.variants.split(","):
        sem, ecb, rule = measure(variant, sdocs, spairs, edocs, epairs, (st, et))
        report(variant, sem, ecb, rule)
        per_language(sem, spairs, sdocs, rule)
    return 0


if __name__ == "__main__":
    sys.exit(main())
