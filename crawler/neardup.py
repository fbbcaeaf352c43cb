"""The in-memory near-duplicate index: MinHash signatures in one numpy matrix, an LSH hash
table over their bands, and site furniture learnt from the paragraphs articles share.

Every indexed article is a *row*: its signature (if its text was long enough to sign), its
story and source, and the hashes of its paragraphs. Rows are appended in the order articles
are first seen and dropped when they leave the window; dropped rows are purged in bulk now
and then, and the hash tables are rebuilt from the rows when they fill up.
"""

from __future__ import annotations

import numpy as np

from crawler.lsh import BucketTable, band_keys, band_salt, lsh_rows

# Site furniture ("Follow us on Telegram", a copyright line, a newsletter box) says nothing
# about which story an article belongs to, and on a short item it can weigh as much as the
# text: it is left out of the signatures of the articles that follow once, within the window,
# - this many different stories have carried the paragraph (three, not two, so that one
#   reprint that failed to join its story does not make the story's own paragraphs
#   furniture), or
FURNITURE_STORIES = 3
# - one source has published it in this many articles. Stories alone cannot tell when a site
#   wraps short items in long furniture: the furniture makes them look like one story, so
#   its first articles merge until this many have been seen. Three lets a source run one
#   story under three URLs before its paragraphs count as furniture.
FURNITURE_SOURCE_ARTICLES = 3

_EMPTY = np.empty(0, dtype=np.int64)
_EMPTY_U64 = np.empty(0, dtype=np.uint64)


class NearDuplicateIndex:
    """Signatures keyed by article id, with an LSH table, a time window and site furniture.

    ``query`` verifies LSH candidates against the stored signatures, so only articles whose
    estimated similarity reaches the threshold come back. ``expire`` drops entries seen
    before a cut-off (entries must be added in roughly increasing ``seen_at`` order).
    ``boilerplate`` says which of an article's paragraphs are furniture (see
    FURNITURE_STORIES and FURNITURE_SOURCE_ARTICLES).
    """

    def __init__(
        self,
        *,
        threshold: float,
        num_perm: int,
        furniture_stories: int = FURNITURE_STORIES,
        furniture_articles: int = FURNITURE_SOURCE_ARTICLES,
    ):
        self.threshold = threshold
        self.num_perm = num_perm
        self.rows = lsh_rows(threshold, num_perm)
        self.bands = num_perm // self.rows
        self.furniture_stories = furniture_stories
        self.furniture_articles = furniture_articles
        self._salt = band_salt(self.bands)
        # One row per indexed article, in the order they were added.
        self._n = 0
        self._sigs = np.zeros((0, num_perm), dtype=np.uint32)
        self._key = _EMPTY
        self._story = _EMPTY
        self._source = _EMPTY
        self._seen = np.empty(0, dtype="S32")
        self._alive = np.zeros(0, dtype=bool)
        self._signed = np.zeros(0, dtype=bool)
        self._row_of: dict[int, int] = {}
        self._signed_count = 0
        self._dead = 0
        self._expired_upto = 0  # rows before this one were all dropped
        self._cutoff = b""
        self._lsh = BucketTable()
        self._last_keys: tuple[np.ndarray | None, np.ndarray] = (None, _EMPTY_U64)
        # Paragraphs that are not furniture (yet): a (hash, row) log, and a table built
        # from it; furniture: hash -> when last seen.
        self._para = BucketTable()
        self._plog_hash = _EMPTY_U64
        self._plog_row = _EMPTY
        self._plog_n = 0
        self._furniture: dict[int, bytes] = {}

    def __len__(self) -> int:
        """How many signatures are indexed."""
        return self._signed_count

    def __contains__(self, key: int) -> bool:
        return key in self._row_of

    @property
    def nbytes(self) -> int:
        """About how much memory the index holds, in bytes."""
        arrays = (
            *(getattr(self, name) for name in _ROW_ARRAYS),
            self._plog_hash,
            self._plog_row,
        )
        return (
            sum(a.nbytes for a in arrays)
            + self._lsh.nbytes
            + self._para.nbytes
            + 100 * (len(self._row_of) + len(self._furniture))
        )

    # ------------------------------------------------------------------ adding, removing

    def add(
        self,
        key: int,
        sig: np.ndarray | None,
        seen_at: str = "",
        *,
        story: int | None = None,
        source: str | None = None,
        paragraphs: np.ndarray | None = None,
    ) -> None:
        """Index article ``key`` (replacing what it had): its signature (None for a text too
        short to sign) and, when its ``story`` is known, its paragraph hashes."""
        self.remove(key)
        row = self._new_row(key, story, source, seen_at)
        if sig is not None:
            if self._lsh.full(self.bands):
                self._rebuild_lsh()
            self._sigs[row] = sig
            self._signed[row] = True
            self._signed_count += 1
            self._lsh.add(self._keys_of(sig), row)
        if story is not None and paragraphs is not None and len(paragraphs):
            self._track_paragraphs(row, paragraphs)

    def replace(self, other: NearDuplicateIndex) -> None:
        """Become ``other`` (an index loaded again from the archive), in place: whoever holds
        this index (a daemon across its crawls) holds the reloaded one."""
        self.__dict__.update(other.__dict__)

    def merge_stories(self, keep: int, gone: int) -> None:
        """Count the articles of story ``gone`` as story ``keep``'s (crawler/story_merge.py)."""
        stories = self._story[: self._n]
        stories[stories == gone] = keep

    def remove(self, key: int) -> None:
        """Forget ``key`` (no error if it is not indexed)."""
        row = self._row_of.pop(key, None)
        if row is not None:
            self._kill(row)

    def expire(self, before: str) -> int:
        """Drop entries seen before ``before`` (ISO 8601 UTC); returns how many."""
        cut = before.encode()
        self._cutoff = max(self._cutoff, cut)
        dropped = 0
        while self._expired_upto < self._n and self._seen[self._expired_upto] < cut:
            row = self._expired_upto
            if self._alive[row]:
                del self._row_of[int(self._key[row])]
                self._kill(row)
                dropped += 1
            self._expired_upto += 1
        if self._dead > max(4096, self._n - self._dead):
            self._compact()
        return dropped

    # ------------------------------------------------------------------ looking up

    def query(self, sig: np.ndarray) -> list[tuple[float, int]]:
        """(similarity, key) of indexed signatures at or above the threshold, best first;
        ties go to the earliest key."""
        _, rows = self._lsh.get(self._keys_of(sig))
        if not len(rows):
            return []
        rows.sort()  # np.unique without its overhead (a look-up's own array)
        if len(rows) > 1:
            rows = rows[np.concatenate(([True], rows[1:] != rows[:-1]))]
        rows = rows[self._alive[rows] & self._signed[rows]]
        sims = (self._sigs[rows] == sig).sum(axis=1) / self.num_perm
        ok = sims >= self.threshold
        hits = zip(sims[ok].tolist(), self._key[rows[ok]].tolist(), strict=True)
        return sorted(hits, key=lambda h: (-h[0], h[1]))

    def boilerplate(self, paragraphs: np.ndarray) -> np.ndarray:
        """Which of these paragraph hashes are site furniture (a boolean mask)."""
        if not self._furniture:
            return np.zeros(len(paragraphs), dtype=bool)
        get, cutoff = self._furniture.get, self._cutoff
        return np.array(
            [(s := get(h)) is not None and s >= cutoff for h in paragraphs.tolist()], dtype=bool
        )

    # ------------------------------------------------------------------ bulk loading

    def load(
        self,
        keys: np.ndarray,
        seen: list[str],
        stories: np.ndarray,
        sources: list[str],
        sigs: np.ndarray,
        signed: np.ndarray,
        paragraphs: np.ndarray,
        paragraph_rows: np.ndarray,
    ) -> None:
        """Fill an empty index in one go: article ``keys`` (in first-seen order) with their
        ``seen`` times, ``stories`` and ``sources``; ``sigs`` holds one row per article
        (``signed`` says which are real); ``paragraphs[i]`` belongs to ``paragraph_rows[i]``."""
        if self._n:
            raise ValueError("load() fills an empty index")
        n = len(keys)
        # the arrays are taken over, not copied: the first add() grows them
        self._n = n
        self._key, self._story = keys.astype(np.int64), stories.astype(np.int64)
        self._source = np.array([hash(s) for s in sources], dtype=np.int64)
        self._seen = np.array([s.encode() for s in seen], dtype="S32")
        self._sigs, self._signed = sigs.astype(np.uint32), signed.astype(bool)
        self._alive = np.ones(n, dtype=bool)
        self._row_of = dict(zip(keys.tolist(), range(n), strict=True))
        self._signed_count = int(signed.sum())
        self._plog_hash = paragraphs
        self._plog_row = paragraph_rows.astype(np.int64)
        self._plog_n = len(paragraphs)
        self._furniture = self._furniture_of(self._plog_hash, self._plog_row)
        self._rebuild()

    def _furniture_of(self, hashes: np.ndarray, rows: np.ndarray) -> dict[int, bytes]:
        """Paragraph hash -> when last seen, for the paragraphs that are furniture."""
        if not len(hashes):
            return {}
        order = np.argsort(hashes, kind="stable")  # rows stay in first-seen order
        h, r = hashes[order], rows[order]
        starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
        group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(h)]))
        hit = np.zeros(len(starts), dtype=bool)
        for values, least in (
            (self._story[r], self.furniture_stories),  # distinct stories per paragraph
            (self._source[r], None),  # articles per (paragraph, source)
        ):
            o = np.lexsort((values, group))
            g, v = group[o], values[o]
            new = np.r_[True, (g[1:] != g[:-1]) | (v[1:] != v[:-1])]
            if least is not None:
                hit |= np.bincount(g[new], minlength=len(starts)) >= least
            else:
                runs = np.diff(np.r_[np.flatnonzero(new), len(g)])
                big = g[np.flatnonzero(new)][runs >= self.furniture_articles]
                hit[big] = True
        last_row = np.maximum.reduceat(r, starts)
        return dict(zip(h[starts[hit]].tolist(), self._seen[last_row[hit]].tolist(), strict=True))

    # ------------------------------------------------------------------ internals

    def _keys_of(self, sig: np.ndarray) -> np.ndarray:
        """The LSH keys of one signature (remembered: ``add`` follows ``query`` with it)."""
        last_sig, last_keys = self._last_keys
        if sig is not last_sig:
            last_keys = self._band_keys(sig[None, :])[0]
            self._last_keys = (sig, last_keys)
        return last_keys

    def _band_keys(self, sigs: np.ndarray) -> np.ndarray:
        return band_keys(sigs, self.rows, self._salt)

    def _track_paragraphs(self, row: int, hashes: np.ndarray) -> None:
        """File ``row``'s paragraphs; those it makes furniture are not filed but marked."""
        furniture, cutoff, seen = self._furniture, self._cutoff, self._seen[row]
        fresh = []
        # a line twice in one article counts once (dict: in text order, without sorting)
        for h in dict.fromkeys(hashes.tolist()):
            last = furniture.get(h)
            if last is None or last < cutoff:
                fresh.append(h)
            else:
                furniture[h] = max(last, seen)
        if not fresh:
            return
        fresh_arr = np.array(fresh, dtype=np.uint64)
        i, rows = self._para.get(fresh_arr)
        track = fresh_arr
        if len(rows):  # most paragraphs are new: nothing to count
            live = self._alive[rows]
            i, rows = i[live], rows[live]
        if len(rows):
            keep = np.ones(len(fresh), dtype=bool)
            story, source = self._story[row], self._source[row]
            stories: dict[int, set[int]] = {}
            articles: dict[int, int] = {}
            for j, s, src in zip(
                i.tolist(), self._story[rows].tolist(), self._source[rows].tolist(), strict=True
            ):
                stories.setdefault(j, {story}).add(s)
                if src == source:
                    articles[j] = articles.get(j, 1) + 1
            for j in set(stories):
                if (
                    len(stories[j]) >= self.furniture_stories
                    or articles.get(j, 1) >= self.furniture_articles
                ):
                    furniture[fresh[j]] = seen
                    keep[j] = False
            track = fresh_arr[keep]
        if len(track):
            self._log_paragraphs(track, row)
            if self._para.full(len(track)):
                self._rebuild_paragraphs()
            else:
                self._para.add(track, row)

    def _log_paragraphs(self, hashes: np.ndarray, row: int) -> None:
        end = self._plog_n + len(hashes)
        if end > len(self._plog_hash):
            cap = max(4096, end + end // 4)
            self._plog_hash = np.resize(self._plog_hash, cap)
            self._plog_row = np.resize(self._plog_row, cap)
        self._plog_hash[self._plog_n : end] = hashes
        self._plog_row[self._plog_n : end] = row
        self._plog_n = end

    def _rebuild(self) -> None:
        """New LSH and paragraph tables from the live rows, with room to grow."""
        self._rebuild_lsh()
        self._rebuild_paragraphs()

    def _rebuild_lsh(self) -> None:
        """A new LSH table from the live signed rows, with room to grow. (Only the table
        that is full is rebuilt: the two fill at different times, and the LSH table, 64
        keys an article, costs most.)"""
        live = np.flatnonzero(self._alive[: self._n] & self._signed[: self._n])
        self._lsh = BucketTable(self.bands * len(live))
        step = 1024  # rows at a time: their keys are sorted into the table in one go
        for start in range(0, len(live), step):
            rows = live[start : start + step]
            keys = self._band_keys(self._sigs[rows]).ravel()
            self._lsh.extend(keys, np.repeat(rows, self.bands))

    def _rebuild_paragraphs(self) -> None:
        """A new paragraph table from the log, dead rows and furniture left out."""
        h, r = self._plog_hash[: self._plog_n], self._plog_row[: self._plog_n]
        keep = self._alive[r]
        if self._furniture:
            keep &= ~np.isin(h, np.fromiter(self._furniture, dtype=np.uint64))
        self._plog_hash, self._plog_row = h[keep], r[keep]
        self._plog_n = len(self._plog_hash)
        self._para = BucketTable(self._plog_n)
        self._para.extend(self._plog_hash, self._plog_row)

    def _new_row(self, key: int, story: int | None, source: str | None, seen_at: str) -> int:
        if self._n == len(self._key):
            self._grow(max(1024, self._n + self._n // 4))
        row = self._n
        self._n += 1
        self._key[row] = key
        self._story[row] = -1 if story is None else story
        self._source[row] = hash(source)
        self._seen[row] = seen_at.encode()
        self._alive[row] = True
        self._signed[row] = False
        self._row_of[key] = row
        return row

    def _kill(self, row: int) -> None:
        self._alive[row] = False
        if self._signed[row]:
            self._signed_count -= 1
        self._dead += 1

    def _grow(self, capacity: int) -> None:
        for name in _ROW_ARRAYS:
            a = getattr(self, name)
            grown = np.zeros((capacity, *a.shape[1:]), dtype=a.dtype)
            grown[: len(a)] = a
            setattr(self, name, grown)

    def _compact(self) -> None:
        """Purge dropped rows: renumber the live ones from 0 and shrink the arrays."""
        live = np.flatnonzero(self._alive[: self._n])
        new_row = np.full(self._n, -1, dtype=np.int64)
        new_row[live] = np.arange(len(live))
        for name in _ROW_ARRAYS:
            setattr(self, name, getattr(self, name)[live])
        self._row_of = {k: int(new_row[r]) for k, r in self._row_of.items()}
        r = new_row[self._plog_row[: self._plog_n]]
        keep = r >= 0
        self._plog_hash, self._plog_row = self._plog_hash[: self._plog_n][keep], r[keep]
        self._plog_n = len(self._plog_row)
        # Every row before the expiry mark was dropped, so none of them survives.
        self._n, self._dead, self._expired_upto = len(live), 0, 0
        self._furniture = {h: s for h, s in self._furniture.items() if s >= self._cutoff}
        self._rebuild()


_ROW_ARRAYS = ("_sigs", "_key", "_story", "_source", "_seen", "_alive", "_signed")
