"""TIP tier statements: which country a Trafficking in Persons report placed on which tier.

The language of a placement is data (``alerts/data/gazetteer/tiers.toml``); this module reads it,
finds tier mentions in folded text, and ties each to the countries its sentence names.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

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
    "categorie",
    "cas particulier",
    "cas special",
    "الفية",
    "المستوى",
)
# The minimum-standards formulas, which may state a tier without naming one.
FORMULA_TRIGGERS = (
    "minimum standard",
    "normas minimas",
    "normes minimales",
    "минимальн",
    "asgari standart",
    "minimum standart",
    "المعايير الدنيا",
)
TRIGGERS = TIER_TRIGGERS + FORMULA_TRIGGERS
_SENTENCE_END = re.compile(
    r"(?<![A-Z]\.[A-Z]\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)(?<=[.!?])[\"'”’»)]*\s+"
    r"(?![a-zа-яёəçşöüğı])"
)


def _group(m: re.Match) -> int:
    """The year a report-year pattern caught (its first non-empty group)."""
    return int(next(g for g in m.groups() if g))


@dataclass(frozen=True, slots=True)
class TierStatement:
    """A country placed on a tier; ``year`` is the report year when the text states one."""

    country: str
    tier: str
    year: int | None
    sentence: str


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
    any_year: re.Pattern
    span_start: re.Pattern
    formulas: _Formulas
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
    "any_year",
    "span_start",
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
            numbers=d["numbers"],
            mentions=tuple(re.compile(m["regex"]) for m in d["mentions"]),
        )
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError, re.error) as e:
        raise ValueError(f"{DATA}: {e}") from None


@dataclass(frozen=True, slots=True)
class _Mention:
    start: int
    end: int
    tier: str
    role: str  # "plain" (a placement), "origin" (from or past), "void" (not or would be)


def _tier_name(m: re.Match, numbers: dict[str, str]) -> str | None:
    groups = m.groupdict()
    if groups.get("special"):
        return "Special Case"
    n = groups.get("n")
    if not n:
        return None
    num = numbers.get(n) or next((v for k, v in numbers.items() if n.startswith(k)), None)
    if num is None:
        return None
    if groups.get("wl"):
        return "Tier 2 Watch List" if num == "2" else None
    return f"Tier {num}"


def _phrase(folded: str, start: int, r: _Rules, floor: int = 0) -> str:
    """The words before ``start`` back to the last clause break (at most 120 characters,
    not before ``floor``)."""
    window = folded[max(floor, start - 120) : start]
    cut = 0
    for m in r.clause_break.finditer(window):
        cut = m.end()
    return window[cut:]


def _role(folded: str, m: re.Match, floor: int, r: _Rules) -> str:
    phrase = _phrase(folded, m.start(), r, floor)
    if (
        r.negation_before.search(phrase)
        or r.hypothetical_before.search(phrase)
        or r.negation_after.match(folded, m.end())
        or r.hypothetical_after.match(folded, m.end())
    ):
        return "void"
    if (
        r.from_before.search(folded[max(0, m.start() - 20) : m.start()])
        or r.from_suffix.search(m.group(0))
        or r.past_before.search(phrase)
        or r.past_after.match(folded, m.end())
    ):
        return "origin"
    return "plain"


def _mentions(folded: str, r: _Rules) -> list[_Mention]:
    found = []
    for rx in r.mentions:
        for m in rx.finditer(folded):
            tier = _tier_name(m, r.numbers)
            if tier is None or r.not_after.match(folded, m.end()):
                continue
            found.append((m, tier))
    found.sort(key=lambda x: (x[0].start(), -(x[0].end() - x[0].start())))
    out: list[_Mention] = []
    for m, tier in found:
        if not out or m.start() >= out[-1].end:
            # The words before a mention stop at the previous one: "After two years on the
            # Watch List X was downgraded to Tier 3" makes only the Watch List a past tier.
            role = _role(folded, m, out[-1].end if out else 0, r)
            out.append(_Mention(m.start(), m.end(), tier, role))
    return out


def _sentences(doc: str) -> list[tuple[int, int, int]]:
    """(start, end, paragraph start) of every sentence; lines are paragraphs and headings."""
    out = []
    for para in re.finditer(r"[^\n]+", doc):
        pos = para.start()
        for m in _SENTENCE_END.finditer(para.group(0)):
            out.append((pos, para.start() + m.start(), para.start()))
            pos = para.start() + m.end()
        if pos < para.end():
            out.append((pos, para.end(), para.start()))
    return out


def _clauses(doc: str, start: int, end: int) -> list[tuple[int, int]]:
    """The clauses of a sentence: the reports join independent statements with ";"."""
    out, pos = [], start
    for i in range(start, end):
        if doc[i] == ";":
            out.append((pos, i))
            pos = i + 1
    out.append((pos, end))
    return out


def _issuer(folded: str, hit: tuple[int, int, str], r: _Rules) -> bool:
    start, end, _ = hit
    return bool(
        r.issuer_after.match(folded, end)
        or r.issuer_before.search(folded, max(0, start - 40), start)
    )


def _year(folded: str, clause: tuple[int, int], tier_end: int, r: _Rules) -> int | None:
    """The report year a statement's own clause gives: a report named with its year, a year
    opening the clause or following the tier ("for 2008"); else None. A year in another
    clause ("allegations cited in the 2007 Report") is not the statement's."""
    for rx in (r.report_year, r.report_year_near):
        m = rx.search(folded, *clause)
        if m:
            return _group(m)
    m = r.year_lead.match(folded, *clause) or r.year_after.match(folded, tier_end)
    return _group(m) if m else None


def _statement_year(folded, clause, tier_end, cite, doc_year, r: _Rules) -> int | None:
    """The clause's own year, else the paragraph's citation "(2008)", else the document's
    report year when the clause names no other year."""
    year = _year(folded, clause, tier_end, r)
    if year or cite:
        return year or _group(cite)
    for m in r.any_year.finditer(folded, *clause):
        if int(m.group(0)) != doc_year and not r.span_start.search(
            folded, max(0, m.start() - 20), m.start()
        ):
            return None
    return doc_year


def _placements(doc, folded, clause, mentions, countries, p_countries, r):
    """(code, mention) pairs a clause states, from its plain mentions."""
    c_start, c_end = clause
    inside = [x for x in mentions if c_start <= x.start < c_end]
    plain = [x for x in inside if x.role == "plain"]
    if not plain:
        return []
    named = [c for c in countries if c_start <= c[0] < c_end]
    here = [c for c in named if not r.not_subject.search(folded, max(0, c[0] - 40), c[0])]
    if not named:
        # "... the result of their remaining on Tier 3": the paragraph's country, when the
        # clause says a placement happened and the paragraph so far names one country only.
        codes = {c[2] for c in p_countries if c[0] < c_start}
        if len(codes) == 1 and r.placement.search(folded, c_start, c_end):
            return [(codes.pop(), plain[-1])]
        return []
    placed = []
    for i, (start, _, code) in enumerate(here):
        after = [x for x in inside if x.start >= start]
        first = next((x for x in after if x.role == "plain"), None)
        if first is not None:
            # Another tier before the next country (after this one's) is a second reading
            # for the same country ("X, on the Watch List for years, now sits on Tier 3"):
            # say nothing rather than choose.
            nxt = next((c[0] for c in here[i + 1 :] if c[0] > first.start), c_end)
            rival = {x.tier for x in after if x.role == "plain" and x.start < nxt}
            if len(rival) == 1:
                placed.append((code, first))
            continue
        before = [x for x in plain if x.start < start]
        if not before or after:
            continue
        tier = before[-1]
        if any(c[0] < tier.start for c in here):
            continue
        heading = (
            not doc[c_start : tier.start].strip(" \t\"'“”-–—*#")
            and r.heading.match(folded, tier.end)
            and not any(tier.end <= c[0] < start for c in here)
        )
        if heading or _listed(folded, tier.end, start, named, r):
            placed.append((code, tier))
    return placed


def _listed(folded: str, tier_end: int, start: int, named, r: _Rules) -> bool:
    """Whether the country at ``start`` is an item of a list the words after the tier open
    ("ranked Tier 3 were Afghanistan, Burma and Eritrea"): a list cue, then only other
    countries and glue ("and", commas) up to it."""
    cues = list(r.list_cue.finditer(folded, tier_end, start))
    if not cues:
        return False
    pos, rest = cues[-1].end(), []
    for c_start, c_end, _ in named:
        if pos <= c_start < start:
            rest.append(folded[pos:c_start])
            pos = c_end
    rest.append(folded[pos:start])
    return all(r.list_glue.fullmatch(x) for x in rest)


def _formulas(folded, sent, countries, r) -> dict[str, tuple[set[str], tuple[int, int]]]:
    """The tiers a sentence's minimum-standards formulas allow, per subject country, with
    the clause that says it."""
    f = r.formulas
    s, e = sent
    out: dict[str, tuple[set[str], tuple[int, int]]] = {}

    def subject(m: re.Match, tiers: set[str]) -> None:
        # The subject names one country, before the formula or inside it (Arabic: "لا تفي
        # حكومة أذربيجان"), within the formula's own clause.
        c0 = max([s] + [i + 1 for i in range(s, m.start()) if folded[i] == ";"])
        c1 = folded.find(";", m.end(), e)
        codes = {c[2] for c in countries if c0 <= c[0] < m.end()}
        if len(codes) == 1:
            code = codes.pop()
            old = out.get(code, (tiers, None))[0]
            out[code] = (old & tiers, (c0, e if c1 < 0 else c1))

    def negated(m: re.Match) -> bool:
        return bool(r.negation_before.search(_phrase(folded, m.start(), r)))

    nc = f.noncompliance.search(folded, s, e)
    ne = f.no_efforts.search(folded, nc.end() if nc else s, e)
    if ne and (nc or "comply" in ne.group(0) or "meet" in ne.group(0)):
        subject(nc or ne, {"Tier 3"})
    elif nc and any(not negated(m) for m in f.efforts.finditer(folded, nc.end(), e)):
        subject(nc, {"Tier 2", "Tier 2 Watch List"})
    for m in f.compliance.finditer(folded, s, e):
        if not negated(m):
            subject(m, {"Tier 1"})
    return out


def find(
    doc: str,
    folded: str,
    countries: list[tuple[int, int, str]],
    *,
    triggered: bool | None = None,
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
    """
    if triggered is None:
        triggered = any(t in folded for t in TRIGGERS)
    if not triggered:
        return []
    r = rules()
    if not r.cue.search(folded):
        return []
    mentions = _mentions(folded, r) if any(t in folded for t in TIER_TRIGGERS) else []
    has_formula = any(t in folded for t in FORMULA_TRIGGERS)
    if not mentions and not has_formula:
        return []
    m = r.report_year.search(folded)
    doc_year = _group(m) if m else None
    countries = [c for c in countries if not _issuer(folded, c, r)]
    out: dict[tuple[str, str], TierStatement] = {}
    by_para: dict[int, list[tuple[int, int]]] = {}
    for s_start, s_end, p_start in _sentences(doc):
        by_para.setdefault(p_start, []).append((s_start, s_end))
    for p_start, sents in by_para.items():
        p_end = sents[-1][1]
        p_countries = [c for c in countries if p_start <= c[0] < p_end]
        cite = r.citation.search(folded, p_start, p_end)
        words: list[tuple[str, str, int | None, str, bool]] = []  # ..., by formula
        allowed: dict[str, set[str]] = {}
        for sent in sents:
            sentence = doc[sent[0] : sent[1]].strip()[:1000]
            for clause in _clauses(doc, *sent):
                for code, x in _placements(
                    doc, folded, clause, mentions, countries, p_countries, r
                ):
                    year = _statement_year(folded, clause, x.end, cite, doc_year, r)
                    words.append((code, x.tier, year, sentence, False))
            if has_formula:
                for code, (tiers, clause) in _formulas(folded, sent, p_countries, r).items():
                    allowed[code] = allowed.get(code, tiers) & tiers
                    if len(tiers) == 1:
                        year = _statement_year(folded, clause, clause[0], cite, doc_year, r)
                        words.append((code, next(iter(tiers)), year, sentence, True))
        if r.formulas.waiver.search(folded, p_start, p_end):
            # A waiver keeps the country off the tier its formula gives: trust words only.
            allowed = {}
            words = [w for w in words if not w[4]]
        said: dict[str, set[str]] = {}
        for code, tier, *_ in words:
            said.setdefault(code, set()).add(tier)
        for code, tier, year, sentence, _ in words:
            if len(said[code]) > 1 or tier not in allowed.get(code, {tier}):
                continue  # the paragraph reads two ways for this country
            out.setdefault((code, tier), TierStatement(code, tier, year, sentence))
    return list(out.values())
