"""Tier statements as the reports write them: placements, what is not one, the formulas, years.

Each case is a sentence written for this test in the reports' manner; the expected set is
every (country, tier[, year]) the matcher must give, and nothing else: where the text does
not settle the tier, the right answer is no statement at all.
"""

from __future__ import annotations

import pytest

CASES = [
    # Placements in words.
    (
        "is-placed-on",
        "Ghana is placed on the Tier 2 Watch List for its weak trafficking record.",
        {"GH:Tier 2 Watch List"},
    ),
    (
        "watch-list-is-the-cue",
        "Kuwait is placed on the Tier 2 Watch List because of pledges.",
        {"KW:Tier 2 Watch List"},
    ),
    (
        "downgraded-after-years-on",
        "Thailand was downgraded to Tier 3 after the maximum of two "
        "consecutive years on Tier 2 Watch List, the trafficking report says.",
        {"TH:Tier 3"},
    ),
    (
        "after-years-on-first",
        "After two years on the Tier 2 Watch List Thailand was downgraded "
        "to Tier 3 in the trafficking report.",
        {"TH:Tier 3"},
    ),
    (
        "last-year-relative",
        "Laos, which was on Tier 2 Watch List last year, was downgraded to "
        "Tier 3 in the trafficking report.",
        {"LA:Tier 3"},
    ),
    (
        "up-from",
        "Venezuela is placed on the Tier 2 Watch List, up from Tier 3, as it fought trafficking.",
        {"VE:Tier 2 Watch List"},
    ),
    (
        "from-to-for-year",
        "Malaysia improved from Tier 3 to the Tier 2 Watch List for 2008 when "
        "it passed a trafficking law.",
        {"MY:Tier 2 Watch List:2008"},
    ),
    # Lists and headings.
    (
        "list-colon",
        "Tier 3 countries: Iran, North Korea and Syria, the trafficking report says.",
        {"IR:Tier 3", "KP:Tier 3", "SY:Tier 3"},
    ),
    (
        "list-such-as",
        "The trafficking report names Tier 3 countries such as Iran and Cuba.",
        {"IR:Tier 3", "CU:Tier 3"},
    ),
    (
        "heading-dash",
        "Tier 2 Watch List - Algeria does not fully comply with the minimum "
        "standards for the elimination of trafficking; however, it is making significant efforts "
        "to do so.",
        {"DZ:Tier 2 Watch List"},
    ),
    # A waiver keeps the country where it is; negated and hypothetical tiers are no placement.
    (
        "waiver-alone",
        "Niger was granted a waiver from an otherwise required downgrade to Tier 3 "
        "in the trafficking report.",
        set(),
    ),
    (
        "waiver-then-remained",
        "Algeria does not fully meet the minimum standards for the "
        "elimination of trafficking and is not making significant efforts to do so; it has a "
        "written plan; therefore Algeria was granted a waiver from an otherwise required "
        "downgrade to Tier 3 and remained on Tier 2 Watch List for a third year.",
        {"DZ:Tier 2 Watch List"},
    ),
    (
        "waiver-and-remains",
        "Kenya received a waiver and remains on the Tier 2 Watch List, the "
        "trafficking report says.",
        {"KE:Tier 2 Watch List"},
    ),
    (
        "would-have-been",
        "Oman would have been downgraded to Tier 3 but for a waiver; it remains "
        "on Tier 2 Watch List in the trafficking report.",
        {"OM:Tier 2 Watch List"},
    ),
    ("not-placed", "Mali was not placed on Tier 3 in the trafficking report.", set()),
    ("avoided", "Cambodia avoided a downgrade to Tier 3 in the trafficking report.", set()),
    ("risks", "Russia risks a downgrade to Tier 3 in next year's trafficking report.", set()),
    ("could", "Qatar could be moved to Tier 3 if trafficking prosecutions do not rise.", set()),
    ("origin-only", "Malaysia moved up from Tier 3 in the trafficking report.", set()),
    (
        "two-readings",
        "Uzbekistan is on Tier 2 Watch List for failing to fight trafficking; "
        "Uzbekistan was downgraded to Tier 3.",
        set(),
    ),
    # The minimum-standards formulas.
    (
        "formula-tier-3",
        "Cuba does not fully comply with the minimum standards for the "
        "elimination of trafficking and is not making significant efforts to do so.",
        {"CU:Tier 3"},
    ),
    (
        "formula-tier-1",
        "The Government of the United Kingdom fully meets the minimum standards "
        "for the elimination of trafficking.",
        {"GB:Tier 1"},
    ),
    (
        "formula-tier-2-says-nothing",
        "Georgia does not fully comply with the minimum standards "
        "for the elimination of trafficking; however, it is making significant efforts to do so.",
        set(),
    ),
    (
        "formula-noncompliance-alone",
        "The Government of the United Kingdom does not fully meet "
        "the minimum standards for the elimination of trafficking.",
        set(),
    ),
    (
        # A heading of one year over the formula of the previous year's report (a yearly
        # reference book keeps last year's text under this year's tier): two readings.
        "heading-over-another-years-formula",
        "Tier 2 Watch List - the Government of Laos does not fully comply with the minimum "
        "standards for the elimination of trafficking and is not making significant efforts "
        "to do so; it has not ratified the protocol (2011)",
        set(),
    ),
    (
        "formula-contradicts-words",
        "Russia does not fully comply with the minimum standards for "
        "the elimination of trafficking; however, it is making significant efforts to do so; "
        "Russia was placed on Tier 3.",
        set(),
    ),
    (
        "formula-two-subjects",
        "Unlike Georgia, Armenia does not fully comply with the minimum "
        "standards for the elimination of trafficking and is not making significant efforts to do "
        "so.",
        set(),
    ),
    # Report years only when the text ties them to the report.
    (
        "year-of-events-is-not-the-report",
        "Uzbekistan is on Tier 2 Watch List for failing to "
        "show increasing efforts in 2007 against trafficking.",
        {"UZ:Tier 2 Watch List"},
    ),
    (
        "year-citation",
        "China does not fully comply with the minimum standards for the "
        "elimination of trafficking and was downgraded to Tier 3 after the maximum of two "
        "consecutive annual waivers (2013)",
        {"CN:Tier 3:2013"},
    ),
    (
        "year-of-another-report",
        "Moldova does not fully comply with the minimum standards for "
        "the elimination of trafficking and is not making significant efforts to do so; it "
        "ignored abuses cited in the 2007 Report.",
        {"MD:Tier 3"},
    ),
    # Other languages: the same grammar.
    (
        "es-formula-watch-list",
        "El Gobierno de México no cumple plenamente con las normas "
        "mínimas para la eliminación de la trata, pero está haciendo esfuerzos significativos "
        "para lograrlo; por lo tanto, México permaneció en el Nivel 2 de la Lista de Vigilancia.",
        {"MX:Tier 2 Watch List"},
    ),
    (
        "es-formula-tier-3",
        "El Gobierno de Cuba no cumple plenamente con las normas mínimas para "
        "la eliminación de la trata y no está haciendo esfuerzos significativos para lograrlo.",
        {"CU:Tier 3"},
    ),
    (
        "es-not-placed",
        "Nicaragua no fue colocada en el nivel 3 del informe sobre trata de personas.",
        set(),
    ),
    (
        "es-waiver",
        "Se le otorgó a Nicaragua una dispensa de una rebaja obligatoria al nivel 3 "
        "en el informe sobre trata de personas.",
        set(),
    ),
    (
        "fr-formula-watch-list",
        "Le gouvernement du Mali ne respecte pas pleinement les normes "
        "minimales pour l'élimination de la traite, mais il déploie des efforts importants en ce "
        "sens. Le Mali reste donc dans la catégorie 2 sous surveillance.",
        {"ML:Tier 2 Watch List"},
    ),
    (
        "fr-not-placed",
        "Le Mali n'a pas été placé au niveau 3 du rapport sur la traite des personnes.",
        set(),
    ),
    (
        "fr-would-have-been",
        "Le Mali aurait été rétrogradé au niveau 3 du rapport sur la traite "
        "des personnes sans une dérogation.",
        set(),
    ),
    (
        "ru-formula-tier-3",
        "Правительство Беларуси не в полной мере соответствует минимальным "
        "стандартам по искоренению торговли людьми и не прилагает значительных усилий для этого.",
        {"BY:Tier 3"},
    ),
    (
        "ru-not-downgraded",
        "Казахстан не был понижен до третьего уровня в докладе о торговле людьми.",
        set(),
    ),
    (
        "ru-avoided",
        "Казахстан избежал понижения до третьего уровня в докладе о торговле людьми.",
        set(),
    ),
    (
        "tr-negated-verb-after",
        "Azerbaycan, insan ticareti raporunda 3. kademeye düşürülmedi.",
        set(),
    ),
    ("tr-placed", "Azerbaycan, insan ticareti raporunda 3. kademeye düşürüldü.", {"AZ:Tier 3"}),
    # Countries that are not the one placed, and lists that are not lists.
    (
        "unlike-before",
        "Unlike Belarus, Azerbaijan remained on Tier 2 in the trafficking report.",
        {"AZ:Tier 2"},
    ),
    (
        "victims-from",
        "India, a destination for victims from Nepal, remains on Tier 2 in the trafficking report.",
        {"IN:Tier 2"},
    ),
    ("moved-off", "Cambodia has moved off Tier 3 in the trafficking report.", set()),
    (
        "urged",
        "Activists urged the State Department to downgrade Qatar to Tier 3 in its "
        "trafficking report.",
        set(),
    ),
    (
        "not-a-list",
        "The Tier 3 ranking, which is the lowest in the trafficking report, worries "
        "officials in Russia.",
        set(),
    ),
    (
        "ru-list",
        "В третий уровень доклада о торговле людьми вошли Иран и КНДР.",
        {"IR:Tier 3", "KP:Tier 3"},
    ),
    # The same formulas as embassies translate them.
    (
        "ru-formula-then-tier",
        "Правительство Казахстана не в полной мере соответствует "
        "минимальным стандартам по ликвидации торговли людьми, однако прилагает для этого "
        "значительные усилия. Поэтому Казахстан остается на втором уровне.",
        {"KZ:Tier 2"},
    ),
    (
        "tr-formula-contradicts",
        "Türkiye Hükümeti insan ticaretinin ortadan kaldırılmasına "
        "yönelik asgari standartları tam olarak karşılamamaktadır ancak bu yönde önemli çabalar "
        "göstermektedir. Bu nedenle Türkiye 3. kademede kaldı.",
        set(),
    ),
    (
        "az-formula-then-tier",
        "Azərbaycan Hökuməti insan alverinin aradan qaldırılması üçün "
        "minimum standartlara tam cavab vermir, lakin bu istiqamətdə əhəmiyyətli səylər göstərir. "
        "Buna görə də Azərbaycan 2-ci səviyyədə qalıb.",
        {"AZ:Tier 2"},
    ),
    (
        "ar-formula-tier-3",
        "لا تفي حكومة الجزائر بشكل كامل بالمعايير الدنيا للقضاء على الاتجار "
        "بالبشر ولا تبذل جهوداً كبيرة لتحقيق ذلك.",
        {"DZ:Tier 3"},
    ),
    (
        "ar-formula-contradicts",
        "لا تفي حكومة الجزائر بشكل كامل بالمعايير الدنيا للقضاء على "
        "الاتجار بالبشر، ولكنها تبذل جهوداً كبيرة لتحقيق ذلك. ولذلك بقيت الجزائر في الفئة الثالثة.",
        set(),
    ),
    (
        "not-before",
        "Azerbaijan, not Armenia, is on Tier 2 in the trafficking report.",
        {"AZ:Tier 2"},
    ),
    (
        "doc-year-not-for-another-year",
        "The 2024 Trafficking in Persons Report is out. Back in "
        "2019, Azerbaijan was on the Tier 2 Watch List.",
        {"AZ:Tier 2 Watch List"},
    ),
    (
        "doc-year-after-since",
        "The 2024 Trafficking in Persons Report is out. Since 2019, "
        "Azerbaijan has remained on Tier 2.",
        {"AZ:Tier 2:2024"},
    ),
    # The Watch List however it is attached; a "Tier 2" next to a watch list it cannot read.
    (
        "watch-list-in-brackets",
        "Bangladesh is on Tier 2 (Watch List) in the trafficking report.",
        {"BD:Tier 2 Watch List"},
    ),
    (
        "watch-list-first",
        "Bangladesh is on the Watch List (Tier 2) in the trafficking report.",
        {"BD:Tier 2 Watch List"},
    ),
    (
        "tier-2-near-a-watch-list",
        "Bangladesh is on Tier 2 (the so-called watch list) in the trafficking report.",
        set(),
    ),
    (
        "tier-2-and-another-watch-list",
        "Azerbaijan remains on Tier 2, while Kazakhstan was placed "
        "on the Tier 2 Watch List in the trafficking report.",
        {"AZ:Tier 2", "KZ:Tier 2 Watch List"},
    ),
    (
        "es-watch-list-after",
        "Bangladesh figura en el Nivel 2 Lista de Vigilancia del informe "
        "sobre la trata de personas.",
        {"BD:Tier 2 Watch List"},
    ),
    (
        "fr-watch-list-after",
        "Le Bangladesh est placé au niveau 2 liste de surveillance du "
        "rapport sur la traite des personnes.",
        {"BD:Tier 2 Watch List"},
    ),
    (
        "ru-watch-list-level-2",
        "Бангладеш помещен в список наблюдения уровня 2 в докладе о торговле людьми.",
        {"BD:Tier 2 Watch List"},
    ),
    # German, Portuguese, Italian, Ukrainian, Polish.
    (
        "de-downgraded",
        "Russland wurde im Bericht über Menschenhandel auf Stufe 3 herabgestuft.",
        {"RU:Tier 3"},
    ),
    (
        "de-not-downgraded",
        "Russland wurde im Bericht über Menschenhandel nicht auf Stufe 3 herabgestuft.",
        set(),
    ),
    (
        "de-could-be",
        "Russland könnte im Bericht über Menschenhandel auf Stufe 3 herabgestuft werden.",
        set(),
    ),
    (
        "de-watch-list",
        "Kasachstan steht im Bericht über Menschenhandel auf der Stufe-2-Beobachtungsliste.",
        {"KZ:Tier 2 Watch List"},
    ),
    (
        "de-formula-tier-3",
        "Die Regierung Russlands erfüllt die Mindeststandards zur Beseitigung "
        "des Menschenhandels nicht vollständig und unternimmt keine erheblichen Anstrengungen.",
        {"RU:Tier 3"},
    ),
    (
        "pt-watch-list",
        "Angola está na lista de observação do nível 2 do relatório sobre tráfico de pessoas.",
        {"AO:Tier 2 Watch List"},
    ),
    (
        "pt-not-downgraded",
        "O Brasil não foi rebaixado para o nível 3 do relatório sobre tráfico de pessoas.",
        set(),
    ),
    (
        "pt-formula-tier-3",
        "O Governo de Angola não cumpre plenamente os padrões mínimos para a "
        "eliminação do tráfico de pessoas e não está fazendo esforços significativos para isso.",
        {"AO:Tier 3"},
    ),
    (
        "it-downgraded",
        "La Libia è stata retrocessa in fascia 3 nel rapporto sulla tratta di esseri umani.",
        {"LY:Tier 3"},
    ),
    (
        "it-not-downgraded",
        "La Libia non è stata retrocessa in fascia 3 nel rapporto sulla tratta di esseri umani.",
        set(),
    ),
    (
        "uk-stayed",
        "Україна залишилася на другому рівні у звіті про торгівлю людьми.",
        {"UA:Tier 2"},
    ),
    (
        "uk-not-lowered",
        "Україну не було знижено до третього рівня у звіті про торгівлю людьми.",
        set(),
    ),
    ("pl-stayed", "Polska pozostała na poziomie 1 w raporcie o handlu ludźmi.", {"PL:Tier 1"}),
    (
        "rather-than",
        "The trafficking report said Thailand should be placed on Tier 3 rather "
        "than Tier 2 Watch List.",
        set(),
    ),
    (
        "tier-rating",
        "Azerbaijan's Tier 2 rating in the trafficking report reflects modest progress.",
        {"AZ:Tier 2"},
    ),
    (
        "short-lists",
        "Tier 2 Watch List: Kazakhstan, Kyrgyzstan. Tier 3: Turkmenistan. Source: "
        "trafficking report.",
        {"KZ:Tier 2 Watch List", "KG:Tier 2 Watch List", "TM:Tier 3"},
    ),
    (
        "neither-nor-both",
        "Neither Russia nor Belarus improved; both remain on Tier 3 in the trafficking report.",
        set(),
    ),
    # Chinese, Japanese, Korean, Persian, Hindi, Indonesian, Dutch; the report's author.
    ("zh-placed-issuer", "美国国务院在人口贩运问题报告中将中国列为第三级。", {"CN:Tier 3"}),
    ("zh-not-placed", "在人口贩运问题报告中中国未被列为第三级。", set()),
    (
        "zh-watch-list",
        "在人口贩运问题报告中，马来西亚被列入第二级观察名单。",
        {"MY:Tier 2 Watch List"},
    ),
    ("ja-kept", "人身取引報告書で日本は第2階層に据え置かれた。", {"JP:Tier 2"}),
    ("ja-not-lowered", "人身取引報告書で日本は第3階層に引き下げられなかった。", set()),
    ("ko-classified", "인신매매 보고서에서 북한은 3등급으로 분류됐다.", {"KP:Tier 3"}),
    ("ko-not-downgraded", "인신매매 보고서에서 한국은 3등급으로 강등되지 않았다.", set()),
    ("fa-placed", "در گزارش قاچاق انسان، ایران در رده سوم قرار گرفت.", {"IR:Tier 3"}),
    ("fa-not-placed", "در گزارش قاچاق انسان، ترکیه در رده سوم قرار نگرفت.", set()),
    ("hi-kept", "मानव तस्करी रिपोर्ट में भारत को टियर 2 में रखा गया।", {"IN:Tier 2"}),
    ("hi-not-kept", "मानव तस्करी रिपोर्ट में भारत को टियर 3 में नहीं रखा गया।", set()),
    (
        "id-watch-list",
        "Dalam laporan perdagangan orang, Indonesia masuk Daftar Pantauan Tingkat 2.",
        {"ID:Tier 2 Watch List"},
    ),
    (
        "id-not-lowered",
        "Dalam laporan perdagangan orang, Indonesia tidak turun ke Tingkat 3.",
        set(),
    ),
    ("nl-stays", "In het rapport over mensenhandel blijft Nederland op niveau 1.", {"NL:Tier 1"}),
    (
        "fr-issuer",
        "Le département d'État américain maintient l'Azerbaïdjan au niveau 2 dans son "
        "rapport sur la traite des personnes.",
        {"AZ:Tier 2"},
    ),
    (
        "de-issuer",
        "Das US-Außenministerium belässt Aserbaidschan im Bericht über Menschenhandel auf Stufe 2.",
        {"AZ:Tier 2"},
    ),
    # One country, two tiers in two paragraphs: only different report years keep both.
    (
        "two-paragraphs-two-tiers",
        "Azerbaijan remained on Tier 2 in the trafficking report.\n"
        "Elsewhere the report says Azerbaijan is on the Tier 2 Watch List.",
        set(),
    ),
    (
        "two-paragraphs-two-years",
        "The 2024 Trafficking in Persons Report kept Azerbaijan on Tier "
        "2.\nIn the 2019 Trafficking in Persons Report Azerbaijan was on the Tier 2 Watch List.",
        {"AZ:Tier 2:2024", "AZ:Tier 2 Watch List:2019"},
    ),
    # Phases and levels are not tiers.
    ("ko-phase", "한국 정부는 인신매매 대응 1단계 계획을 발표했다.", set()),
    ("ja-phase", "日本政府は人身取引対策の第3段階に入った。", set()),
    # The subject, not every country before the tier.
    (
        "another-subject-between",
        "Baku welcomed the US decision to keep Azerbaijan on Tier 2 in the trafficking report.",
        {"AZ:Tier 2"},
    ),
    (
        "neighbour-of",
        "Azerbaijan, a neighbour of Iran and Russia, remained on Tier 2 in the trafficking report.",
        {"AZ:Tier 2"},
    ),
    (
        "possessive-speaker",
        "Russia's ambassador said Tier 3 was unfair, the trafficking report notwithstanding.",
        set(),
    ),
    (
        "government-of",
        "The Government of Ghana remained on Tier 2 in the trafficking report.",
        {"GH:Tier 2"},
    ),
]


# The cases whose tier only the minimum-standards formula gives: their statements are read
# only with the opt-in ``[gazetteer] tier_formulas``; as shipped, nothing (a later text may
# carry an earlier report's formula under another tier, and nothing in the text tells).
FORMULA_ONLY = {
    "formula-tier-3",
    "formula-tier-1",
    "year-of-another-report",
    "es-formula-tier-3",
    "ru-formula-tier-3",
    "ar-formula-tier-3",
    "de-formula-tier-3",
    "pt-formula-tier-3",
}


def _got(result) -> set[str]:
    return {f"{t.country}:{t.tier}" + (f":{t.year}" if t.year else "") for t in result.tiers}


def test_the_formula_cases_are_cases():
    assert {c[0] for c in CASES} >= FORMULA_ONLY


@pytest.mark.parametrize(("name", "text", "want"), CASES, ids=[c[0] for c in CASES])
def test_tier_statement(default_matcher, name, text, want):
    """As shipped: every statement in words, none from a formula alone."""
    assert _got(default_matcher.match("", text)) == (set() if name in FORMULA_ONLY else want)


@pytest.mark.parametrize(("name", "text", "want"), CASES, ids=[c[0] for c in CASES])
def test_tier_statement_with_formulas(formula_matcher, name, text, want):
    """With ``tier_formulas``: the formula readings too (basis "formula"), and the statements
    in words exactly as shipped."""
    result = formula_matcher.match("", text)
    assert _got(result) == want
    assert {t.basis for t in result.tiers} <= {"formula" if name in FORMULA_ONLY else "words"}


def test_a_statement_keeps_its_sentence(default_matcher):
    text = "Iran stays on Tier 3. Ghana was upgraded to Tier 2 in the trafficking report."
    by_country = {t.country: t.sentence for t in default_matcher.match("", text).tiers}
    assert by_country == {
        "IR": "Iran stays on Tier 3.",
        "GH": "Ghana was upgraded to Tier 2 in the trafficking report.",
    }


LAOS_FORMULA = (
    "Laos does not fully comply with the minimum standards for the elimination of "
    "trafficking and is not making significant efforts to do so."
)


def test_the_basis_says_whether_the_words_name_the_tier(formula_matcher):
    """A tier read from the formula alone is marked as the weaker reading ("formula")."""

    def basis(text: str) -> dict[str, str]:
        return {t.country: t.basis for t in formula_matcher.match("", text).tiers}

    assert basis(LAOS_FORMULA) == {"LA": "formula"}
    assert basis("Laos was placed on Tier 3 in the trafficking report.") == {"LA": "words"}
    assert basis(LAOS_FORMULA + " Laos was placed on Tier 3 in the trafficking report.") == {
        "LA": "words"
    }


def test_a_formula_alone_gives_no_tier_as_shipped(default_matcher):
    """As shipped, a formula alone says nothing; the same formula with the tier in words (a
    heading, a sentence, a move) still gives it, from the words."""

    def read(text: str) -> dict[str, tuple[str, str]]:
        return {t.country: (t.tier, t.basis) for t in default_matcher.match("", text).tiers}

    assert read(LAOS_FORMULA) == {}
    assert read("Tier 3 - " + LAOS_FORMULA) == {"LA": ("Tier 3", "words")}
    assert read(LAOS_FORMULA + " Laos was placed on Tier 3 in the trafficking report.") == {
        "LA": ("Tier 3", "words")
    }
    assert read(LAOS_FORMULA + " Laos was therefore downgraded to Tier 3.") == {
        "LA": ("Tier 3", "words")
    }
    # The formula still vetoes the words it contradicts, as with the opt-in.
    assert read(LAOS_FORMULA + " Laos was placed on Tier 2.") == {}
