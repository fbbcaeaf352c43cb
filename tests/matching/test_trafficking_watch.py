"""The default `trafficking` watch (data/newswatch.toml) on each class of phrasing (issue 14
item 3): it fires however trafficking is phrased, in every language it covers, and stays
quiet on drug, arms and wildlife trafficking, software exploits and smuggled goods.

The sentences are written for this test, one or more per class; none comes from a corpus.
"""

from __future__ import annotations

import pytest

FIRES = {
    # verb forms
    "trafficked into": "Dozens of people trafficked into call-centre compounds were freed.",
    "trafficked from": "The girls had been trafficked from villages in the north.",
    "trafficked to": "Police say two teenagers were trafficked to the capital last year.",
    "passive, a pronoun": "In a new interview she explains how she was trafficked at 16.",
    "sold into": "Her cousin was sold into marriage at the age of thirteen.",
    "sold into slavery, people": "Militants sold women and girls into slavery, and some were sold into slavery twice.",
    "forced into prostitution": "Once in Europe, she was forced into prostitution.",
    "forced into labour": "Rescued workers said they were forced into labour on a cattle ranch.",
    "forced into marriage": "Many were forced into marriage before they turned 15.",
    "forced into begging": "Children forced into begging were found near the station.",
    "forced to work, held": "The men were held in a barracks and forced to work without pay.",
    "held and forced to work": "Survivors said they were held and forced to work on a farm.",
    "forced to work, passports": "Their passports were taken and they were forced to work 16 hours a day.",
    # trafficking with a human object
    "trafficking farmworkers": "A grower was charged with trafficking farmworkers from Guatemala.",
    "trafficking women": "The gang is accused of trafficking women through the port.",
    "trafficking charges": "A Texas man faces trafficking charges after police rescued two girls.",
    "traffickers lured": "Traffickers lured the young women with fake job offers.",
    # the crime by name
    "an indicator": "Withholding wages is a common indicator of trafficking, advocates say.",
    "hyphenated": "She testified against a sex-trafficking ring.",
    "modern slavery": "The bill aims to end modern slavery in supply chains.",
    "servitude": "Domestic workers described conditions of involuntary servitude.",
    # the report itself
    "the report": "Governments ranked Tier 3 in this year's trafficking report may lose aid.",
    "a heading": "ARMENIA: TIER 2\n\nThe government does not fully meet the minimum standards for the elimination of trafficking.",
    "tier placement": "Moldova was moved up to Tier 2 in the State Department's trafficking rankings.",
    "tip report": "The TIP report is released every June.",
    # other languages
    "fr traite des enfants": "La traite des enfants progresse dans la région, selon l'ONG.",
    "fr êtres humains": "Un réseau de traite des êtres humains a été démantelé à Lyon.",
    "fr travail forcé": "Des ouvriers soumis au travail forcé ont été libérés.",
    "es trata": "La policía desarticuló una red de trata de mujeres en Madrid.",
    "es trabajo forzoso": "El informe denuncia el trabajo forzoso en las minas.",
    "pt tráfico": "A polícia investiga uma rede de tráfico de pessoas no porto.",
    "it tratta": "Arrestati tre uomini per tratta di esseri umani.",
    "de Menschenhandel": "Die Polizei hat einen Ring von Menschenhändlern zerschlagen.",
    "de Zwangsarbeit": "Hunderte Arbeiter mussten Zwangsarbeit leisten.",
    "nl mensenhandel": "De rechtbank veroordeelde hem voor mensenhandel.",
    "pl handel ludźmi": "Prokuratura oskarżyła ich o handel ludźmi.",
    "ru торговля людьми": "Полиция задержала подозреваемых в торговле людьми.",
    "ru принудительный труд": "Мигрантов принуждали к труду: это принудительный труд.",
    "uk торгівля людьми": "Поліція викрила схему торгівлі людьми.",
    "tr insan ticareti": "İnsan tacirleri yirmi göçmeni zorla çalıştırdı.",
    "az insan alveri": "İnsan alverinin qurbanlarına yardım göstərilir.",
    "ar الاتجار بالبشر": "ضبطت الشرطة شبكة للاتجار بالبشر في المدينة.",
    "ar العمل القسري": "تحدث التقرير عن العمل القسري في المزارع.",
    "fa قاچاق انسان": "پلیس یک باند قاچاق انسان را متلاشی کرد.",
    "id perdagangan orang": "Polisi menangkap tersangka perdagangan orang di Batam.",
    "ko 인신매매": "경찰은 인신매매 조직을 적발했다.",
    "zh 拐卖": "警方破获一起拐卖妇女儿童案件。",
    "zh 强迫劳动": "报告指出工厂存在强迫劳动问题。",
    "ja 人身取引": "政府は人身取引対策を強化すると発表した。",
    "hi मानव तस्करी": "पुलिस ने मानव तस्करी के एक गिरोह का भंडाफोड़ किया।",
}

QUIET = {
    "drug-trafficking, hyphenated": "The navy hit two alleged drug-trafficking vessels, killing 11 people.",
    "drug trafficking": "Three people were arrested for drug trafficking after police found cocaine.",
    "drug, verb": "The cartel trafficked heroin through the port for a decade.",
    "drug, later sentence": "Agents seized 40 kilos of cocaine. The man was charged with trafficking.",
    "arms": "Arms traffickers supplied rifles to militias in the region.",
    "wildlife": "Ivory traffickers were caught with tusks; wildlife trafficking is rising.",
    "software exploit": "Hackers exploited a flaw to steal passwords; the exploit is public.",
    "smuggled goods": "Customs seized smuggled cigarettes and counterfeit watches at the border.",
    "forced to work with": "I was forced to work with legacy code for years.",
    "forced to work, a meeting held": "Staff were forced to work through the weekend, the union said at a meeting held on Monday.",
    "forced to work from home": "Staff were forced to work from home during the lockdown.",
    "tier, covid": "London moved into Tier 3 restrictions as cases rose.",
    "tier list, games": "Our tier list ranks every fighter from Tier 1 to Tier 3.",
    "tier, suppliers": "The brewer audits its Tier 2 suppliers every year.",
    "sold into, business": "The division was sold into private hands last year.",
    "slavery, history": "The museum tells how Africans were sold into slavery in the 1700s.",
    "es se trata de personas": "Se trata de personas mayores que viven solas.",
    "it si tratta di donne": "Si tratta di donne che lavorano nel settore pubblico.",
    "fr traite des enfants, a doctor": "Le médecin qui traite des enfants malades a été honoré.",
    "countries trafficked": "Small nations were traded and trafficked by the great powers.",
    "traffic": "Traffic was heavy on the motorway after the accident.",
    "drug report": "The UN drug trafficking report says cocaine output hit a record.",
}


@pytest.mark.parametrize("case", sorted(FIRES))
def test_fires(default_matcher, case):
    result = default_matcher.match("", FIRES[case])
    assert "trafficking" in result.watches, case
    # a match explains itself: the phrases that fired are in the article
    terms = result.watch_terms["trafficking"]
    assert terms and all(t in FIRES[case] for t in terms)


@pytest.mark.parametrize("case", sorted(QUIET))
def test_stays_quiet(default_matcher, case):
    assert "trafficking" not in default_matcher.match("", QUIET[case]).watches, case


def test_the_azerbaijan_watch_needs_the_country(default_matcher):
    text = "Azerbaijan: a grower was charged with trafficking farmworkers."
    assert set(default_matcher.match("", text).watches) == {"trafficking", "azerbaijan"}
    text = "Georgia: a grower was charged with trafficking farmworkers."
    assert default_matcher.match("", text).watches == ["trafficking"]
