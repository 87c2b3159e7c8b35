"""Procedure limits of a case (models/cases.py), held at every entry point that records a step: the
model itself, `python bot.py case record` and the `#记录` chat command (the web shows cases but records
none). The party's 听证申请 holds the decision until the hearing; `#待办` and reminders show it."""
import datetime as dt

import pytest
from click.testing import CliRunner

import bot
from handlers.wechat.cases import COMMON
from models import Officer, Staff, cases, ledger
from tests.conftest import WeChatUser
from tests.models.test_review import (A, B, MATERIALS, at, decision, discuss, investigated, notify, propose,
                                      request_hearing, review_config, review_it, submit)


@pytest.fixture
def config(app, tmp_path):
    yield from review_config(app, tmp_path)


NOTICE = {"notice_no": "听通〔2026〕1号", "notified_on": "2026-09-10", "scheduled_on": "2026-09-21", "place": "本局听证室",
          "host": "李建国"}
HEARING = {"held_on": "2026-09-21", "host": "李建国", "summary": "当事人到场申辩", "av_exception": "听证室设备故障，已制作书面笔录"}


def heard_case(config, fine=150000):
    """A case whose proposal gives the party the right to a hearing (第六十三条), notified on 7 September."""
    case = investigated(config)
    propose(config, case, fine=fine, level="严重")
    notify(config, case, day=7)
    return case


def ordinary_case(config):
    """A case below the catalogue's thresholds (no review needed), notified on 7 September."""
    case = investigated(config)
    propose(config, case)
    notify(config, case, day=7)
    return case


def with_request(config):
    case = heard_case(config)
    request_hearing(config, case, day=9)
    return case


def with_notice(config):
    case = with_request(config)
    cases.record_step(config, case.number, "听证通知", NOTICE, by=A, at=at(9, 10))
    return case


def on_the_spot(config):
    return cases.open_case(config, party={"kind": "自然人", "name": "张某"}, handlers=[A, B], by=A, at=at(9, 1),
                           data={"item_code": "CF-015", "source": "日常检查", "facts": "无证带团", "approver": "局长"})


SPOT = {"decision_no": "当罚〔2026〕1号", "facts": "无证带团", "basis": "《旅游法》第一百零二条", "penalty": "罚款",
        "fine_yuan": 300, "place": "景区", "decided_on": "2026-09-01"}

# (name, setup, step, data, recorded at, what the refusal says)
LIMITS = [
    ("future date", heard_case, "决定", dict(decision(150000), decided_on="2026-09-30"), at(9, 16), "晚于记录当天"),
    ("statement period", heard_case, "决定", decision(150000, day=14), at(9, 14), "2026-09-15起方可作出决定"),
    ("pending hearing", with_request, "决定", decision(150000, day=16), at(9, 16), "申请听证"),
    ("90 days", ordinary_case, "决定", dict(decision(), decided_on="2026-12-01"), at(12, 1), "90日的办案期限"),
    ("hearing notice", with_request, "听证通知", dict(NOTICE, scheduled_on="2026-09-14"), at(9, 10), "7个工作日前"),
    ("hearing host", with_request, "听证通知", dict(NOTICE, host="包海龙"), at(9, 10), "非本案调查人员"),
    ("hearing moved", with_notice, "听证", dict(HEARING, held_on="2026-09-22"), at(9, 22), "须重新通知"),
    ("hearing without notice", with_request, "听证", HEARING, at(9, 21), "须登记听证通知"),
    ("on the spot", on_the_spot, "当场处罚", SPOT, at(9, 1, 11), "不得超过200元"),
    ("no hearing right", ordinary_case, "听证申请", {"requested_on": "2026-09-08", "method": "书面"}, at(9, 8), "不属于"),
]


def chat_words(step, data):
    """The `#记录` field words staff type for `data`: the labels of the step's fields, or COMMON's names."""
    labels = dict(cases.FIELDS[step])
    common = {key: name for name, key in reversed(list(COMMON.items()))}
    words = []
    for key, value in data.items():
        name = labels.get(key) or common[key]
        words.append(f"{name}={','.join(value) if isinstance(value, list) else value}")
    return " ".join(words)


@pytest.mark.parametrize("channel", ["model", "cli", "chat"])
@pytest.mark.parametrize("name,setup,step,data,when,refusal", LIMITS, ids=[row[0] for row in LIMITS])
def test_every_limit_holds_at_every_entry_point(config, app, client, monkeypatch, database_url, channel, name, setup,
                                                 step, data, when, refusal):
    case = setup(config)
    before = ledger.LedgerEntry.select().count()
    if channel == "model":
        with pytest.raises(cases.CaseError, match=refusal):
            cases.record_step(config, case.number, step, dict(data), by=A, at=when)
    elif channel == "cli":
        monkeypatch.setenv("DATABASE_URL", database_url)
        monkeypatch.setattr(ledger, "now", lambda: when)
        fields = sum([["--field", f"{k}={v}"] for k, v in data.items()], [])
        result = CliRunner().invoke(bot.cli, ["case", "record", case.number, step, "--by", A] + fields)
        assert result.exit_code == 1 and refusal in result.output, result.output
    else:
        app.config["CLOCK"] = when.timestamp
        Staff.add("o_a", "包海龙", "承办人", Officer.by_cert_no(A))
        said = WeChatUser(client, app, "o_a").say(f"#记录 2026-1 {step} {chat_words(step, data)}")
        assert said.startswith("未记录：") and refusal in said, said
    assert ledger.LedgerEntry.select().count() == before  # nothing written


def test_a_hearing_request_holds_the_decision_until_the_hearing_is_held(config):
    case = with_request(config)
    entry = case.file().last("听证申请")[1]
    assert not entry.get("late")
    [limit] = [d for d in cases.deadlines(config, case.file()) if "听证" in d.name]
    # 90 days from 1 September end on 30 November; the notice must leave 7 working days before it.
    assert limit.due == dt.date(2026, 11, 19) and "第六十四条" in limit.source
    with pytest.raises(cases.CaseError, match="申请听证"):
        cases.record_step(config, case.number, "决定", dict(decision(150000, day=16), party_waived=True), by=A,
                          at=at(9, 16))
    with pytest.raises(cases.CaseError, match="早于当事人申请听证"):
        cases.record_step(config, case.number, "听证通知", dict(NOTICE, notified_on="2026-09-08"), by=A, at=at(9, 10))
    cases.record_step(config, case.number, "听证通知", NOTICE, by=A, at=at(9, 10))
    [limit] = [d for d in cases.deadlines(config, case.file()) if "听证" in d.name]
    assert limit.name.endswith("按通知举行听证") and limit.due == dt.date(2026, 9, 21)
    hearing = cases.record_step(config, case.number, "听证", HEARING, by=A, at=at(9, 21))
    assert hearing.content["data"]["requested_on"] == "2026-09-09"
    assert not [d for d in cases.deadlines(config, case.file()) if "听证" in d.name]
    # The hearing makes the case major (decided after a hearing) and is material: review it again.
    submit(config, case, day=22, materials=MATERIALS + ["事先告知书及陈述申辩材料", "听证笔录"])
    review_it(config, case, day=23)
    discuss(config, case, day=24)
    with pytest.raises(cases.CaseError, match="早于听证举行日期"):
        cases.record_step(config, case.number, "决定", decision(150000, day=18), by=A, at=at(9, 24))
    done = cases.record_step(config, case.number, "决定", decision(150000, day=24), by=A, at=at(9, 24))
    assert done.content["data"]["major"]


def test_a_late_or_withdrawn_request_does_not_hold_the_decision(config):
    case = heard_case(config)
    late = request_hearing(config, case, day=15)  # 6 working days after the notice of 7 September
    assert late.content["data"]["late"] is True
    assert cases.pending_hearing(case.file()) == (None, None)
    with pytest.raises(cases.CaseError, match="申请日期2026-09-04早于告知书送达日期"):
        cases.record_step(config, case.number, "听证申请", {"requested_on": "2026-09-04", "method": "口头"}, by=A,
                          at=at(9, 15))
    other = with_request(config)
    submit(config, other, day=16, materials=MATERIALS + ["事先告知书及陈述申辩材料"])
    review_it(config, other, day=16)
    discuss(config, other, day=16)
    cases.record_step(config, other.number, "决定", dict(decision(150000, day=16), hearing_withdrawn=True), by=A,
                      at=at(9, 16))


def test_the_pending_hearing_shows_in_todo_and_reminders(config, client, app):
    from models.complaints import Outbox
    from notices.cases import remind_case_limits

    Staff.add("o_a", "包海龙", "承办人", Officer.by_cert_no(A))
    Staff.add("o_head", "其木格", "负责人", None)
    case = with_request(config)
    app.config["CLOCK"] = at(11, 17).timestamp
    todo = WeChatUser(client, app, "o_a").say("#待办")
    assert "申请听证" in todo, todo
    assert remind_case_limits(config, today=dt.date(2026, 11, 17)) == 2
    sent = {o.openid: o.text for o in Outbox.select()}
    assert set(sent) == {"o_a", "o_head"} and "申请听证" in sent["o_a"] and "临近期限" in sent["o_a"]
    remind_case_limits(config, today=dt.date(2026, 11, 20))
    assert any("已超期" in o.text and "申请听证" in o.text for o in Outbox.select())
    assert case.number


def test_preservation_seizure_and_ninety_days_show_approaching_and_passed(config, client, app):
    from models.complaints import Outbox
    from notices.cases import remind_case_limits

    Staff.add("o_a", "包海龙", "承办人", Officer.by_cert_no(A))
    case = ordinary_case(config)
    for measure, items in (("先行登记保存", "营业日志"), ("扣押", "电脑主机2台")):
        step = "证据保全" if measure == "先行登记保存" else "行政强制"
        data = {"measure": measure, "items": items, "officers": [A, B], "av_exception": "执法记录仪故障，当事人已签字确认",
                **({"place": "网吧"} if step == "行政强制" else {})}
        cases.record_step(config, case.number, step, data, by=A, at=at(9, 2, 15))
    limits = {d.source: d.due for d in cases.deadlines(config, case.file())}
    assert limits == {"《行政处罚法》第五十六条": dt.date(2026, 9, 11), "《行政强制法》第二十五条": dt.date(2026, 10, 2),
                      "《行政处罚法》第六十条": dt.date(2026, 11, 30)}
    officer = WeChatUser(client, app, "o_a")
    app.config["CLOCK"] = at(9, 10).timestamp
    soon = officer.say("#待办")
    assert "先行登记保存" in soon and "剩1个工作日" in soon and "查封、扣押" in soon and "作出处罚决定" in soon
    app.config["CLOCK"] = at(10, 12).timestamp
    late = officer.say("#待办")
    assert late.count("已超期") == 2 and "第二十五条" in late
    assert remind_case_limits(config, today=dt.date(2026, 10, 12)) >= 1
    assert any("已超期" in o.text and "第二十五条" in o.text for o in Outbox.select())


def test_the_decision_is_served_within_seven_working_days(config):
    case = ordinary_case(config)
    cases.record_step(config, case.number, "决定", decision(day=15), by=A, at=at(9, 15))
    [limit] = cases.deadlines(config, case.file())
    # 7 working days after Tuesday 15 September: Sunday the 20th is a make-up working day (调休).
    assert (limit.name, limit.due, limit.source) == ("送达行政处罚决定书", dt.date(2026, 9, 23), "《行政处罚法》第六十一条")
    cases.record_step(config, case.number, "送达", {"document": "行政处罚决定书", "method": "直接送达", "recipient": "法定代表人",
                                                  "served_on": "2026-09-16", "officers": [A, B],
                                                  "av_exception": "执法记录仪故障，受送达人已签收"}, by=A, at=at(9, 16))
    assert cases.deadlines(config, case.file()) == []


def test_a_seizure_is_extended_once_by_at_most_thirty_days_before_it_ends(config, client, app):
    case = ordinary_case(config)
    seizure = cases.record_step(config, case.number, "行政强制", {"measure": "扣押", "items": "电脑主机2台", "place": "网吧",
                                                              "officers": [A, B], "av_exception": "执法记录仪故障，当事人已签字确认"},
                                by=A, at=at(9, 2, 15))
    keep = cases.record_step(config, case.number, "证据保全", {"measure": "先行登记保存", "items": "营业日志", "officers": [A, B],
                                                            "av_exception": "执法记录仪故障，当事人已签字确认"}, by=A, at=at(9, 2, 15))
    extend = {"extend_days": 20, "reason": "需等待电子数据鉴定结论", "approver": "局长 其木格", "measure_seq": seizure.seq}
    with pytest.raises(cases.CaseError, match="先行登记保存不能延期"):
        cases.record_step(config, case.number, "延期", dict(extend, measure_seq=keep.seq), by=A, at=at(9, 20))
    with pytest.raises(cases.CaseError, match="届满后不能再延期"):
        cases.record_step(config, case.number, "延期", extend, by=A, at=at(10, 3))
    done = cases.record_step(config, case.number, "延期", extend, by=A, at=at(9, 30))
    assert done.content["data"]["previous_due"] == "2026-10-02"
    assert cases.seizure_due(config, case.file(), seizure.seq) == dt.date(2026, 10, 22)
    assert cases.decision_due(config, case.file()) == dt.date(2026, 11, 30)  # the 90 days are not moved
    with pytest.raises(cases.CaseError, match="合计不得超过30日"):
        cases.record_step(config, case.number, "延期", dict(extend, extend_days=11), by=A, at=at(10, 9))
    Staff.add("o_a", "包海龙", "承办人", Officer.by_cert_no(A))
    app.config["CLOCK"] = at(10, 9).timestamp
    said = WeChatUser(client, app, "o_a").say(f"#记录 2026-1 延期 延长天数=10 延期理由=鉴定机构延期出具结论 批准负责人=局长 "
                                              f"查封扣押记录号={seizure.seq}")
    assert said.startswith("已记录"), said
    assert cases.seizure_due(config, case.file(), seizure.seq) == dt.date(2026, 11, 1)
