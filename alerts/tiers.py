"""TIP tier statements: which country a Trafficking in Persons report placed on which tier.

The language of a placement is data (``alerts/data/gazetteer/tiers.toml``); this module compiles
it, reads a document paragraph by paragraph (``alerts.tier_grammar`` says what each clause
states and the year it ties a statement to), and settles what the paragraph says for each
country (nothing when it reads two ways).
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import ahocorasick

from alerts import tier_grammar as grammar

DATA = Path(__file__).resolve().parent / "data" / "gazetteer" / "tiers.toml"
TIERS = ("Tier 1", "Tier 2", "Tier 2 Watch List", "Tier 3", "Special Case")

# Cheap substring tests before any regular expression runs: most articles have none.
TIER_TRIGGERS = (
    "tier",
    "уров",
    "səviyy",
    "seviyy",
    "kademe",
    "seviye",
    "nivel",
    "special case",
    "niveau",
    "categori",
    "kategori",
    "stufe",
    "fascia",
    "livello",
    "poziom",
    "рів",
    "sonderfall",
    "caso especial",
    "第",
    "ティア",
    "티어",
    "등급",
    "رده",
    "टियर",
    "श्रेणी",
    "tingkat",
    "peringkat",
    "cas particulier",
    "cas special",
    "الفية",
    "المستوى",
)
# The minimum-standards formulas, which may state a tier without naming one.
FORMULA_TRIGGERS = (
    "minimum standard",
    "normas minimas",
    "estandares minimos",
    "normes minimales",
    "normes minimums",
    "standards minim",
    "padroes minimos",
    "standard minimi",
    "norme minime",
    "requisiti minimi",
    "mindeststandard",
    "mindestnormen",
    "mindestanforderungen",
    "минимальн",
    "мінімальн",
    "asgari standart",
    "minimum standart",
    "المعايير الدنيا",
)
TRIGGERS = TIER_TRIGGERS + FORMULA_TRIGGERS

# How much of one text the tier reader reads: sentences in order while the tier mentions
# and country names of the sentences it has read (those with a mention, or any when the
# text has a minimum-standards formula) come to at most this many; it stops before the
# sentence that would pass it. Each item costs a bounded amount of work (a few searches
# in windows of at most 120 characters, binary searches), so this and the linear passes
# over the text (sentence split, the mention patterns up to the last mention read) bound
# a whole article's tier reading. A TIP report's country narrative holds a few dozen
# items; a news story listing every Tier 3 country about fifty.
TIER_ITEMS = 2000


def _group(m: re.Match) -> int:
    """The year a report-year pattern caught (its first non-empty group)."""
    return int(next(g for g in m.groups() if g))


@dataclass(frozen=True, slots=True)
class TierStatement:
    """A country placed on a tier; ``year`` is the report year when the text states one.

    ``basis`` says how: "words" (the text names the tier) or "formula" (only the report's
    minimum-standards formula gives it: "does not fully comply ... and is not making
    significant efforts" is Tier 3 in the report that wrote it, which is not always the
    placement a later text puts above it, so it is the weaker reading)."""

    country: str
    tier: str
    year: int | None
    sentence: str
    basis: str = "words"


@dataclass(frozen=True, slots=True)
class _Formulas:
    noncompliance: re.Pattern
    no_efforts: re.Pattern
    efforts: re.Pattern
    compliance: re.Pattern
    waiver: re.Pattern


@dataclass(frozen=True, slots=True)
class _Rules:
    cue: re.Pattern
    not_after: re.Pattern
    from_before: re.Pattern
    from_suffix: re.Pattern
    placement: re.Pattern
    issuer_after: re.Pattern
    issuer_before: re.Pattern
    list_cue: re.Pattern
    clause_break: re.Pattern
    negation_before: re.Pattern
    negation_after: re.Pattern
    hypothetical_before: re.Pattern
    hypothetical_after: re.Pattern
    past_before: re.Pattern
    past_after: re.Pattern
    heading: re.Pattern
    report_year: re.Pattern
    report_year_near: re.Pattern
    year_lead: re.Pattern
    year_after: re.Pattern
    citation: re.Pattern
    not_subject: re.Pattern
    list_glue: re.Pattern
    list_and: re.Pattern
    any_year: re.Pattern
    span_start: re.Pattern
    watch_list: re.Pattern
    formulas: _Formulas
    cue_words: ahocorasick.Automaton | None
    numbers: dict[str, str]
    mentions: tuple[re.Pattern, ...]


# Keys of tiers.toml compiled as they stand; `negation_before` is anchored by the code.
_PLAIN = [
    "cue",
    "not_after",
    "from_before",
    "from_suffix",
    "placement",
    "issuer_after",
    "issuer_before",
    "list_cue",
    "clause_break",
    "negation_after",
    "hypothetical_before",
    "hypothetical_after",
    "past_before",
    "past_after",
    "heading",
    "report_year",
    "report_year_near",
    "year_lead",
    "year_after",
    "citation",
    "not_subject",
    "list_glue",
    "list_and",
    "any_year",
    "span_start",
    "watch_list",
]
# A negation governs a mention only from at most four words before it ("was not placed on
# the Tier 3"), not from anywhere in the phrase ("is not making efforts ... was downgraded").
_NEAR_END = r"(?:[^\w,;:()]+\w+){0,4}[^\w,;:()]*$"


def rules() -> _Rules:
    """The tier language from ``alerts/data/gazetteer/tiers.toml``, compiled once per version
    of the file: a SIGHUP reload sees an edited file."""
    try:
        st = DATA.stat()
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = None  # _compiled reports the unreadable file
    return _compiled(DATA, stamp)


@lru_cache(maxsize=2)
def _compiled(path: Path, stamp: tuple[int, int] | None) -> _Rules:
    try:
        d = tomllib.loads(DATA.read_text(encoding="utf-8"))
        return _Rules(
            **{k: re.compile(d[k]) for k in _PLAIN},
            negation_before=re.compile(f"(?:{d['negation_before']}){_NEAR_END}"),
            formulas=_Formulas(**{k: re.compile(v) for k, v in d["formulas"].items()}),
            cue_words=_automaton(_literal_heads(d["cue"])),
            numbers=d["numbers"],
            mentions=tuple(re.compile(m["regex"]) for m in d["mentions"]),
        )
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError, re.error) as e:
        raise ValueError(f"{DATA}: {e}") from None


def _literal_heads(pattern: str) -> tuple[str, ...] | None:
    """The literal text each top-level alternative of ``pattern`` starts with, or None when
    one starts with no literal. A text holding none of them cannot match: a few substring
    tests spare most articles the regular expression (Python tries every alternative at
    every position)."""
    heads, depth, alt, escaped = [], 0, [], False
    for ch in pattern + "|":
        if escaped or ch == "\\":
            escaped = not escaped
            alt.append(ch)
            continue
        if ch == "|" and depth == 0:
            text = "".join(alt)
            head = re.match(r"[^\\()\[\]{}?*+.|^$]*", text).group(0)
            if text[len(head) : len(head) + 1] in ("?", "*", "{"):
                head = head[:-1]  # "labou?r": the "u" is optional
            if not head:
                return None
            heads.append(head)
            alt = []
            continue
        depth += (ch == "(") - (ch == ")")
        alt.append(ch)
    return tuple(dict.fromkeys(heads))


def _automaton(words: tuple[str, ...] | None) -> ahocorasick.Automaton | None:
    """One pass over a text finds any of ``words`` (None stays None: no prefilter)."""
    if words is None:
        return None
    auto = ahocorasick.Automaton()
    for w in words:
        auto.add_word(w, w)
    auto.make_automaton()
    return auto


def _issuer(folded: str, hit: tuple[int, int, str], r: _Rules) -> bool:
    start, end, _ = hit
    return bool(
        r.issuer_after.match(folded, end)
        or r.issuer_before.search(folded, max(0, start - 40), start)
    )


def find(
    doc: str,
    folded: str,
    countries: list[tuple[int, int, str]],
    *,
    triggered: bool | None = None,
    formulas: bool = False,
) -> list[TierStatement]:
    """Tier statements in ``doc``; ``countries`` are its country hits (start, end, code).

    A tier counts only as a placement: not as the origin of a move ("from Tier 3"), a past
    tier ("after two years on the Watch List"), a negated or hypothetical one ("was not
    placed on Tier 3", "a waiver from an otherwise required downgrade to Tier 3"). A country
    takes the next placement after it in its clause, or, when no country comes before the
    tier (lists such as "ranked Tier 3 were A, B and C", headings such as "Tier 3 - Burma"),
    the one before it. The minimum-standards formulas give Tier 3 ("does not fully comply
    ... and is not making significant efforts") and Tier 1 ("fully meets"); the Tier 2 one
    gives nothing, and any statement its paragraph contradicts is dropped: a wrong tier is
    worse than none. The year is the report's only when the text ties it to the report.
    ``triggered`` says whether ``folded`` holds one of TRIGGERS, when the caller knows.

    A tier read from a formula alone (basis "formula") is given only with ``formulas``
    (``[gazetteer] tier_formulas``): a later text may carry an earlier report's formula
    under another placement, and nothing in the text tells. Without it the formulas still
    veto the words they contradict, so the statements in words are the same either way.
    """
    if triggered is None:
        triggered = any(t in folded for t in TRIGGERS)
    if not triggered:
        return []
    r = rules()
    if r.cue_words is not None and next(r.cue_words.iter(folded), None) is None:
        return []
    if not r.cue.search(folded):
        return []
    mentions = (
        # One mention more than can be read: whether a watch list near the last one read
        # stands inside the next mention.
        grammar.mentions(folded, r, TIER_ITEMS + 1)
        if any(t in folded for t in TIER_TRIGGERS)
        else []
    )
    has_formula = any(t in folded for t in FORMULA_TRIGGERS)
    if not mentions and not has_formula:
        return []
    m = r.report_year.search(folded)
    years = grammar.Years(folded, _group(m) if m else None, r)
    # Sorted by start (the matcher gives them so), to take each paragraph's, sentence's and
    # clause's share by binary search: the whole reading stays O(n log n) in the length of
    # the text and the number of mentions and countries, whatever their arrangement.
    countries = sorted((c for c in countries if not _issuer(folded, c, r)), key=lambda c: c[0])
    c_starts = [c[0] for c in countries]
    m_starts = [x.start for x in mentions]

    def share(items: list, starts: list[int], lo: int, hi: int) -> list:
        return items[bisect_left(starts, lo) : bisect_left(starts, hi)]

    def count(starts: list[int], lo: int, hi: int) -> int:
        return bisect_left(starts, hi) - bisect_left(starts, lo)

    out: dict[tuple[str, str], TierStatement] = {}
    by_para: dict[int, list[tuple[int, int]]] = {}
    for s_start, s_end, p_start in grammar.sentences(doc):
        by_para.setdefault(p_start, []).append((s_start, s_end))
    budget = TIER_ITEMS
    for p_start, sents in by_para.items():
        if budget < 0:
            break
        p_end = sents[-1][1]
        p_countries = share(countries, c_starts, p_start, p_end)
        # The paragraph names one country before a clause when the clause starts after its
        # first country and no later than its first country with another code.
        first = p_countries[0] if p_countries else None
        second = next((c[0] for c in p_countries if c[2] != first[2]), p_end) if first else 0
        cite = r.citation.search(folded, p_start, p_end)
        words: list[tuple[str, str, int | None, str, bool]] = []  # ..., by formula
        allowed: dict[str, set[str]] = {}
        for sent in sents:
            k = count(m_starts, *sent)
            if k or has_formula:
                budget -= k + count(c_starts, *sent)
                if budget < 0:
                    break  # read no further: see TIER_ITEMS
            sentence = doc[sent[0] : sent[1]].strip()[:1000]
            for clause in grammar.clauses(doc, *sent):
                single = first[2] if first and first[0] < clause[0] <= second else None
                for code, x in grammar.placements(
                    doc,
                    folded,
                    clause,
                    share(mentions, m_starts, *clause),
                    share(countries, c_starts, *clause),
                    single,
                    r,
                ):
                    words.append((code, x.tier, years.of(clause, x.end, cite), sentence, False))
            if has_formula:
                for code, (tiers, clause) in grammar.formula_tiers(
                    folded, sent, share(countries, c_starts, *sent), r
                ).items():
                    allowed[code] = allowed.get(code, tiers) & tiers
                    if len(tiers) == 1:
                        year = years.of(clause, clause[0], cite)
                        words.append((code, next(iter(tiers)), year, sentence, True))
        if r.formulas.waiver.search(folded, p_start, p_end):
            # A waiver keeps the country off the tier its formula gives: trust words only.
            allowed = {}
            words = [w for w in words if not w[4]]
        said: dict[str, set[str]] = {}
        for code, tier, *_ in words:
            said.setdefault(code, set()).add(tier)
        for code, tier, year, sentence, by_formula in words:
            if len(said[code]) > 1 or tier not in allowed.get(code, {tier}):
                continue  # the paragraph reads two ways for this country
            basis = "formula" if by_formula else "words"
            old = out.get((code, tier))
            if old is None:
                out[(code, tier)] = TierStatement(code, tier, year, sentence, basis)
            elif old.basis != basis == "words":  # the words name it too: the first reading
                out[(code, tier)] = TierStatement(code, tier, old.year, old.sentence, basis)
    # Paragraphs that give one country two tiers for the same report year (or none) read
    # two ways too.
    tiers: dict[tuple[str, int | None], set[str]] = {}
    for t in out.values():
        tiers.setdefault((t.country, t.year), set()).add(t.tier)
    return [
        t
        for t in out.values()
        if len(tiers[(t.country, t.year)]) == 1 and (formulas or t.basis == "words")
    ]
