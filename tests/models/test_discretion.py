"""行政处罚裁量基准 (data/discretion.yaml, models/discretion.py): every 行政处罚 item of the bureau's list has
its levels; each branch quotes the current text of the cited article; every level lies within the range
that quote sets; and a proposal outside its level's range is flagged to the reviewer."""
import re

import pytest

import settings
from models import discretion, laws
from models.seed import load_seed
from tests.conftest import ROOT

LAW_TEXTS = ROOT.parent / "shared" / "laws"
CONFIG = settings.load_config(environ={})
PENALTY_ITEMS = [i for i in load_seed()["items"] if i["category"] == "行政处罚"]
TABLE = discretion.table(CONFIG)


def article_text(law, article):
    """The text of `article` (第X条, all its paragraphs) in the law's current text."""
    body = (LAW_TEXTS / law.text).read_text(encoding="utf-8")
    found = re.search(rf"(?:^|\n)\s*{article}\s(.*?)(?=\n\s*第[零一二三四五六七八九十百千]+条\s|\Z)", body, re.S)
    assert found, f"{law.name} has no {article}"
    return found.group(1)


def test_the_catalogue_has_penalty_items():
    assert len(PENALTY_ITEMS) >= 20


@pytest.mark.parametrize("item", PENALTY_ITEMS, ids=lambda i: i["code"])
def test_every_penalty_item_has_levels_within_the_statute(item):
    entry = TABLE["items"].get(item["code"])
    assert entry, f"{item['code']} {item['name']} has no discretion levels"
    [(name, provisions)] = laws.citations(entry["source"])
    assert name.replace("中华人民共和国", "") == item["basis_law"].replace("中华人民共和国", ""), entry["source"]
    [article] = laws.articles(provisions)
    assert article in laws.articles(item["basis_article"]), (entry["source"], item["basis_article"])
    graded = set()
    for branch in entry["fines"]:
        statute = discretion.statute_range(branch["statute"])
        assert branch["levels"], branch["when"]
        for level, (low, high) in branch["levels"].items():
            assert level in discretion.GRADES, level
            assert low <= high and statute.contains(low, high), (item["code"], branch["when"], level, statute)
            graded.add(level)
        # Levels climb: a heavier level never starts below a lighter one.
        starts = [branch["levels"][g][0] for g in discretion.GRADES if g in branch["levels"]]
        assert starts == sorted(starts), (item["code"], branch["when"])
        assert set(branch.get("measures") or {}) <= set(branch["levels"]), (item["code"], branch["when"])
    assert graded == set(discretion.GRADES), (item["code"], graded)
    assert isinstance(entry["first_offence"], bool)


@pytest.mark.parametrize("item", PENALTY_ITEMS, ids=lambda i: i["code"])
def test_every_quote_is_the_current_text_of_the_article(item):
    entry = TABLE["items"][item["code"]]
    [(name, provisions)] = laws.citations(entry["source"])
    law = laws.find(name)
    assert law is not None, entry["source"]
    if not law.verified:
        pytest.skip(f"《{law.name}》: its text is not in /work/shared/laws ({law.note[:40]})")
    text = article_text(law, laws.articles(provisions)[0])
    for branch in entry["fines"]:
        assert branch["statute"] in text, (item["code"], branch["statute"])


def test_the_statutes_amounts_are_read_in_both_numerals():
    assert discretion.statute_range("并处三万元以上三十万元以下罚款") == discretion.Range(30000, 300000)
    assert discretion.statute_range("处二千元以上二万以下罚款") == discretion.Range(2000, 20000)
    assert discretion.statute_range("可以并处15000元以下的罚款") == discretion.Range(0, 15000)
    assert discretion.statute_range("并处违法所得1倍以上3倍以下的罚款") == discretion.Range(1, 3, True)
    assert discretion.statute_range("处五百万元以上一千万元以下的罚款") == discretion.Range(5000000, 10000000)
    assert discretion.statute_range("并处1倍以上3倍以下罚款，但最高不超过3万元").cap == 30000
    assert discretion.statute_range("给予警告；情节严重的，责令停业整顿1个月至3个月") == discretion.Range(0, 0)
    with pytest.raises(ValueError):
        discretion.statute_range("并处罚款")


@pytest.mark.parametrize("code,kind,proposal,flag", [
    ("CF-002", "法人或其他组织", {"level": "一般", "fine_yuan": 8000}, ""),
    ("CF-002", "法人或其他组织", {"level": "一般", "fine_yuan": 12000}, "超出“一般”档次"),
    ("CF-001", "自然人", {"level": "轻微", "fine_yuan": 15000, "base_yuan": 3000}, ""),
    ("CF-001", "自然人", {"level": "轻微", "fine_yuan": 15000, "base_yuan": 20000}, "100000至120000元"),
    ("CF-001", "自然人", {"level": "轻微", "fine_yuan": 110000, "base_yuan": 20000}, ""),
    ("CF-001", "自然人", {"level": "严重", "fine_yuan": 900000}, "未写明违法所得或违法经营额"),
    ("CF-018", "自然人", {"level": "一般", "fine_yuan": 200000}, ""),
    ("CF-018", "自然人", {"level": "严重", "fine_yuan": 6000000}, "超出“严重”档次"),
    ("CF-018", "法人或其他组织", {"level": "严重", "fine_yuan": 6000000}, ""),
    ("CF-004", "法人或其他组织", {"level": "首违不罚", "fine_yuan": 0}, ""),
    ("CF-003", "法人或其他组织", {"level": "首违不罚", "fine_yuan": 0}, "未列入本局首违不罚事项"),
    ("CF-003", "法人或其他组织", {"level": "不予处罚", "fine_yuan": 500}, "不应并处罚款"),
    ("CF-026", "自然人", {"level": "严重", "fine_yuan": 30000, "base_yuan": 20000}, ""),
    ("CF-026", "自然人", {"level": "严重", "fine_yuan": 35000, "base_yuan": 20000}, "超出"),
    ("XX-999", "自然人", {"level": "一般", "fine_yuan": 1}, "尚无裁量基准"),
    ("CF-002", "法人或其他组织", {"level": "严重", "fine_yuan": 12000, "penalty": "罚款12000元，责令停业整顿"}, ""),
    ("CF-002", "法人或其他组织", {"level": "一般", "fine_yuan": 8000, "penalty": "罚款8000元，责令停业整顿"}, "只在“严重”"),
    ("CF-015", "自然人", {"level": "严重", "fine_yuan": 8000, "penalty": "罚款8000元，吊销导游证"}, "不在本事项的法定处罚种类中"),
])
def test_a_fine_outside_its_level_is_flagged(code, kind, proposal, flag):
    said = discretion.check(CONFIG, code, kind, proposal)
    assert (flag in said) if flag else said == "", said


def test_the_proposal_records_the_flag_the_reviewer_sees(tmp_path, monkeypatch, database_url, app):
    """Through `bot.py review propose`: the base amount is kept and the fine checked against its level."""
    from click.testing import CliRunner

    import bot
    from models import cases, db
    from tests.models.test_review import A, B, at

    config = app.config["SANXIANG"]
    db.connect(reuse_if_open=True)
    case = cases.open_case(config, party={"kind": "自然人", "name": "张某"}, handlers=[A, B], by=A, at=at(9, 1),
                           data={"item_code": "CF-001", "source": "举报", "facts": "无证网吧", "approver": "局长"})
    cases.record_step(config, case.number, "调查取证", {"method": "询问", "content": "x", "officers": [A, B],
                                                    "av_exception": "询问室录像设备故障，已书面记录"}, by=A, at=at(9, 2))
    db.close()
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(bot.cli, ["review", "propose", case.number, "--by", A, "--report", "调查终结",
                                          "--penalty", "没收，罚款15000元", "--fine", "15000", "--base", "20000",
                                          "--level", "轻微", "--reasoning", "初犯"])
    assert result.exit_code == 0, result.output
    assert "裁量提示：拟罚款15000元超出“轻微”档次" in result.output and "100000至120000元" in result.output
    db.connect(reuse_if_open=True)
    assert cases.get_case(case.number).file().last("拟决定")[1]["base_yuan"] == 20000


def test_the_levels_are_published(client):
    """《行政处罚法》第三十四条: 行政处罚裁量基准应当向社会公布. Every penalty item, its article's words, its levels."""
    html = client.get("/discretion").get_data(as_text=True)
    for item in PENALTY_ITEMS:
        assert f'id="{item["code"]}"' in html and item["name"] in html, item["code"]
    assert "违法经营额不足1万元的，并处1万元以上5万元以下的罚款" in html and "1万元至2万元" in html
    assert "违法所得或违法经营额的5至6倍" in html and "首违不罚" in html and "不罚款" in html
    assert 'href="/discretion#CF-002"' in client.get("/items?q=网吧").get_data(as_text=True)
    assert 'href="/discretion"' in client.get("/review").get_data(as_text=True)
