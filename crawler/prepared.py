"""What story assignment reads from an article's words, computed once per article: where
the item is first parsed (a parse worker, through ``crawler.store.prepare_item``) or else
by the story assigner itself.

The story assigner runs in the one process that writes the archive; everything it needs
from the text that does not depend on the archive is here, so a crawl's parse workers can
compute it on other cores: the paragraph hashes (for site furniture), each word's hash
(the MinHash shingles are mixed from them), the fingerprint, and the event level's term
counts of the headline, lead and body. What depends on the archive is combined in the
writing process: which paragraphs are furniture (the near-duplicate index knows), the
signature over the other paragraphs' words, the event vector over the index's vocabulary.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from crawler.event_terms import (
    BODY_WORDS,
    LEAD_CHARS,
    body_terms,
    headline_lead_body,
    lead_terms,
)
from crawler.fingerprints import Paragraphs, fingerprint, paragraphs
from crawler.minhash import Signer, shingles, word_hashes

_WORD = re.compile(r"\w+")  # crawler.fingerprints' word


@dataclass(frozen=True)
class PreparedText:
    """One article's text as story assignment reads it (picklable: it crosses from a parse
    worker to the writing process)."""

    paragraphs: np.ndarray  # uint64: each non-empty paragraph's hash (fingerprints.paragraphs)
    lengths: np.ndarray  # int32: each paragraph's number of words
    words: np.ndarray  # uint32: each word's hash (minhash.word_hashes), paragraphs in order
    fingerprint: str | None  # fingerprints.fingerprint of the title and the text
    # event_terms.headline_lead_body of the title and the whole text (no paragraph left out
    # as furniture: when the index knows some, the writer reads the text again); None when
    # not computed
    terms: tuple[Counter, Counter, Counter] | None
    size: tuple[int, int]  # len(title), len(text): tells a preparation of other words
    # the signature of the whole text (no paragraph left out) by a signer with these
    # params, when one was given: most articles carry no known furniture and use it as it is
    signed: str | None = None
    sig: np.ndarray | None = None
    # the language the terms were read in (their stop words and word cutting depend on it)
    language: str | None = None

    def __reduce__(self) -> tuple:
        # Each article's prepared text crosses from the parse worker to the writer: its
        # arrays as raw bytes pickle and unpickle in about half the time numpy's own
        # reduction takes (which rebuilds each array through a helper and its dtype).
        return (
            _restore,
            (
                _raw(self.paragraphs),
                _raw(self.lengths),
                _raw(self.words),
                self.fingerprint,
                self.terms,
                self.size,
                self.signed,
                None if self.sig is None else _raw(self.sig),
                self.language,
            ),
        )

    def fits(self, title: str | None, text: str | None, language: str | None) -> bool:
        """Whether this was prepared from this title and text (by their lengths: a cheap
        guard against an item whose words changed after it was prepared) in this language
        (an item given its source's language after it was prepared is read again)."""
        return self.size == (len(title or ""), len(text or "")) and self.language == language

    def signature(self, signer: Signer, furniture: np.ndarray) -> np.ndarray | None:
        """The MinHash signature of the text without the paragraphs marked in ``furniture``
        (equal to ``minhash.sign_article``'s)."""
        if not furniture.any():
            if self.signed == signer.params:
                return self.sig
            return signer.sign_hashes(self.words)
        return signer.sign_hashes(self.words[np.repeat(~furniture, self.lengths)])

    def shingle_set(self, size: int, furniture: np.ndarray) -> set[int]:
        """The hashes of the text's ``size``-word shingles, the paragraphs marked in
        ``furniture`` left out: what the signature estimates, for an exact comparison."""
        h = self.words[np.repeat(~furniture, self.lengths)] if furniture.any() else self.words
        return set(shingles(h, size).tolist())

    def event_terms(
        self, title: str | None, text: str | None, language: str | None, furniture: np.ndarray
    ) -> tuple[Counter, Counter, Counter]:
        """The event level's term counts of the article (``event_terms.headline_lead_body``),
        the paragraphs marked in ``furniture`` left out: a "Follow us on Telegram" line at
        the top must not be every article's lead. The prepared counts when none is marked;
        else the parts of the text that furniture changes are read again."""
        if self.terms is None:
            return self._event_terms_read(title, text, language, furniture)
        if not furniture.any():
            return self.terms
        # The prepared counts of each part that the marked paragraphs do not reach: the
        # headline's always; the lead's when the text's first LEAD_CHARS characters stay
        # the same without them (usually furniture sits at the end: "The post appeared
        # first on..."); the body's when the paragraphs before the first marked one hold
        # BODY_WORDS words. Equal inputs give equal counts, in the same order (new terms'
        # ids follow it). Storing the 200 real feeds' items: see the commit message.
        head, lead, body = self.terms
        lead_text = lead_without_furniture(text, furniture, LEAD_CHARS)
        if (lead_text or "")[:LEAD_CHARS] != (text or "")[:LEAD_CHARS]:
            lead = lead_terms(lead_text, language)
        if int(self.lengths[: int(furniture.argmax())].sum()) < BODY_WORDS:
            body = body_terms(first_words(paragraph_words(text), furniture, BODY_WORDS), language)
        return head, lead, body

    def _event_terms_read(
        self, title: str | None, text: str | None, language: str | None, furniture: np.ndarray
    ) -> tuple[Counter, Counter, Counter]:
        """:meth:`event_terms` from the text alone (no prepared counts)."""
        # Only the start of the text is read again (the lead's characters, the body's
        # words), not every paragraph hashed and every line tested: about one article in
        # four carries known furniture (storing the 200 real feeds' items: 6.9-7.3 s of
        # CPU before, 6.7-6.8 s after, two paired runs).
        words = first_words(paragraph_words(text), furniture, BODY_WORDS)
        lead = lead_without_furniture(text, furniture, LEAD_CHARS)
        return headline_lead_body(title, lead, language, words=words)


def _restore(
    paragraphs: tuple,
    lengths: tuple,
    words: tuple,
    fingerprint: str | None,
    terms: tuple[Counter, Counter, Counter] | None,
    size: tuple[int, int],
    signed: str | None,
    sig: tuple | None,
    language: str | None,
) -> PreparedText:
    """A pickled :class:`PreparedText` again (its arrays writable, as they were made)."""
    return PreparedText(
        paragraphs=_array(*paragraphs),
        lengths=_array(*lengths),
        words=_array(*words),
        fingerprint=fingerprint,
        terms=terms,
        size=size,
        signed=signed,
        sig=None if sig is None else _array(*sig),
        language=language,
    )


def _raw(a: np.ndarray) -> tuple[str, tuple[int, ...], bytes]:
    return a.dtype.str, a.shape, a.tobytes()


def _array(dtype: str, shape: tuple[int, ...], data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype).reshape(shape).copy()


def prepare_text(
    title: str | None,
    text: str | None,
    language: str | None,
    *,
    terms: bool = True,
    signer: Signer | None = None,
) -> PreparedText:
    """Prepare an article's title and text (its ``text``, else its summary: what the story
    assigner reads); ``terms=False`` leaves out the event level's term counts; with a
    ``signer``, the signature of the whole text is computed too."""
    parsed = paragraphs(text)
    words = parsed.all_words()
    hashes = word_hashes(words)
    return PreparedText(
        paragraphs=parsed.hashes,
        lengths=np.fromiter(map(len, parsed.words), np.int32, len(parsed.words)),
        words=hashes,
        fingerprint=fingerprint(title, None, parsed=parsed),
        terms=headline_lead_body(title, text, language, words=words) if terms else None,
        size=(len(title or ""), len(text or "")),
        signed=signer.params if signer is not None else None,
        sig=signer.sign_hashes(hashes) if signer is not None else None,
        language=language,
    )


def text_shingles(
    text: str | None, furniture: Callable[[np.ndarray], np.ndarray], size: int
) -> set[int]:
    """:meth:`PreparedText.shingle_set` of a stored text, ``furniture`` marking which of its
    paragraph hashes to leave out."""
    parsed = paragraphs(text)
    words = parsed.all_words(skip=furniture(parsed.hashes))
    return set(shingles(word_hashes(words), size).tolist())


def paragraph_words(text: str | None) -> Iterator[list[str]]:
    """The normalized words of each non-empty paragraph of ``text``, one paragraph at a
    time: ``fingerprints.paragraphs(text).words`` without the hashes, read only as far as
    the caller goes."""
    if not text:
        return
    for line in unicodedata.normalize("NFKC", text).casefold().splitlines():
        words = _WORD.findall(line)
        if words:
            yield words


def lead_without_furniture(text: str | None, furniture: np.ndarray, chars: int) -> str | None:
    """The start of ``event_stories.without_furniture(text, furniture)``: its first
    ``chars`` characters are the same (what the lead is read from), the lines after them
    are not looked at."""
    if not text or not furniture.any():
        return text
    # Imported here: only the writing process gets here, and crawler.event_stories pulls in
    # sqlite_utils (0.13 s of each parse worker's start-up otherwise).
    from crawler.event_stories import _has_words

    flags = iter(furniture.tolist())
    kept: list[str] = []
    size = -1  # the length of "\n".join(kept)
    for line in text.splitlines():
        if _has_words(line) and next(flags, False):
            continue
        kept.append(line)
        size += len(line) + 1
        if size >= chars:
            break
    return "\n".join(kept)


def first_words(
    parsed: Paragraphs | Iterable[list[str]], skip: np.ndarray, limit: int
) -> list[str]:
    """The first ``limit`` words (or a few more: whole paragraphs) of a text, the paragraphs
    marked in ``skip`` left out: what the event level reads the body from. ``parsed``: the
    text's :class:`Paragraphs`, or its :func:`paragraph_words`."""
    words: list[str] = []
    paragraphs_words = parsed.words if isinstance(parsed, Paragraphs) else parsed
    for paragraph, furniture in zip(paragraphs_words, skip.tolist(), strict=True):
        if not furniture:
            words.extend(paragraph)
            if len(words) >= limit:
                break
    return words
