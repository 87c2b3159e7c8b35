"""重大执法决定法制审核 (models/review.py) and the procedure limits of models/cases.py: the catalogue,
a review nobody can get around, the gate before a decision, and the dates the software refuses."""
import datetime as dt

import pytest
from click.testing import CliRunner

import bot
import settings
from models import Officer, Staff, cases, db, ledger, review
from models.case_seed import seed_cases_if_empty
from tests.conftest import WeChatUser

A, B, C, D = "15052501001", "15052501002", "15052501003", "15052501008"
TZ = ledger.CHINA_TZ
POINTS = {"主体合法": True, "人员具备执法资格": True, "事实清楚": True, "证据确凿充分": True, "适用法律准确": True,
          "裁量基准适当": True, "程序合法": True, "未超越职权或滥用职权": True, "文书规范齐备": True, "涉嫌犯罪需移送": False}
MATERIALS = ["立案审批表", "证据清单", "调查终结报告", "拟处理意见及裁量理由"]


def at(month, day, hour=10):
    return dt.datetime(2026, month, day, hour, 0, tzinfo=TZ)


@pytest.fixture
def config(app, tmp_path):
    yield from review_config(app, tmp_path)


def review_config(app, tmp_path):
    """The app's configuration with a private ledger key and store, a qualified reviewer and a head."""
    overrides = {"ledger": {"private_key_path": str(tmp_path / "k.pem"), "feed_path": str(tmp_path / "heads.txt")},
                 "evidence": {"store_path": str(tmp_path / "records")}}
    db.connect(reuse_if_open=True)
    Staff.add(None, "白斯琴", "法制审核员", Officer.by_cert_no(C)).qualify("A2021150525", dt.date(2023, 6, 15))
    Staff.add(None, "其木格", "负责人", Officer.by_cert_no(D))
    yield settings.deep_merge(app.config["SANXIANG"], overrides)
    if not db.is_closed():
        db.close()


def investigated(config, kind="法人或其他组织", handlers=(A, B)):
    case = cases.open_case(config, party={"kind": kind, "name": "奈曼旗星空网吧", "address": "大沁他拉镇某街1号"},
                           handlers=list(handlers), by=handlers[0], at=at(9, 1),
                           data={"item_code": "CF-002", "source": "投诉举报", "facts": "接纳未成年人", "approver": "局长"})
    cases.record_step(config, case.number, "调查取证", {"method": "询问", "content": "承认接纳未成年人", "officers": list(handlers),
                                                    "av_exception": "询问室录像设备故障，已书面记录"}, by=handlers[0], at=at(9, 2))
    return case


def propose(config, case, fine=5000, penalty="警告，罚款人民币{fine}元", level="一般", day=3, **extra):
    data = {"report": "调查终结", "penalty": penalty.format(fine=fine), "fine_yuan": fine, "level": level,
            "reasoning": "按裁量基准", **extra}
    return cases.record_step(config, case.number, "拟决定", data, by=A, at=at(9, day))


def submit(config, case, day=3, materials=MATERIALS):
    return cases.record_step(config, case.number, "提请审核", {"materials": list(materials)}, by=A, at=at(9, day, 11))


def review_it(config, case, result="通过", day=4, by=C, **extra):
    data = {"result": result, "points": dict(POINTS), "opinion": "事实清楚，证据确凿", **extra}
    return cases.record_step(config, case.number, "审核", data, by=by, at=at(9, day))


def notify(config, case, day=7):
    cases.record_step(config, case.number, "告知", {"notice_no": "告〔2026〕1号", "facts": "接纳未成年人", "basis": "第三十一条",
                                                  "proposed": "警告，罚款", "served_on": f"2026-09-{day:02d}"}, by=A, at=at(9, day))


def request_hearing(config, case, day=8):
    return cases.record_step(config, case.number, "听证申请", {"requested_on": f"2026-09-{day:02d}", "method": "书面"},
                             by=A, at=at(9, day))


def decision(fine=5000, day=16, penalty="警告，罚款人民币{fine}元"):
    return {"decision_no": "罚决〔2026〕1号", "facts": "接纳未成年人", "evidence": "询问笔录", "basis": "第三十一条",
            "penalty": penalty.format(fine=fine), "fine_yuan": fine, "statement": "未提出陈述申辩",
            "decided_on": f"2026-09-{day:02d}"}


def discuss(config, case, day=15):
    return cases.record_step(config, case.number, "集体讨论", {"held_on": f"2026-09-{day:02d}", "host": "局长 其木格",
                                                           "participants": ["其木格", "包海龙", "王雅琴"],
                                                           "opinions": "同意", "conclusion": "同意拟处理意见"},
                             by=D, at=at(9, day))


@pytest.mark.parametrize("kind,proposal,major,rule", [
    ("自然人", {"fine_yuan": 9999}, False, None),
    ("自然人", {"fine_yuan": 6000, "confiscation_yuan": 4000}, True, "对自然人"),
    ("法人或其他组织", {"fine_yuan": 99999}, False, None),
    ("法人或其他组织", {"fine_yuan": 100000}, True, "对法人"),
    ("法人或其他组织", {"penalty": "吊销《网络文化经营许可证》"}, True, "吊销许可证件"),
    ("法人或其他组织", {"penalty": "责令停业整顿1个月"}, True, "责令停产停业"),
    ("法人或其他组织", {"transfer": True}, True, "涉嫌犯罪"),
    ("法人或其他组织", {"flags": ["多个法律关系"]}, True, "多个法律关系"),
])
def test_the_catalogue_says_whether_a_decision_is_major_and_why(app, kind, proposal, major, rule):
    verdict = review.classify(app.config["SANXIANG"], kind, proposal)
    assert verdict.major == major
    if rule:
        assert rule in verdict.explain() and "《行政处罚法》" in verdict.explain()
    assert review.classify(app.config["SANXIANG"], kind, {}, hearing_held=True).major


def test_the_thresholds_are_configuration(app):
    config = settings.deep_merge(app.config["SANXIANG"], {})
    config["review"]["catalogue"][0]["at_least_yuan"] = 5000
    assert review.classify(config, "自然人", {"fine_yuan": 5000}).major


def test_a_major_decision_needs_a_passed_review_by_an_outside_reviewer(config):
    case = investigated(config)
    entry = propose(config, case, fine=150000, level="严重")
    assert entry.content["data"]["major"] and entry.content["data"]["major_rules"]
    assert "超出“严重”档次" in entry.content["data"]["discretion_flag"]
    with pytest.raises(cases.CaseError, match="送审材料不全，缺少：调查终结报告"):
        submit(config, case, materials=["立案审批表", "证据清单", "拟处理意见及裁量理由"])
    with pytest.raises(cases.CaseError, match="审核前须由承办人员提请审核"):
        review_it(config, case)
    submit(config, case)
    with pytest.raises(cases.CaseError, match="本案承办人员，须回避"):
        review_it(config, case, by=A)  # a handler, even one with a staff account, never reviews
    with pytest.raises(cases.CaseError, match="逐项"):
        cases.record_step(config, case.number, "审核", {"result": "通过", "points": {"事实清楚": True}, "opinion": "x"},
                          by=C, at=at(9, 4))
    with pytest.raises(cases.CaseError, match="未通过审核：证据确凿充分"):
        review_it(config, case, points=dict(POINTS, 证据确凿充分=False))
    with pytest.raises(cases.CaseError, match="补充内容"):
        review_it(config, case, result="退回补充", points=dict(POINTS, 证据确凿充分=False))
    review_it(config, case, result="退回补充", points=dict(POINTS, 证据确凿充分=False), supplement="补充询问笔录")
    notify(config, case)
    with pytest.raises(cases.CaseError, match="须经法制审核.*对法人或者其他组织.*退回补充"):
        cases.record_step(config, case.number, "决定", decision(150000), by=A, at=at(9, 16))
    with pytest.raises(cases.CaseError, match="该次提请已审核"):
        review_it(config, case)
    submit(config, case, day=8, materials=MATERIALS + ["事先告知书及陈述申辩材料"])
    review_it(config, case, day=9)
    with pytest.raises(cases.CaseError, match="集体讨论"):
        cases.record_step(config, case.number, "决定", decision(150000), by=A, at=at(9, 16))
    discuss(config, case)
    with pytest.raises(cases.CaseError, match="不一致"):
        cases.record_step(config, case.number, "决定", decision(200000), by=A, at=at(9, 16))
    entry = cases.record_step(config, case.number, "决定", decision(150000), by=A, at=at(9, 16))
    assert entry.content["data"]["major"] is True and entry.content["data"]["review_seq"]


def test_a_review_goes_stale_when_something_material_is_recorded_after_it(config):
    case = investigated(config)
    propose(config, case, fine=150000, level="严重")
    submit(config, case)
    review_it(config, case)
    discuss(config, case, day=5)
    cases.record_step(config, case.number, "调查取证", {"method": "补充询问", "content": "新情况", "officers": [A, B],
                                                    "av_exception": "询问室录像设备故障，已书面记录"}, by=A, at=at(9, 6))
    notify(config, case)
    with pytest.raises(cases.CaseError, match=r"须经法制审核.*审核通过后又记录了第\d+条调查取证"):
        cases.record_step(config, case.number, "决定", decision(150000), by=A, at=at(9, 16))
    assert cases.CaseFile(case).last("决定") == (None, None)


def test_a_handler_who_disagrees_goes_to_collective_discussion(config):
    case = investigated(config)
    propose(config, case, fine=150000, level="严重")
    submit(config, case)
    review_it(config, case, result="不同意", opinion="证据不足以认定", points=dict(POINTS, 证据确凿充分=False))
    with pytest.raises(cases.CaseError, match="记录案件环节的权限"):  # only the case's handlers dissent
        cases.record_step(config, case.number, "审核异议", {"reasons": "x"}, by=C, at=at(9, 5))
    cases.record_step(config, case.number, "审核异议", {"reasons": "现场检查笔录和录像足以证明"}, by=A, at=at(9, 5))
    notify(config, case)
    with pytest.raises(cases.CaseError, match="集体讨论"):
        cases.record_step(config, case.number, "决定", decision(150000), by=A, at=at(9, 16))
    with pytest.raises(cases.CaseError, match="记录集体讨论的权限"):
        cases.record_step(config, case.number, "集体讨论", {"held_on": "2026-09-10", "host": "x", "participants": ["a", "b", "c"],
                                                        "opinions": "x", "conclusion": "x"}, by=A, at=at(9, 10))
    discuss(config, case, day=10)
    with pytest.raises(cases.CaseError, match="须经法制审核"):  # the discussion does not replace the review
        cases.record_step(config, case.number, "决定", decision(150000), by=A, at=at(9, 16))
    review_it(config, case, day=11)  # the reviewer looks again after the discussion
    cases.record_step(config, case.number, "决定", decision(150000), by=A, at=at(9, 16))


def test_a_reviewer_without_the_qualification_or_recused_is_refused(config):
    Staff.add(None, "新审核员", "法制审核员", Officer.by_cert_no("15052501005"))
    case = investigated(config)
    propose(config, case)
    submit(config, case)
    with pytest.raises(cases.CaseError, match="法律职业资格"):
        review_it(config, case, by="15052501005")
    cases.record_step(config, case.number, "回避", {"officer": C, "reason": "与当事人法定代表人系近亲属", "approver": "局长"},
                      by=A, at=at(9, 4, 9))
    with pytest.raises(cases.CaseError, match="回避"):
        review_it(config, case)


def test_the_decision_waits_for_the_statement_period_and_is_never_in_the_future(config):
    case = investigated(config)
    propose(config, case)
    notify(config, case, day=7)  # Monday 7 September; the 5th working day after it is Monday 14th
    with pytest.raises(cases.CaseError, match="2026-09-15起方可作出决定"):
        cases.record_step(config, case.number, "决定", decision(day=14), by=A, at=at(9, 14))
    with pytest.raises(cases.CaseError, match="晚于记录当天"):
        cases.record_step(config, case.number, "决定", decision(day=24), by=A, at=at(9, 15))
    cases.record_step(config, case.number, "决定", decision(day=15), by=A, at=at(9, 15))


def test_ninety_days_from_opening_unless_extended_in_time(config):
    case = investigated(config)
    propose(config, case)
    notify(config, case)
    late = dict(decision(), decided_on="2026-12-01")
    with pytest.raises(cases.CaseError, match="九十|90日"):
        cases.record_step(config, case.number, "决定", late, by=A, at=at(12, 1))
    assert [d.name for d in cases.deadlines(config, case.file())] == ["作出处罚决定"]
    assert cases.deadlines(config, case.file())[0].due == dt.date(2026, 11, 30)


def test_extension_recorded_before_the_limit_counts(config):
    case = investigated(config)
    propose(config, case)
    notify(config, case)
    cases.record_step(config, case.number, "延期", {"extend_days": 30, "reason": "案情复杂需补充鉴定", "approver": "局长"},
                      by=A, at=at(11, 20))
    cases.record_step(config, case.number, "决定", dict(decision(), decided_on="2026-12-01"), by=A, at=at(12, 1))


def test_hearing_notice_and_host(config):
    case = investigated(config)
    propose(config, case, fine=150000, level="严重")
    notify(config, case)
    notice = {"notice_no": "听通〔2026〕1号", "notified_on": "2026-09-09", "scheduled_on": "2026-09-14", "place": "本局听证室",
              "host": "李建国"}
    hearing = {"held_on": "2026-09-21", "host": "李建国", "summary": "当事人申辩",
               "av_exception": "听证室设备故障，已制作书面笔录"}
    with pytest.raises(cases.CaseError, match="须登记当事人的听证申请"):
        cases.record_step(config, case.number, "听证通知", notice, by=A, at=at(9, 9))
    request_hearing(config, case)
    with pytest.raises(cases.CaseError, match="须登记听证通知"):
        cases.record_step(config, case.number, "听证", hearing, by=A, at=at(9, 21))
    with pytest.raises(cases.CaseError, match="7个工作日前"):
        cases.record_step(config, case.number, "听证通知", notice, by=A, at=at(9, 9))
    with pytest.raises(cases.CaseError, match="非本案调查人员"):
        cases.record_step(config, case.number, "听证通知", dict(notice, scheduled_on="2026-09-21", host="包海龙"), by=A,
                          at=at(9, 9))
    # recorded on the day it is sent, with the hearing still ahead
    cases.record_step(config, case.number, "听证通知", dict(notice, scheduled_on="2026-09-21"), by=A, at=at(9, 9))
    with pytest.raises(cases.CaseError, match="改期的，须重新通知"):
        cases.record_step(config, case.number, "听证", dict(hearing, held_on="2026-09-22"), by=A, at=at(9, 22))
    with pytest.raises(cases.CaseError, match="更换主持人"):
        cases.record_step(config, case.number, "听证", dict(hearing, host="敖登高娃"), by=A, at=at(9, 21))
    held = cases.record_step(config, case.number, "听证", hearing, by=A, at=at(9, 21))
    assert held.content["data"]["notified_on"] == "2026-09-09" and held.content["data"]["requested_on"] == "2026-09-08"
    assert review.majority_of(config, case.file()).major  # decided after a hearing


def test_on_the_spot_penalties_stay_within_article_51(config):
    case = cases.open_case(config, party={"kind": "自然人", "name": "张某"}, handlers=[A, B], by=A, at=at(9, 1),
                           data={"item_code": "CF-015", "source": "日常检查", "facts": "x", "approver": "局长"})
    spot = {"decision_no": "当罚〔2026〕1号", "facts": "x", "basis": "x", "penalty": "罚款", "fine_yuan": 300,
            "place": "景区", "decided_on": "2026-09-01"}
    with pytest.raises(cases.CaseError, match="不得超过200元"):
        cases.record_step(config, case.number, "当场处罚", spot, by=A, at=at(9, 1, 11))
    with pytest.raises(cases.CaseError, match="只能是警告或罚款"):
        cases.record_step(config, case.number, "当场处罚", dict(spot, fine_yuan=100, penalty="没收违法所得"), by=A,
                          at=at(9, 1, 11))
    cases.record_step(config, case.number, "当场处罚", dict(spot, fine_yuan=200), by=A, at=at(9, 1, 11))


def test_preservation_limit_shows_until_disposed(config):
    case = investigated(config)
    entry = cases.record_step(config, case.number, "证据保全", {"measure": "先行登记保存", "items": "营业日志", "officers": [A, B],
                                                             "av_exception": "照相机电量耗尽，已由当事人签字确认"},
                              by=A, at=at(9, 2, 15))
    limit = [d for d in cases.deadlines(config, case.file()) if d.seq == entry.seq][0]
    assert limit.due == dt.date(2026, 9, 11) and "第五十六条" in limit.source
    cases.record_step(config, case.number, "保全处理", {"measure_seq": entry.seq, "result": "退还", "decided_on": "2026-09-14"},
                      by=A, at=at(9, 14))
    assert [d for d in cases.deadlines(config, case.file()) if d.seq == entry.seq] == []
    assert cases.CaseFile(case).last("保全处理")[1]["overdue"] is True


def test_the_gate_holds_on_the_command_line(config, monkeypatch, database_url):
    monkeypatch.setenv("DATABASE_URL", database_url)
    case = investigated(config)
    propose(config, case, fine=150000, level="严重")
    notify(config, case)
    runner = CliRunner()
    fields = [f"{k}={v}" for k, v in decision(150000).items()]
    args = ["case", "record", case.number, "决定", "--by", A] + sum([["--field", f] for f in fields], [])
    result = runner.invoke(bot.cli, args)
    assert result.exit_code == 1 and "须经法制审核" in result.output
    status = runner.invoke(bot.cli, ["review", "status", case.number])
    assert "属于重大执法决定" in status.output and "尚未提请法制审核" in status.output
    refused = runner.invoke(bot.cli, ["review", "record", case.number, "--by", C, "--result", "通过", "--opinion", "x"])
    assert refused.exit_code == 1 and "逐项" in refused.output


def test_demo_cases_obey_the_rules(config):
    assert seed_cases_if_empty(config, sign=False) == 4
    for case in cases.Case.select():
        for seq, step, data in case.file().steps():
            if step == "审核":
                by = case.file().contents[seq]["by"]
                assert by not in case.handlers(), (case.number, by)


def test_the_gate_holds_in_the_chat_and_the_reviewer_answers_there(config, client, app):
    app.config["CLOCK"] = at(9, 16).timestamp
    case = investigated(config)
    propose(config, case, fine=150000, level="严重")
    submit(config, case)
    Staff.add("o_a", "包海龙", "承办人", Officer.by_cert_no(A))
    Staff.add("o_c", "白斯琴", "法制审核员", Officer.by_cert_no(C)).qualify("A2021150525", dt.date(2023, 6, 15))
    handler, reviewer = WeChatUser(client, app, "o_a"), WeChatUser(client, app, "o_c")
    assert "法制审核请用 #审核" in handler.say("#记录 2026-1 审核 审核结论=通过")
    assert handler.say("#审核 2026-1 通过 其余符合=是 审核意见=好").startswith("未记录审核：")
    assert "逐项" in reviewer.say("#审核 2026-1 通过 审核意见=事实清楚")
    done = reviewer.say("#审核 2026-1 退回补充 不符合=证据确凿充分 其余符合=是 补充内容=补充询问笔录 审核意见=证据不足")
    assert done.startswith("已记录审核") and "退回补充" in done
    notify(config, case)
    said = handler.say("#记录 2026-1 决定 决定书文号=罚决〔2026〕1号 违法事实=接纳未成年人 证据=询问笔录 处罚依据=第三十一条 "
                       "处罚内容=罚款150000元 罚款金额=150000 陈述申辩及采纳情况=未提出 决定日期=2026-09-16")
    assert said.startswith("未记录：须经法制审核") and "补充询问笔录" in said
    status = handler.say("#审核情况 2026-1")
    assert "属于重大执法决定" in status and "退回补充" in status
    assert "作出处罚决定" in handler.say("#待办")


def test_the_notice_gives_the_hearing_right_only_where_article_63_does(config):
    from docx import Document

    from models import documents
    from models.evidence import EvidenceStore

    texts = {}
    for fine in (5000, 150000):
        case = investigated(config)
        propose(config, case, fine=fine, level="一般" if fine == 5000 else "严重")
        notify(config, case)
        docx_entry, _ = documents.generate(config, case.number, "行政处罚事先告知书", by=A)
        path = EvidenceStore.from_config(config).path_for(docx_entry.content["data"]["sha256"])
        texts[fine] = "\n".join(p.text for p in Document(str(path)).paragraphs)
    assert "要求听证" not in texts[5000] and "陈述和申辩" in texts[5000]
    assert "要求听证" in texts[150000] and "第六十三条" in texts[150000]


def test_a_party_name_with_markup_prints_as_text(config):
    from models import documents

    rows = [("当事人", "某<公司> & <b>某</b>")]
    pdf = documents.render_pdf("奈曼旗文化和旅游局", "行政处罚决定书", rows, ["当事人：某<公司>"], "foot",
                               font=documents.pdf_font(config))
    assert pdf.startswith(b"%PDF-")
    docx = documents.render_docx("奈曼旗文化和旅游局", "行政处罚决定书", rows, ["当事人：某<公司>"], "foot")
    assert docx.startswith(b"PK")


def test_the_flowchart_is_drawn_from_the_workflow_the_case_file_enforces(config):
    dot = review.flowchart_dot(config)
    for step, spec in review.WORKFLOW.items():
        assert f'"{step}"' in dot and step in cases.STEPS
        for source in spec["after"]:
            if source in review.WORKFLOW:
                assert f'"{source}" -> "{step}"' in dot
    assert '"审核" -> "提请审核" [label="退回补充"]' in dot
    assert config["review"]["catalogue"][0]["name"] in dot
    # each arrow is a rule: without the step it comes from, the step it points to is refused
    case = investigated(config)
    for step, message in (("审核", "提请审核"), ("审核异议", "尚无审核意见"), ("提请审核", "拟决定")):
        assert review.WORKFLOW[step]["refusal"]
        with pytest.raises(cases.CaseError, match=message):
            cases.check_order(config, case.file(), step, {}, probe=True)


def test_the_public_page_shows_the_catalogue_and_the_chart(client):
    html = client.get("/review").get_data(as_text=True)
    assert "重大执法决定目录" in html and "吊销许可证件" in html and "提请审核" in html
    if review.flowchart_svg(client.application.config["SANXIANG"]) is not None:  # `make test` installs graphviz
        assert "<svg" in html and "集体讨论" in html
    assert 'href="/review"' in client.get("/").get_data(as_text=True)


def test_limits_are_reminded_to_handlers_and_heads(config):
    from models.complaints import Outbox
    from notices.cases import remind_case_limits

    Staff.add("o_a", "包海龙", "承办人", Officer.by_cert_no(A))
    Staff.add("o_head", "其木格", "负责人", None)
    Staff.add("o_x", "某某", "承办人", Officer.by_cert_no("15052501005"))  # not on this case
    case = investigated(config)
    entry = cases.record_step(config, case.number, "证据保全", {"measure": "先行登记保存", "items": "营业日志", "officers": [A, B],
                                                             "av_exception": "照相机电量耗尽，已由当事人签字确认"},
                              by=A, at=at(9, 2, 15))
    assert remind_case_limits(config, today=dt.date(2026, 9, 3)) == 0  # 7 working days away
    assert remind_case_limits(config, today=dt.date(2026, 9, 9)) == 2  # 2 working days left: handler and head
    sent = {o.openid: o.text for o in Outbox.select()}
    assert set(sent) == {"o_a", "o_head"} and "临近期限" in sent["o_a"] and "第五十六条" in sent["o_a"]
    assert remind_case_limits(config, today=dt.date(2026, 9, 9)) == 2 and Outbox.select().count() == 2  # once
    remind_case_limits(config, today=dt.date(2026, 9, 14))
    assert any("已超期" in o.text for o in Outbox.select())
    assert entry.seq


def test_the_report_counts_major_decisions_outcomes_times_and_overdue(config, tmp_path):
    from openpyxl import load_workbook

    case = investigated(config)
    propose(config, case, fine=150000, level="严重")
    submit(config, case)  # 3 September; due 7 working days later
    review_it(config, case, result="退回补充", points=dict(POINTS, 证据确凿充分=False), supplement="补充询问笔录", day=4)
    submit(config, case, day=7)
    review_it(config, case, day=28)  # late
    discuss(config, case, day=28)
    notify(config, case, day=28)
    cases.record_step(config, case.number, "决定", dict(decision(150000), decided_on="2026-10-12"), by=A, at=at(10, 12))
    report = review.review_report(config, dt.date(2026, 9, 1), dt.date(2026, 10, 31))
    assert [d["fine_yuan"] for d in report.major_decisions] == [150000]
    assert report.major_decisions[0]["party_kind"] == "法人或其他组织" and report.major_decisions[0]["rules"]
    assert report.outcomes == {"通过": 1, "退回补充": 1, "不同意": 0}
    assert report.longest_days > 7 and report.average_days < report.longest_days
    assert [o[0] for o in report.overdue] == [case.number]
    review.report_xlsx(report, tmp_path / "r.xlsx")
    book = load_workbook(tmp_path / "r.xlsx")
    assert book.sheetnames == ["重大执法决定", "审核结论", "审核用时", "超期审核"]
    assert book["重大执法决定"]["G2"].value == 150000


def test_the_staff_report_page_and_its_excel(config, client, app):
    import base64

    assert client.get("/staff/reviews").status_code == 404  # off until STAFF_TOKEN is set
    app.config["SANXIANG"]["badges"]["staff_token"] = "s3cret"
    assert client.get("/staff/reviews").status_code == 401
    auth = {"Authorization": "Basic " + base64.b64encode(b"x:s3cret").decode()}
    html = client.get("/staff/reviews?from=2026-01-01&to=2026-12-31", headers=auth).get_data(as_text=True)
    assert "法制审核统计" in html and "重大执法决定0件" in html
    xlsx = client.get("/staff/reviews?from=bad&format=xlsx", headers=auth)
    assert xlsx.status_code == 200 and xlsx.data.startswith(b"PK")


def test_demo_cases_only_on_request_and_marked(config, monkeypatch, database_url, tmp_path):
    if not database_url.startswith("sqlite"):
        # The demo signs a tree head; PostgreSQL's feed is the project's var/ledger/heads.txt, which
        # other tests read. SQLite's lies beside the test's own database file.
        pytest.skip("the demonstration is checked on SQLite")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_KEY_PATH", str(tmp_path / "k.pem"))
    monkeypatch.setenv("RECORDS_PATH", str(tmp_path / "records"))
    runner = CliRunner()
    assert runner.invoke(bot.cli, ["init-db"]).exit_code == 0
    db.connect(reuse_if_open=True)
    assert cases.Case.select().count() == 0 and ledger.size() == 0  # a real installation starts empty
    done = runner.invoke(bot.cli, ["init-db", "--demo"])
    assert done.exit_code == 0 and "示例" in done.output
    listed = runner.invoke(bot.cli, ["case", "list"]).output
    assert listed.count("【示例】") == 4


def test_a_correction_cannot_get_around_the_review(config):
    case = investigated(config)
    propose(config, case)
    notify(config, case)
    decided = cases.record_step(config, case.number, "决定", decision(5000), by=A, at=at(9, 16))
    reason = "金额笔误，依审批表更正"
    with pytest.raises(cases.CaseError, match="不能以更正方式改变"):
        cases.correct(config, case.number, decided.seq, {"fine_yuan": 500000}, reason, by=A, at=at(9, 17))
    with pytest.raises(cases.CaseError, match="由系统按规则判断"):
        cases.correct(config, case.number, decided.seq, {"major": False}, reason, by=A, at=at(9, 17))
    cases.correct(config, case.number, decided.seq, {"decision_no": "罚决〔2026〕2号"}, "文号笔误，依发文登记更正",
                  by=A, at=at(9, 17))


def test_only_an_outside_reviewer_corrects_a_review(config):
    case = investigated(config)
    propose(config, case)
    submit(config, case)
    reviewed = review_it(config, case)
    with pytest.raises(cases.CaseError, match="须回避"):
        cases.correct(config, case.number, reviewed.seq, {"opinion": "改"}, "审核意见表述不准确，更正", by=A, at=at(9, 5))
    cases.correct(config, case.number, reviewed.seq, {"opinion": "事实清楚，证据确凿充分"}, "审核意见表述不完整，补全",
                  by=C, at=at(9, 5))


def test_order_to_correct_and_statement_record_forms(config):
    from models import documents

    case = investigated(config)
    cases.record_step(config, case.number, "责令改正", {"order_no": "责改〔2026〕1号", "content": "立即悬挂未成年人禁入标志",
                                                    "deadline": "2026-09-05"}, by=A, at=at(9, 2, 11))
    propose(config, case)
    with pytest.raises(cases.CaseError, match="事先告知之后"):
        cases.record_step(config, case.number, "陈述申辩", {}, by=A, at=at(9, 8))
    notify(config, case)
    cases.record_step(config, case.number, "陈述申辩", {"received_on": "2026-09-08", "content": "系初次违法", "review": "已复核",
                                                    "adopted": "部分采纳"}, by=A, at=at(9, 8))
    forms = documents.available_forms(case)
    assert "责令改正通知书" in forms and "陈述申辩笔录" in forms
    for form in ("责令改正通知书", "陈述申辩笔录"):
        assert len(documents.generate(config, case.number, form, by=A)) == 2


def test_a_decision_is_never_heavier_than_what_the_party_was_told(config):
    case = investigated(config)
    propose(config, case, fine=5000)
    notify(config, case)
    with pytest.raises(cases.CaseError, match="重于告知当事人"):
        cases.record_step(config, case.number, "决定", decision(8000), by=A, at=at(9, 16))
    cases.record_step(config, case.number, "决定", decision(3000), by=A, at=at(9, 16))  # lighter is fine


def test_the_reviewer_sees_the_review_limit_of_the_cases_sent_for_review_only(config, client, app):
    """#待办 for a 法制审核员: the review's own limit (本局法制审核时限) of a case sent for review, none of a case
    still being investigated (whose files the reviewer's list does not read), and no refusal for complaints."""
    app.config["CLOCK"] = at(9, 4).timestamp
    sent = investigated(config)
    propose(config, sent, fine=150000, level="严重")
    submit(config, sent)
    investigated(config)  # the second case, not sent for review
    Staff.add("o_c", "白斯琴", "法制审核员", Officer.by_cert_no(C)).qualify("A2021150525", dt.date(2023, 6, 15))
    reply = WeChatUser(client, app, "o_c").say("#待办")
    assert reply.startswith("待办投诉0件、案件期限1项") and f"案件 {sent.number}" in reply and "法制审核" in reply, reply
    assert [(case.number, limit.name) for case, limit, _ in cases.todo(config, Staff.by_openid("o_c"), dt.date(2026, 9, 4))[0]] \
        == [(sent.number, "法制审核")]
