"""The labelled set in tests/fixtures/dedupe/labelled.json: documents and same/different pairs."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "dedupe" / "labelled.json"


def _reprint(r: dict, original: dict) -> dict:
    paragraphs = original["text"].split("\n\n")
    kept = [paragraphs[i] for i in r["keep"]]
    body = "\n\n".join(kept)
    for old, new in r.get("replace", []):
        if old not in body:
            raise ValueError(f"{r['id']}: {old!r} is not in the kept text")
        body = body.replace(old, new)
    text = "\n\n".join(p for p in (r.get("before", "").strip(), body, r.get("after", "")) if p)
    words = sum(len(p.split()) for p in kept) / len(original["text"].split())
    return {
        "id": r["id"],
        "topic": original["topic"],
        "story": original["id"],
        "source": r["source"],
        "title": r["title"],
        "text": text,
        "kept": round(words, 2),
    }


def documents(path: Path = FIXTURE) -> list[dict]:
    """Every document: originals first, then the other reports, then the reprints."""
    data = json.loads(path.read_text(encoding="utf-8"))
    originals = [{**d, "story": d["id"], "kept": 1.0} for d in data["originals"]]
    by_id = {d["id"]: d for d in originals}
    others = [{**d, "kept": None} for d in data["others"]]
    reprints = [_reprint(r, by_id[r["of"]]) for r in data["reprints"]]
    return originals + others + reprints


def pairs(docs: list[dict]) -> list[tuple[dict, dict, bool]]:
    """Every pair of documents on the same topic, and whether they are the same story."""
    return [
        (a, b, a["story"] == b["story"])
        for a, b in itertools.combinations(docs, 2)
        if a["topic"] == b["topic"]
    ]
