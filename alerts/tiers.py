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
TRIGGERS = (
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
_SENTENCE_END = re.compile(
    r"(?<![A-Z]\.[A-Z]\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)(?<=[.!?])[\"'”’»)]*\s+"
    r"(?![a-zа-яёəçşöüğı])"
)
_YEAR = re.compile(r"\b(199\d|20[0-4]\d)\b")
# A word before a year that makes it the start of a span, not the report's year.
_SINCE = re.compile(r"(?:\bsince|\bс|\bсо|\bdesde|\bdepuis|\bdès)\s+(?:the\s+)?$")
_REPORT_YEAR = re.compile(
    r"\b(20[0-4]\d)\s+(?:trafficking in persons|tip)\b|\b(?:tip|trafficking in persons) "
    r"report\s+(?:for\s+|of\s+)?(20[0-4]\d)\b|\brapport\s+(?:annuel\s+)?(20[0-4]\d)\b"
    r"|\b(20[0-4]\d)\s+insan\s+ticareti\s+rapor"
)


def _report_year(m: re.Match) -> int:
    return int(next(g for g in m.groups() if g))


@dataclass(frozen=True, slots=True)
class TierStatement:
    """A country placed on a tier; ``year`` is the report year when the text states one."""

    country: str
    tier: str
    year: int | None
    sentence: str


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
    numbers: dict[str, str]
    mentions: tuple[re.Pattern, ...]


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
            cue=re.compile(d["cue"]),
            not_after=re.compile(d["not_after"]),
            from_before=re.compile(d["from_before"]),
            from_suffix=re.compile(d["from_suffix"]),
            placement=re.compile(d["placement"]),
            issuer_after=re.compile(d["issuer_after"]),
            issuer_before=re.compile(d["issuer_before"]),
            list_cue=re.compile(d["list_cue"]),
            numbers=d["numbers"],
            mentions=tuple(re.compile(m["regex"]) for m in d["mentions"]),
        )
    except (OSError, KeyError, tomllib.TOMLDecodeError, re.error) as e:
        raise ValueError(f"{DATA}: {e}") from None


@dataclass(frozen=True, slots=True)
class _Mention:
    start: int
    end: int
    tier: str
    origin: bool  # the "from" side of a move


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


def _mentions(folded: str, r: _Rules) -> list[_Mention]:
    found = []
    for rx in r.mentions:
        for m in rx.finditer(folded):
            tier = _tier_name(m, r.numbers)
            if tier is None or r.not_after.match(folded, m.end()):
                continue
            origin = bool(r.from_before.search(folded[max(0, m.start() - 20) : m.start()]))
            origin = origin or bool(r.from_suffix.search(m.group(0)))
            found.append(_Mention(m.start(), m.end(), tier, origin))
    found.sort(key=lambda x: (x.start, -(x.end - x.start)))
    out: list[_Mention] = []
    for x in found:
        if not out or x.start >= out[-1].end:
            out.append(x)
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


def _issuer(folded: str, hit: tuple[int, int, str], r: _Rules) -> bool:
    start, end, _ = hit
    return bool(
        r.issuer_after.match(folded, end)
        or r.issuer_before.search(folded, max(0, start - 40), start)
    )


def _stated_year(text: str, fallback: int | None) -> int | None:
    """The report year a sentence states: one written as the report's ("the 2024 TIP
    report"), else its first year that does not start a span ("since 2019", "с 2014
    года"), else ``fallback`` (the article's report year)."""
    m = _REPORT_YEAR.search(text.casefold())
    if m:
        return _report_year(m)
    for m in _YEAR.finditer(text):
        if not _SINCE.search(text[max(0, m.start() - 12) : m.start()].lower()):
            return int(m.group(1))
    return fallback


def find(
    doc: str,
    folded: str,
    countries: list[tuple[int, int, str]],
    *,
    triggered: bool | None = None,
) -> list[TierStatement]:
    """Tier statements in ``doc``; ``countries`` are its country hits (start, end, code).

    A country takes the nearest tier mention after it in the same sentence, or, when no
    country comes before the tier (lists such as "ranked Tier 3 were A, B and C"), the
    nearest one before it. In "from Tier 3 to Tier 2", only the destination counts.
    ``triggered`` says whether ``folded`` holds one of TRIGGERS, when the caller knows.
    """
    if triggered is None:
        triggered = any(t in folded for t in TRIGGERS)
    if not triggered:
        return []
    r = rules()
    if not r.cue.search(folded):
        return []
    mentions = _mentions(folded, r)
    if not mentions:
        return []
    m = _REPORT_YEAR.search(folded)
    doc_year = _report_year(m) if m else None
    countries = [c for c in countries if not _issuer(folded, c, r)]
    out: dict[tuple[str, str], TierStatement] = {}
    for s_start, s_end, p_start in _sentences(doc):
        inside = [x for x in mentions if s_start <= x.start < s_end]
        if not inside:
            continue
        if any(not x.origin for x in inside):
            inside = [x for x in inside if not x.origin]
        here = [c for c in countries if s_start <= c[0] < s_end]
        sentence = doc[s_start:s_end].strip()
        year = _stated_year(sentence, doc_year)
        if not here:
            if not r.placement.search(folded, s_start, s_end):
                continue
            before = [c for c in countries if p_start <= c[0] < s_start]
            if not before:
                continue
            here = [before[-1]]
            placed = [(here[0][2], inside[-1].tier)]
        else:
            placed = []
            for c_start, _, code in here:
                after = [x for x in inside if x.start >= c_start]
                if after:
                    placed.append((code, after[0].tier))
                    continue
                tier = [x for x in inside if x.start < c_start][-1]
                if not any(c[0] < tier.start for c in here) and r.list_cue.search(
                    folded, tier.end, c_start
                ):
                    placed.append((code, tier.tier))
        for code, tier in placed:
            out.setdefault((code, tier), TierStatement(code, tier, year, sentence[:1000]))
    return list(out.values())
