"""Chinese at the event level (issue 15): in a Chinese article a run of Han characters is
cut into words by a dictionary (jieba), not read as overlapping character bigrams, so that
one threshold fits Chinese as it fits the languages written with spaces. Two outlets' own
reports of one event join; a report of another event of the same kind stays apart.
Japanese and Korean runs, and Chinese quoted in another language, stay bigrams. Fixtures
written for newswatch."""

from __future__ import annotations

from crawler import archive
from crawler.event_terms import headline_and_lead
from crawler.store import store_items
from crawler.stories import StoryAssigner

# Other news in the index: the words of every day weigh less than one event's names.
RATES = (
    "央行维持基准利率不变",
    "中国人民银行周四宣布维持一年期贷款市场报价利率不变，并表示将继续实施稳健的货币政策，"
    "保持流动性合理充裕。分析人士此前普遍预计央行本月不会调整利率，人民币汇率小幅波动。",
)
STRIKE = (
    "港口工人罢工导致集装箱码头停运",
    "约六百名码头工人因夜班工资问题举行罢工，港口三台起重机停止作业，十一艘货轮在锚地等待。"
    "工会表示，与码头运营商的谈判将于周四恢复。",
)
TRAIN = (
    "新高铁线路正式开通运营",
    "连接两座省会城市的新高铁线路周一正式开通，全程运行时间缩短至两小时。铁路部门表示，"
    "首日共发送旅客两万余人次，票价与普通列车相比有所上涨。",
)
# One earthquake, reported by an agency and, in its own words, by a newspaper (cosine of
# the two about 0.46 read as words, 0.32 as bigrams: under the default threshold)...
QUAKE = (
    "云南大理发生地震 造成多人受伤",
    "中国地震台网正式测定，云南省大理州漾濞县周五晚间发生地震，震源深度十公里。"
    "当地政府表示，地震造成多人受伤，部分房屋倒塌，救援队伍已连夜赶往震中漾濞县开展救援。",
)
QUAKE_AGAIN = (
    "大理漾濞地震 多人受伤",
    "记者从大理州应急管理局获悉，漾濞县地震发生后，救援队伍和医疗人员连夜驰援，"
    "多名受伤群众已被送往州医院救治。震中附近的村庄有房屋倒塌，帐篷和食品正陆续运抵灾区。",
)
# ...and an earthquake elsewhere, told in the same formulas.
OTHER_QUAKE = (
    "四川泸定发生地震 山区道路中断",
    "中国地震台网正式测定，四川省甘孜州泸定县周一中午发生地震，震源深度十六公里。"
    "泸定县磨西镇山区多处道路因山体滑坡中断，通信一度受阻，武警部队徒步进入灾区搜救。",
)


def item(url: str, title: str, text: str) -> dict:
    return {
        "url": url,
        "guid": None,
        "title": title,
        "text": text,
        "summary": None,
        "author": None,
        "language": "zh",
        "categories": [],
        "published_at": "2026-03-06T12:00:00+00:00",
        "updated_at": None,
    }


def stories(db, docs: dict[str, tuple[str, str]]) -> dict[str, int]:
    """Store each from its own outlet, in this order; {name: story id}."""
    with archive.write(db):
        assigner = StoryAssigner(db)
        for name, doc in docs.items():
            store_items(db, f"outlet-{name}", [item(f"https://{name}.example/1", *doc)], assigner)
    rows = db.execute("SELECT url, story_id FROM articles").fetchall()
    return {url.split("//")[1].split(".")[0]: story for url, story in rows}


def test_chinese_is_read_as_words():
    head, lead = headline_and_lead(*QUAKE, "zh")
    assert {"云南", "大理", "地震"} <= set(head)
    assert "南大" not in head and "理发" not in head  # bigrams across two words
    assert "漾濞县" in lead or "漾濞" in lead


def test_chinese_in_an_article_of_another_language_stays_bigrams():
    # the segmenter is for Chinese articles (and loads only when one arrives)
    head, _ = headline_and_lead("Delegation visits 北京大学 campus", "", "en")
    assert {"北京", "京大", "大学"} <= set(head)
    head, _ = headline_and_lead("代表团访问北京大学", "", "zh")
    assert "北京大学" in head and "京大" not in head


def test_japanese_and_korean_runs_stay_bigrams():
    head, _ = headline_and_lead("東京でじしんが発生", "", "ja")
    assert "じし" in head and "東京" in head
    head, _ = headline_and_lead("서울에서지진", "", "ko")
    assert "서울" in head and "지진" in head


def test_two_chinese_reports_of_one_earthquake_join_and_another_stays_apart(db):
    got = stories(
        db,
        {
            "rates": RATES,
            "strike": STRIKE,
            "train": TRAIN,
            "quake": QUAKE,
            "again": QUAKE_AGAIN,
            "other": OTHER_QUAKE,
        },
    )
    assert got["again"] == got["quake"]
    assert got["other"] != got["quake"]
    assert len({got[n] for n in ("rates", "strike", "train", "quake", "other")}) == 5
