"""How a text states a tier: tier mentions and what each one is (a placement, the origin
of a move, a past tier, a negated or hypothetical one), sentences and clauses, which country
takes which tier (subjects, lists, headings), the report's minimum-standards formulas, and
the report year a clause ties a statement to.

The words themselves are data (``alerts/data/gazetteer/tiers.toml``, compiled by
``alerts.tiers.rules``); every pattern is searched in folded text.
"""

from __future__ import annotations

import heapq
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alerts.tiers import _Rules

_SENTENCE_END = re.compile(
    r"(?<![A-Z]\.[A-Z]\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)(?<=[.!?])[\"'”’»)]*\s+"
    r"(?![a-zа-яёəçşöüğı])"
    # Chinese and Japanese full stops need no space after them; so does the Hindi danda.
    r"|(?<=[。！？।])[\"'”’」』)]*\s*"
)
_CLAUSE_END = frozenset(";；")
_CLAUSE_END_RX = re.compile("[;；]")


@dataclass(frozen=True, slots=True)
class Mention:
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


def phrase(folded: str, start: int, r: _Rules, floor: int = 0) -> str:
    """The words before ``start`` back to the last clause break (at most 120 characters,
    not before ``floor``)."""
    window = folded[max(floor, start - 120) : start]
    cut = 0
    for m in r.clause_break.finditer(window):
        cut = m.end()
    return window[cut:]


def _role(folded: str, m: re.Match, floor: int, r: _Rules) -> str:
    words = phrase(folded, m.start(), r, floor)
    if (
        r.negation_before.search(words)
        or r.hypothetical_before.search(words)
        or r.negation_after.match(folded, m.end())
        or r.hypothetical_after.match(folded, m.end())
    ):
        return "void"
    if (
        r.from_before.search(folded[max(0, m.start() - 20) : m.start()])
        or r.from_suffix.search(m.group(0))
        or r.past_before.search(words)
        or r.past_after.match(folded, m.end())
    ):
        return "origin"
    return "plain"


def _raw_mentions(folded: str, rx: re.Pattern, r: _Rules):
    for m in rx.finditer(folded):
        tier = _tier_name(m, r.numbers)
        if tier is not None and not r.not_after.match(folded, m.end()):
            yield m, tier


def mentions(folded: str, r: _Rules, limit: int | None = None) -> list[Mention]:
    """The tier mentions of ``folded`` in order, at most ``limit`` of them: the patterns'
    matches are merged as they are found, so a text is read only as far as its first
    ``limit`` mentions (and a few characters after)."""
    found = heapq.merge(
        *(_raw_mentions(folded, rx, r) for rx in r.mentions),
        key=lambda x: (x[0].start(), -(x[0].end() - x[0].start())),
    )
    out: list[Mention] = []
    for m, tier in found:
        if not out or m.start() >= out[-1].end:
            if limit is not None and len(out) >= limit:
                break
            # The words before a mention stop at the previous one: "After two years on the
            # Watch List X was downgraded to Tier 3" makes only the Watch List a past tier.
            role = _role(folded, m, out[-1].end if out else 0, r)
            out.append(Mention(m.start(), m.end(), tier, role))
    starts = [x.start for x in out]
    return [_near_watch_list(folded, x, out, starts, r) for x in out]


def _near_watch_list(
    folded: str, x: Mention, found: list[Mention], starts: list[int], r: _Rules
) -> Mention:
    """``x`` void when it says "Tier 2" and a watch list stands within 30 characters of it
    outside every mention ("Tier 2 (the so-called Watch List)"): maybe the Watch List.
    ``found`` are sorted and do not overlap (``starts`` their starts): the one mention that
    may hold a position is the last one starting at or before it."""
    if x.tier != "Tier 2" or x.role == "void":
        return x
    for m in r.watch_list.finditer(folded, max(0, x.start - 30), x.end + 30):
        i = bisect_right(starts, m.start()) - 1
        if i < 0 or not m.start() < found[i].end:
            return Mention(x.start, x.end, x.tier, "void")
    return x


def sentences(doc: str) -> list[tuple[int, int, int]]:
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


def clauses(doc: str, start: int, end: int) -> list[tuple[int, int]]:
    """The clauses of a sentence: the reports join independent statements with ";"
    ("；" in Chinese and Japanese)."""
    out, pos = [], start
    for m in _CLAUSE_END_RX.finditer(doc, start, end):
        out.append((pos, m.start()))
        pos = m.end()
    out.append((pos, end))
    return out


def placements(doc, folded, clause, inside, named, p_single, r):
    """(code, mention) pairs a clause states, from its plain mentions.

    ``inside`` are the clause's mentions and ``named`` its country hits, both sorted by
    start; ``p_single`` is the code of the paragraph's one country before the clause (None
    when it names none or several). Every step below reads each mention, country and gap
    of the clause a bounded number of times, plus binary searches: the work is
    O(k log k + clause length) for k mentions and countries."""
    c_start, c_end = clause
    plain = [x for x in inside if x.role == "plain"]
    if not plain:
        return []
    glue = _glue(folded, named, r)
    here = _subjects(folded, named, glue, r)
    if not named:
        # "... the result of their remaining on Tier 3": the paragraph's country, when the
        # clause says a placement happened and the paragraph so far names one country only.
        tiers = {x.tier for x in plain}
        if p_single and len(tiers) == 1 and r.placement.search(folded, c_start, c_end):
            return [(p_single, plain[-1])]
        return []
    starts = [x.start for x in inside]
    here_starts = [c[0] for c in here]
    named_starts = [c[0] for c in named]
    # The next plain mention at or after each index of `inside`, and the next plain one
    # after each plain one whose tier differs from it.
    n = len(inside)
    next_plain, next_other = [n] * (n + 1), [n] * n
    ahead: dict[str, int] = {}
    for j in range(n - 1, -1, -1):
        x = inside[j]
        next_plain[j] = j if x.role == "plain" else next_plain[j + 1]
        if x.role == "plain":
            next_other[j] = min((k for t, k in ahead.items() if t != x.tier), default=n)
            ahead[x.tier] = j
    # Consecutive subjects joined by list glue only ("A and B"): unjoined[k] counts the
    # pairs before k that are not.
    unjoined = [0]
    for a, b in zip(here, here[1:], strict=False):
        unjoined.append(unjoined[-1] + (not r.list_glue.fullmatch(folded[a[1] : b[0]])))
    bad_glue = [0]
    for ok in glue:
        bad_glue.append(bad_glue[-1] + (not ok))
    last: dict = {}  # what the words after the clause's last plain tier give, read once
    placed = []
    for i, (start, _, code) in enumerate(here):
        a = bisect_left(starts, start)
        f = next_plain[a]
        if f < n:
            first = inside[f]
            # Another tier before the next country (after this one's) is a second reading
            # for the same country ("X, on the Watch List for years, now sits on Tier 3"):
            # say nothing rather than choose.
            k = bisect_right(here_starts, first.start, i + 1)
            nxt = here_starts[k] if k < len(here) else c_end
            single = next_other[f] >= bisect_left(starts, nxt)
            # Another subject between this country and its tier takes the tier, unless the
            # two are one list ("A and B remained on Tier 3"): "the US decision to keep
            # Azerbaijan on Tier 2" places Azerbaijan only.
            j = bisect_left(here_starts, first.start, i + 1)
            joined = unjoined[j - 1] == unjoined[i] if j > i + 1 else True
            if single and joined:
                placed.append((code, first))
            continue
        if a < n:  # a void or origin mention after the country, and no plain one
            continue
        tier = plain[-1]
        if here_starts[0] < tier.start:
            continue
        if not last:
            last["heading"] = bool(
                not doc[c_start : tier.start].strip(" \t\"'“”-–—*#")
                and r.heading.match(folded, tier.end)
            )
            last["cues"] = [m.end() for m in r.list_cue.finditer(folded, tier.end, c_end)]
            last["gaps"] = {}
        heading = last["heading"] and bisect_left(here_starts, tier.end) >= i
        if heading or _listed(folded, start, named, named_starts, bad_glue, last, r):
            placed.append((code, tier))
    return placed


def _glue(folded: str, named, r: _Rules) -> list[bool]:
    """Whether only list glue ("and", commas) stands between each two consecutive
    countries."""
    return [
        bool(r.list_glue.fullmatch(folded[a[1] : b[0]]))
        for a, b in zip(named, named[1:], strict=False)
    ]


def _subjects(folded: str, named, glue: list[bool], r: _Rules) -> list:
    """The countries that may be the one placed: not one right after `not_subject` words
    ("unlike Belarus", "victims from Nepal", "a neighbour of Iran"), nor one in a list such
    a country opens ("of Iran and Russia"; "Unlike Belarus, Azerbaijan" is no list).
    ``glue`` says which consecutive countries list glue joins (see :func:`_glue`)."""
    runs: list[list] = []
    for k, c in enumerate(named):
        if runs and glue[k - 1]:
            runs[-1].append(c)
        else:
            runs.append([c])
    out = []
    for run in runs:
        joints = [folded[a[1] : b[0]] for a, b in zip(run, run[1:], strict=False)]
        is_list = any(r.list_and.search(j) for j in joints)
        excluded = False
        for c in run:
            excluded = (excluded and is_list) or bool(
                r.not_subject.search(folded, max(0, c[0] - 40), c[0])
            )
            if not excluded:
                out.append(c)
    return out


def _listed(folded: str, start: int, named, named_starts, bad_glue, last: dict, r) -> bool:
    """Whether the country at ``start`` is an item of a list the words after the clause's
    last tier open ("ranked Tier 3 were Afghanistan, Burma and Eritrea"): a list cue, then
    only other countries and glue ("and", commas) up to it. ``last["cues"]`` are the ends of
    the list cues after that tier; ``bad_glue`` counts the unglued consecutive countries."""
    cues = last["cues"]
    k = bisect_right(cues, start) - 1
    if k < 0:
        return False
    pos = cues[k]
    a = bisect_left(named_starts, pos)
    b = bisect_left(named_starts, start)
    stop = named_starts[a] if a < b else start
    gaps = last["gaps"]
    if (pos, stop) not in gaps:
        gaps[(pos, stop)] = bool(r.list_glue.fullmatch(folded[pos:stop]))
    return gaps[(pos, stop)] and bad_glue[b] == bad_glue[a]


def formula_tiers(folded, sent, countries, r) -> dict[str, tuple[set[str], tuple[int, int]]]:
    """The tiers a sentence's minimum-standards formulas allow, per subject country, with
    the clause that says it; ``countries`` are the sentence's, sorted by start."""
    f = r.formulas
    s, e = sent
    out: dict[str, tuple[set[str], tuple[int, int]]] = {}
    # Read once per sentence, then binary searches per formula: the clause breaks, the
    # country starts, and after each country the next one with another code.
    breaks = [m.start() for m in _CLAUSE_END_RX.finditer(folded, s, e)]
    starts = [c[0] for c in countries]
    other = [len(countries)] * len(countries)
    for k in range(len(countries) - 2, -1, -1):
        same = countries[k + 1][2] == countries[k][2]
        other[k] = other[k + 1] if same else k + 1

    def subject(m: re.Match, tiers: set[str]) -> None:
        # The subject names one country, before the formula or inside it (Arabic: "لا تفي
        # حكومة أذربيجان"), within the formula's own clause.
        k = bisect_left(breaks, m.start())
        c0 = breaks[k - 1] + 1 if k else s
        k = bisect_left(breaks, m.end())
        c1 = breaks[k] if k < len(breaks) else -1
        lo, hi = bisect_left(starts, c0), bisect_left(starts, m.end())
        if lo < hi and other[lo] >= hi:  # one code
            code = countries[lo][2]
            old = out.get(code, (tiers, None))[0]
            out[code] = (old & tiers, (c0, e if c1 < 0 else c1))

    def negated(m: re.Match) -> bool:
        return bool(r.negation_before.search(phrase(folded, m.start(), r)))

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


def _year_group(m: re.Match) -> int:
    """The year a pattern caught (its first non-empty group)."""
    return int(next(x for x in m.groups() if x))


def _clause_year(folded: str, clause: tuple[int, int], r: _Rules) -> int | None:
    """The report year a clause gives by itself: a report named with its year, or a year
    opening the clause."""
    for rx in (r.report_year, r.report_year_near):
        m = rx.search(folded, *clause)
        if m:
            return _year_group(m)
    m = r.year_lead.match(folded, *clause)
    return _year_group(m) if m else None


def _other_year(folded: str, clause: tuple[int, int], doc_year: int | None, r: _Rules) -> bool:
    """Whether the clause names a year other than the document's report year (not one that
    opens a span: "since 2005")."""
    for m in r.any_year.finditer(folded, *clause):
        if int(m.group(0)) != doc_year and not r.span_start.search(
            folded, max(0, m.start() - 20), m.start()
        ):
            return True
    return False


class Years:
    """The report year of each statement. What a clause says is read once per clause (a
    long clause may hold many statements); only ``year_after`` reads at the tier.

    The year is the clause's own (a report named with its year, a year opening the clause
    or following the tier: "for 2008"), else the paragraph's citation "(2008)", else the
    document's report year when the clause names no other year. A year in another clause
    ("allegations cited in the 2007 Report") is not the statement's."""

    def __init__(self, folded: str, doc_year: int | None, r: _Rules):
        self.folded, self.doc_year, self.r = folded, doc_year, r
        self.own: dict[tuple[int, int], int | None] = {}
        self.other: dict[tuple[int, int], bool] = {}

    def of(self, clause: tuple[int, int], tier_end: int, cite: re.Match | None) -> int | None:
        f, r = self.folded, self.r
        if clause not in self.own:
            self.own[clause] = _clause_year(f, clause, r)
        year = self.own[clause]
        if year is None:
            m = r.year_after.match(f, tier_end)
            year = _year_group(m) if m else None
        if year or cite:
            return year or _year_group(cite)
        if clause not in self.other:
            self.other[clause] = _other_year(f, clause, self.doc_year, r)
        return None if self.other[clause] else self.doc_year
