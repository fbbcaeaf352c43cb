"""Story assignment from prepared items (crawler.prepared, crawler.store.prepare_item): an
item prepared in a parse worker and shipped to the writer gets exactly the story, the
fingerprint and the stored signature it gets when the writer reads its words itself."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pytest

from crawler import archive
from crawler.config import DedupeSettings
from crawler.event_terms import headline_lead_body
from crawler.fingerprints import fingerprint, tokens
from crawler.minhash import Signer, shingle_hashes
from crawler.prepared import prepare_text
from crawler.store import Batch, prepare_item, store_items
from crawler.stories import StoryAssigner, rebuild_stories

# A made-up vocabulary: the texts below are random sentences over it.
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "qu", "di"]
FOOTERS = [
    "Follow our channel for the latest news from the region.",
    "All rights reserved. Copying without a link is prohibited.",
    "Subscribe to the evening newsletter.",
]


def corpus(n: int, seed: int = 3) -> list[dict]:
    """n items in arrival order: originals, reprints with footers and another headline,
    and second reports of an event (the same names and numbers in other sentences)."""
    rnd = random.Random(seed)
    vocab = ["".join(rnd.choices(SYLLABLES, k=rnd.randint(2, 4))) for _ in range(400)]

    def sentence(words=()):
        body = [rnd.choice(vocab) for _ in range(rnd.randint(8, 16))] + list(words)
        rnd.shuffle(body)
        return " ".join(body).capitalize() + "."

    out: list[dict] = []
    for i in range(n):
        kind = rnd.random()
        if out and kind < 0.25:  # a reprint: lines dropped, furniture added, new headline
            src = out[rnd.randrange(len(out))]
            lines = [x for x in src["text"].split("\n") if x not in FOOTERS]
            keep = lines[: max(1, len(lines) - 1)]
            text = "\n".join(keep + rnd.sample(FOOTERS, rnd.randint(1, 2)))
            title = "Update: " + src["title"]
        elif out and kind < 0.4:  # another outlet's report of an earlier event
            src = out[rnd.randrange(len(out))]
            names = src["names"]
            text = "\n".join(sentence(names) for _ in range(rnd.randint(2, 4)))
            title = " ".join(names[:3]).title() + " " + rnd.choice(vocab)
        else:
            names = [rnd.choice(vocab).title() for _ in range(4)] + [str(rnd.randint(10, 999))]
            text = "\n".join(sentence(names[:2]) for _ in range(rnd.randint(2, 6)))
            if rnd.random() < 0.5:
                text += "\n" + rnd.choice(FOOTERS)
            title = " ".join(names[:3])
            out.append({"title": title, "text": text, "names": names, "i": i})
            continue
        out.append({"title": title, "text": text, "names": src["names"], "i": i})
    return out


def item(a: dict) -> dict:
    return {
        "url": f"https://s{a['i'] % 7}.example/{a['i']}",
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


def store_all(db, items: list[dict], settings: DedupeSettings, chunk: int = 20) -> None:
    assigner = StoryAssigner(db, settings)
    for start in range(0, len(items), chunk):
        with archive.write(db):
            for it in items[start : start + chunk]:
                source = it["url"].split("/")[2]
                store_items(db, source, [it], assigner, batch=Batch(db, source, [it]))


def archive_state(db) -> tuple:
    articles = db.execute("SELECT id, story_id, fingerprint FROM articles ORDER BY id").fetchall()
    stories = db.execute("SELECT id, article_id, article_count, sources FROM stories").fetchall()
    sigs = db.execute("SELECT article_id, sig, paragraphs FROM minhashes ORDER BY 1").fetchall()
    return articles, sorted(stories), sigs


@pytest.mark.parametrize("event_threshold", [0.36, 0.0])
def test_prepared_items_get_the_stories_of_unprepared_ones(tmp_path, event_threshold):
    settings = DedupeSettings(event_threshold=event_threshold)
    arts = corpus(160)
    plain = archive.open_archive(tmp_path / "plain.db")
    store_all(plain, [item(a) for a in arts], settings)
    shipped = archive.open_archive(tmp_path / "shipped.db")
    # as a parse worker prepares them and they cross to the writing process
    store_all(shipped, [pickle.loads(pickle.dumps(prepare_item(item(a)))) for a in arts], settings)
    want, got = archive_state(plain), archive_state(shipped)
    assert got == want
    articles, stories, _ = want
    # the corpus exercises every path: reprints joined, furniture learnt, events joined
    assert len(stories) < len(articles) - 20
    index = StoryAssigner(plain, settings).index
    assert any(index.boilerplate(prepare_text(None, f, "en").paragraphs).any() for f in FOOTERS)


def test_rebuild_assigns_what_the_live_path_assigned(tmp_path):
    db = archive.open_archive(tmp_path / "a.db")
    arts = corpus(120, seed=5)
    store_all(db, [prepare_item(item(a)) for a in arts], DedupeSettings())
    before = archive_state(db)
    rebuild_stories(db, DedupeSettings())
    assert archive_state(db)[0] == before[0]


def test_an_item_whose_words_changed_after_preparing_is_read_again(db):
    first = prepare_item(item({"i": 1, "title": "Kalo mize", "text": "Short words here."}))
    first["text"] = "Other words entirely, and more of them than before."
    with archive.write(db):
        store_items(db, "s", [first], StoryAssigner(db))
    stored = db.execute("SELECT fingerprint, content_hash FROM articles").fetchone()
    want = fingerprint("Kalo mize", first["text"])
    assert stored == (want, want)


def test_a_preparation_in_another_language_does_not_fit():
    # an item given its source's language after it was prepared is read again: stop words
    # and word cutting of the event terms depend on the language
    title, text = "Die Wahl in Berlin", "Die Partei ist mit der Wahl zufrieden."
    prepared = prepare_text(title, text, None)
    assert prepared.fits(title, text, None)
    assert not prepared.fits(title, text, "de")
    assert prepare_text(title, text, "de").terms != prepared.terms


def test_a_signature_prepared_with_other_parameters_is_not_used(db):
    arts = corpus(3)
    settings = DedupeSettings(num_perm=64)
    with archive.write(db):
        store_items(db, "s", [prepare_item(item(arts[0]))], StoryAssigner(db, settings))
    sig = db.execute("SELECT sig FROM minhashes").fetchone()[0]
    text = arts[0]["text"]
    assert sig == Signer(num_perm=64).sign(text).tobytes()


def test_prepared_event_terms_are_what_the_event_level_reads(db):
    assigner = StoryAssigner(db)
    for a in corpus(40, seed=9):
        prepared = prepare_text(a["title"], a["text"], "en")
        events = assigner.events
        mine = events.index.vectors(*prepared.terms)
        theirs = events.vector(a["title"], a["text"], "en", words=tokens(a["text"]))
        assert np.array_equal(mine.ids, theirs.ids)
        assert np.array_equal(mine.counts, theirs.counts)


def test_the_signature_leaves_out_the_furniture_paragraphs():
    text = "\n".join(corpus(1)[0]["text"].split("\n") + FOOTERS)
    signer = Signer()
    parsed_words = [tokens(line) for line in text.split("\n")]
    for prepared in (prepare_text("T", text, "en"), prepare_text("T", text, "en", signer=signer)):
        n = len(prepared.paragraphs)
        for mask in (np.zeros(n, bool), np.arange(n) >= n - 2, np.arange(n) == 0):
            kept = [words for words, skip in zip(parsed_words, mask, strict=True) if not skip]
            want = signer.sign_words([w for words in kept for w in words])
            assert np.array_equal(prepared.signature(signer, mask), want)


def test_event_terms_leave_out_the_furniture_paragraphs():
    a = corpus(1)[0]
    text = "\n".join([FOOTERS[0], *a["text"].split("\n"), FOOTERS[1]])
    prepared = prepare_text(a["title"], text, "en")
    n = len(prepared.paragraphs)
    none = np.zeros(n, bool)
    assert prepared.event_terms(a["title"], text, "en", none) == headline_lead_body(
        a["title"], text, "en"
    )
    mask = (np.arange(n) == 0) | (np.arange(n) == n - 1)
    body = "\n".join(a["text"].split("\n"))
    want = headline_lead_body(a["title"], body, "en")
    assert prepared.event_terms(a["title"], text, "en", mask) == want
    assert want != prepared.terms  # the footer line was the lead


def _pair(seed: int, shared: int) -> tuple[str, str]:
    """Two 300-word texts whose first ``shared`` words are the same."""
    rnd = random.Random(seed)
    vocab = ["".join(rnd.choices(SYLLABLES, k=4)) for _ in range(5000)]
    a = [rnd.choice(vocab) for _ in range(300)]
    b = a[:shared] + [rnd.choice(vocab) for _ in range(300 - shared)]
    return " ".join(a), " ".join(b)


def _exact(a: str, b: str) -> float:
    sa, sb = (set(shingle_hashes(tokens(t), 3).tolist()) for t in (a, b))
    return len(sa & sb) / len(sa | sb)


def _estimate(a: str, b: str) -> float:
    signer = Signer()
    return float((signer.sign(a) == signer.sign(b)).mean())


def _find(shared: int, want) -> tuple[str, str]:
    for seed in range(2000):
        a, b = _pair(seed, shared)
        if want(_exact(a, b), _estimate(a, b)):
            return a, b
    raise AssertionError("no such pair")


def _joins(db, a: str, b: str) -> bool:
    assigner = StoryAssigner(db, DedupeSettings(event_threshold=0))
    with archive.write(db):
        store_items(db, "one", [item({"i": 1, "title": "First", "text": a})], assigner)
        store_items(db, "two", [item({"i": 2, "title": "Second", "text": b})], assigner)
    first, second = (r[0] for r in db.execute("SELECT story_id FROM articles ORDER BY id"))
    return first == second


def test_an_article_whose_estimate_overshoots_the_threshold_stays_apart(db):
    # sharing 27% of their shingles, estimated at 0.3 or more by MinHash's chance
    a, b = _find(125, lambda exact, est: exact < 0.3 and est >= 0.3)
    assert not _joins(db, a, b)


def test_an_article_sharing_the_threshold_of_its_shingles_joins(db):
    a, b = _find(150, lambda exact, est: exact >= 0.3 and 0.3 <= est < 0.5)
    assert _joins(db, a, b)
