"""How a text states a tier: tier mentions and what each one is (a placement, the origin
of a move, a past tier, a negated or hypothetical one), sentences and clauses, which country
takes which tier (subjects, lists, headings), and the report's minimum-standards formulas.

The words themselves are data (``alerts/data/gazetteer/tiers.toml``, compiled by
``alerts.tiers.rules``); every pattern is searched in folded text.
"""

from __future__ import annotations

import re
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


def mentions(folded: str, r: _Rules) -> list[Mention]:
    found = []
    for rx in r.mentions:
        for m in rx.finditer(folded):
            tier = _tier_name(m, r.numbers)
            if tier is None or r.not_after.match(folded, m.end()):
                continue
            found.append((m, tier))
    found.sort(key=lambda x: (x[0].start(), -(x[0].end() - x[0].start())))
    out: list[Mention] = []
    for m, tier in found:
        if not out or m.start() >= out[-1].end:
            # The words before a mention stop at the previous one: "After two years on the
            # Watch List X was downgraded to Tier 3" makes only the Watch List a past tier.
            role = _role(folded, m, out[-1].end if out else 0, r)
            out.append(Mention(m.start(), m.end(), tier, role))
    return [_near_watch_list(folded, x, out, r) for x in out]


def _near_watch_list(folded: str, x: Mention, found: list[Mention], r: _Rules) -> Mention:
    """``x`` void when it says "Tier 2" and a watch list stands within 30 characters of it
    outside every mention ("Tier 2 (the so-called Watch List)"): maybe the Watch List."""
    if x.tier != "Tier 2" or x.role == "void":
        return x
    for m in r.watch_list.finditer(folded, max(0, x.start - 30), x.end + 30):
        if not any(y.start <= m.start() < y.end for y in found):
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
    for i in range(start, end):
        if doc[i] in _CLAUSE_END:
            out.append((pos, i))
            pos = i + 1
    out.append((pos, end))
    return out


def placements(doc, folded, clause, mentions, countries, p_countries, r):
    """(code, mention) pairs a clause states, from its plain mentions."""
    c_start, c_end = clause
    inside = [x for x in mentions if c_start <= x.start < c_end]
    plain = [x for x in inside if x.role == "plain"]
    if not plain:
        return []
    named = [c for c in countries if c_start <= c[0] < c_end]
    here = _subjects(folded, named, r)
    if not named:
        # "... the result of their remaining on Tier 3": the paragraph's country, when the
        # clause says a placement happened and the paragraph so far names one country only.
        codes = {c[2] for c in p_countries if c[0] < c_start}
        tiers = {x.tier for x in plain}
        if len(codes) == 1 and len(tiers) == 1 and r.placement.search(folded, c_start, c_end):
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
            # Another subject between this country and its tier takes the tier, unless the
            # two are one list ("A and B remained on Tier 3"): "the US decision to keep
            # Azerbaijan on Tier 2" places Azerbaijan only.
            prev, between = here[i], [c for c in here[i + 1 :] if c[0] < first.start]
            joined = True
            for c in between:
                joined = joined and bool(r.list_glue.fullmatch(folded[prev[1] : c[0]]))
                prev = c
            if len(rival) == 1 and joined:
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


def _subjects(folded: str, named, r: _Rules) -> list:
    """The countries that may be the one placed: not one right after `not_subject` words
    ("unlike Belarus", "victims from Nepal", "a neighbour of Iran"), nor one in a list such
    a country opens ("of Iran and Russia"; "Unlike Belarus, Azerbaijan" is no list)."""
    runs: list[list] = []
    for c in named:
        if runs and r.list_glue.fullmatch(folded[runs[-1][-1][1] : c[0]]):
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


def formula_tiers(folded, sent, countries, r) -> dict[str, tuple[set[str], tuple[int, int]]]:
    """The tiers a sentence's minimum-standards formulas allow, per subject country, with
    the clause that says it."""
    f = r.formulas
    s, e = sent
    out: dict[str, tuple[set[str], tuple[int, int]]] = {}

    def subject(m: re.Match, tiers: set[str]) -> None:
        # The subject names one country, before the formula or inside it (Arabic: "لا تفي
        # حكومة أذربيجان"), within the formula's own clause.
        c0 = max([s] + [i + 1 for i in range(s, m.start()) if folded[i] in _CLAUSE_END])
        c1 = next((i for i in range(m.end(), e) if folded[i] in _CLAUSE_END), -1)
        codes = {c[2] for c in countries if c0 <= c[0] < m.end()}
        if len(codes) == 1:
            code = codes.pop()
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
