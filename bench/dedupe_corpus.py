"""The synthetic archive of bench_dedupe.py (and bench/stories_scale.py): articles drawn from
the sentences of ../shared/corpora/real-feeds with 10% planted reprints, and the reprint
quality read back from the story ids (see ``synthesize`` and ``quality``)."""

from __future__ import annotations

import html
import random
import re
import sys
from pathlib import Path

# before results, which imports crawler (see bench_stories.py)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import results  # noqa: E402

CORPUS = results.corpus("real-feeds")

from crawler.fingerprints import tokens  # noqa: E402
from crawler.minhash import shingle_hashes  # noqa: E402

_TAG = re.compile(r"<[^>]+>")
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")
FURNITURE = [
    "Home | News | World | Politics",
    "Follow us on Telegram and WhatsApp for the latest updates.",
    "Advertisement",
    "Share this article: Facebook Twitter LinkedIn Email",
    "Sign up for our morning newsletter and get the top stories in your inbox.",
    "All rights reserved. Reproduction without a hyperlink to the source is prohibited.",
    "Related: Government announces new budget measures",
    "Related: Weather warning issued for the weekend",
    "Reading time: 3 minutes",
    "(Reporting by our correspondents; editing by the news desk)",
    "Comments are closed.",
    "Photo: open sources",
]
REWORD = ["UPDATE:", "Report:", "Watch:", "Breaking:", "Analysis:", "Explainer:"]


def corpus_items() -> tuple[list[str], list[str], list[int]]:
    """Sentences, titles and per-item sentence counts from the real feeds."""
    import feedparser

    sentences: dict[str, None] = {}
    titles, counts = [], []
    for path in sorted(p for p in CORPUS.rglob("*") if p.is_file()):
        feed = feedparser.parse(path.read_bytes(), sanitize_html=False, resolve_relative_uris=False)
        for e in feed.entries:
            raw = (e.get("content") or [{}])[0].get("value") or e.get("summary") or ""
            text = " ".join(html.unescape(_TAG.sub(" ", raw)).split())
            parts = [s for s in _SENT.split(text) if len(s.split()) >= 6]
            if e.get("title"):
                titles.append(" ".join(html.unescape(e.title).split()))
            if parts:
                counts.append(len(parts))
                sentences.update(dict.fromkeys(parts))
    return list(sentences), titles, counts


def synthesize(n: int, seed: int = 7) -> list[dict]:
    """n articles in arrival order; 10% are reprints of an earlier original."""
    rnd = random.Random(seed)
    sentences, titles, counts = corpus_items()
    print(
        f"corpus: {len(titles)} items, {len(sentences)} distinct sentences, "
        f"median {sorted(counts)[len(counts) // 2]} sentences per item"
    )
    vocab = [w for x in sentences[:20000] for w in x.split()]
    out: list[dict] = []
    originals: list[int] = []
    for i in range(n):
        if originals and rnd.random() < 0.1:
            # a reprint of a recent original (wire copy runs within days)
            k = originals[-rnd.randint(1, min(len(originals), 5000))]
            src = out[k]
            sents = src["sentences"]
            drop = set(rnd.sample(range(len(sents)), round(len(sents) * rnd.uniform(0.1, 0.4))))
            keep = [x for j, x in enumerate(sents) if j not in drop] or sents[:1]
            body = keep[:]
            before = rnd.sample(FURNITURE, rnd.randint(0, 2))
            after = rnd.sample(FURNITURE, rnd.randint(1, 3))
            words = src["title"].split()
            if len(words) > 4:
                words.pop(rnd.randrange(len(words)))
            title = f"{rnd.choice(REWORD)} {' '.join(words)}"
            text = "\n\n".join(before + [" ".join(body)] + after)
            out.append({"i": i, "of": k, "title": title, "text": text, "sentences": keep})
        else:
            m = max(3, min(25, rnd.choice(counts)))
            # 90k originals draw on ~110k real sentences, so the same sentence lands in
            # several unrelated originals; swapping a fifth of the words for random corpus
            # words keeps that artefact from posing as shared text (two copies of one
            # sentence then share about a quarter of their 3-word shingles).
            sents = [
                " ".join(w if rnd.random() >= 0.2 else rnd.choice(vocab) for w in x.split())
                for x in rnd.sample(sentences, m)
            ]
            title = f"{rnd.choice(titles)} ({i})"
            out.append(
                {"i": i, "of": None, "title": title, "text": " ".join(sents), "sentences": sents}
            )
            originals.append(i)
    return out


def item(a: dict) -> dict:
    return {
        "url": f"https://site{a['i'] % 50}.example/news/{a['i']}",
        "guid": None,
        "title": a["title"],
        "text": a["text"],
        "summary": None,
        "author": None,
        "language": "en",
        "categories": [],
        "published_at": None,
        "updated_at": None,
    }


def quality(
    articles: list[dict], story_ids: list[int], first_of: dict[int, int], threshold: float
) -> dict:
    """Reprint recall and the two kinds of false merge, from the stored story ids.

    An original merged into another story is also checked against the text: the exact
    Jaccard similarity of its 3-word shingles (the bench's furniture lines left out) with
    each earlier article of the story it joined. At or above the reprint threshold the
    merge is what the reprint level is defined to do: the synthesizer draws "sentences"
    from real feed items, and some are long blocks (code, chart scripts, style sheets the
    sentence splitter cannot cut) that recur nearly unchanged in several items, so two
    originals can truly share a third of their text. Those are counted apart ("right by
    the text"); the rest are wrong by any reading."""
    reprints = [a for a in articles if a["of"] is not None]
    originals = [a for a in articles if a["of"] is None]
    found = sum(story_ids[a["i"]] == story_ids[a["of"]] for a in reprints)
    # an original that did not start its own story was merged into another one
    owner: dict[int, int] = {}
    merged_into: list[dict] = []
    for a in originals:
        if owner.setdefault(story_ids[a["i"]], a["i"]) != a["i"]:
            merged_into.append(a)
    members: dict[int, list[int]] = {}
    for a in articles:
        members.setdefault(story_ids[a["i"]], []).append(a["i"])
    by_text = 0
    for a in merged_into:
        mine = _shingles(a["text"])
        earlier = [articles[j] for j in members[story_ids[a["i"]]] if j < a["i"]]
        best = max((_jaccard(mine, _shingles(b["text"])) for b in earlier), default=0.0)
        by_text += best >= threshold
    # a reprint in neither its original's story nor a story of its own: a wrong merge
    wrong = sum(
        story_ids[a["i"]] != story_ids[a["of"]] and first_of[story_ids[a["i"]]] != a["i"] + 1
        for a in reprints
    )
    return {
        "reprints": len(reprints),
        "originals": len(originals),
        "found": found,
        "merged": len(merged_into),
        "merged_by_text": by_text,
        "wrong": wrong,
    }


def _shingles(text: str) -> set[int]:
    lines = [x for x in text.split("\n\n") if x not in FURNITURE]
    return set(shingle_hashes(tokens("\n".join(lines)), 3).tolist())


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0
