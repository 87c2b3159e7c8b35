"""案件 in the chat: staff record and correct case steps with `#` commands, through the real endpoint."""
import datetime as dt
import logging
import wave

import pytest

from models import cases, db, ledger
from tests.conftest import WeChatUser
from tests.wechat.test_complaints import make_staff

A, B, C = "15052501001", "15052501002", "15052501003"
SUSPENDED = "15052501006"
NOW = dt.datetime(2026, 9, 1, 22, 0, tzinfo=ledger.CHINA_TZ)
INSPECT = ("#记录 2026-1 现场检查 检查地点=大沁他拉镇某网吧 开始时间=2026-09-01 21:10 结束时间=2026-09-01 21:50 "
           "检查情况=发现3名未成年人上网，未登记 执法人员=15052501001，15052501002")


@pytest.fixture
def staff_app(app, tmp_path):
    app.config["CLOCK"] = NOW.timestamp
    app.config["SANXIANG"]["evidence"]["store_path"] = str(tmp_path / "records")
    return app


@pytest.fixture
def officer(client, staff_app):
    make_staff("o_officer_a", "包海龙", "承办人", A)
    return WeChatUser(client, staff_app, "o_officer_a")


def open_case(app, name="奈曼旗星空网吧"):
    with db.connection_context():
        return cases.open_case(app.config["SANXIANG"], party={"kind": "法人或其他组织", "name": name},
                               handlers=[A, B], by=A, at=NOW - dt.timedelta(hours=2),
                               data={"item_code": "CF-002", "source": "投诉举报", "facts": "群众举报接纳未成年人",
                                     "approver": "局长 张某"})


def add_audio(app, tmp_path):
    path = tmp_path / "scene.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x01\x00" * 800)
    with db.connection_context():
        return cases.add_evidence(app.config["SANXIANG"], "奈文旅立字〔2026〕第1号", path, filename="scene.wav",
                                  step="现场检查", device="执法记录仪 03", recorded_by=A,
                                  recorded_at="2026-09-01 21:10-21:50", by=A, at=NOW - dt.timedelta(minutes=5)).seq


def log_size():
    with db.connection_context():
        return ledger.size()


def test_staff_list_record_and_correct_steps(officer, staff_app, tmp_path):
    help_text = officer.say("#帮助")
    assert "#待办" in help_text and "#记录 案号 环节" in help_text and len(help_text) <= 600
    assert "没有在办案件" in officer.say("#案件")
    case = open_case(staff_app)
    listing = officer.say("#案件")
    assert "2026-1" in listing and "奈曼旗星空网吧" in listing and "当前：立案" in listing

    shown = officer.say("#案件 2026-1")
    assert "[0]" in shown and "立案" in shown and "可记录：现场检查" in shown

    before = log_size()
    refused = officer.say(INSPECT)
    assert refused.startswith("未记录：") and "音像记录事项清单" in refused
    assert log_size() == before  # nothing written

    audio = add_audio(staff_app, tmp_path)
    done = officer.say(f"{INSPECT} 附件={audio}")
    assert "已记录：2026-1 现场检查" in done and "记录人包海龙" in done and "拟决定" in done
    with db.connection_context():
        [(seq, step, data)] = [s for s in case.file().steps() if s[1] == "现场检查"]
        entry = ledger.LedgerEntry.get(ledger.LedgerEntry.seq == seq)
    assert data["officers"] == [A, B] and data["findings"] == "发现3名未成年人上网，未登记"
    assert data["attachments"] == [audio] and entry.content["by"] == A
    assert entry.content["at"] == NOW.isoformat()

    assert "先告知当事人" in officer.say("#记录 2026-1 决定 决定书文号=奈文旅罚〔2026〕1号")
    assert "缺少：调查终结报告" in officer.say("#记录 2026-1 拟决定 拟处罚内容=警告 裁量档次=一般 裁量理由=首次违法")
    assert "没有字段“颜色”" in officer.say("#记录 2026-1 拟决定 颜色=红")
    assert "法制审核请用 #审核" in officer.say("#记录 2026-1 审核 审核结论=通过 审核意见=事实清楚")
    proposed = officer.say("#记录 2026-1 拟决定 调查终结报告=事实清楚 拟处罚内容=警告，罚款5000元 罚款金额=5000 "
                           "裁量档次=一般 裁量理由=首次违法，接纳3人")
    assert "已记录" in proposed and "提请审核" in proposed

    assert "须写明理由" in officer.say(f"#更正 2026-1 {seq} 检查地点=大沁他拉镇某网吧2号门")
    fixed = officer.say(f"#更正 2026-1 {seq} 检查地点=大沁他拉镇某网吧2号门 理由=门牌号记录有误，据现场照片更正")
    assert "已登记更正" in fixed and f"第{seq}条" in fixed
    with db.connection_context():
        file = case.file()
        assert file.effective(seq)["place"] == "大沁他拉镇某网吧2号门"
        assert file.contents[seq]["data"]["place"] == "大沁他拉镇某网吧"  # the original stays
    shown = officer.say("#案件 2026-1")
    assert len(shown) <= 600 and "可记录：" in shown and "下一页" in shown
    shown += officer.say("下一页")
    assert "现场检查（已更正）" in shown and f"更正第{seq}条" in shown and "检查地点：大沁他拉镇某网吧2号门" in shown
    assert "理由：门牌号记录有误，据现场照片更正" in shown and "scene.wav" in shown


def test_the_rules_refuse_with_nothing_written(officer, client, staff_app):
    open_case(staff_app)
    before = log_size()
    one = INSPECT.replace("，15052501002", "") + " 无音像理由=执法记录仪故障，已报修并拍照留存"
    assert "不得少于2人" in officer.say(one)
    assert "已暂扣" in officer.say(INSPECT.replace("15052501002", SUSPENDED) + " 无音像理由=执法记录仪故障，已报修")
    assert "书面理由过短" in officer.say(INSPECT + " 无音像理由=坏了")
    assert "不存在" in officer.say("#记录 2099-9 审核 审核结论=通过")
    assert "没有“检验”这个环节" in officer.say("#记录 2026-1 检验 结论=通过")
    assert "应写成 字段=值" in officer.say("#记录 2026-1 审核 通过")
    assert "不属于案件" in officer.say("#更正 2026-1 99 检查地点=x 理由=门牌号记录有误需更正")
    assert "已立案" in officer.say("#记录 2026-1 立案 案情摘要=x")

    clerk = WeChatUser(client, staff_app, "o_clerk")
    make_staff("o_clerk", "张丽", "受理员")
    assert "没有关联执法证" in clerk.say(INSPECT + " 无音像理由=执法记录仪故障，已报修并拍照留存")
    assert "2026-1" in clerk.say("#案件")  # any staff member may read
    assert log_size() == before

    reason = " 无音像理由=执法记录仪故障，已报修并拍照留存"
    assert "已记录" in officer.say(INSPECT + reason)
    with db.connection_context():
        [(entry, why)] = cases.av_exceptions()
    assert entry.step == "现场检查" and why == "执法记录仪故障，已报修并拍照留存"


def test_long_case_lists_come_in_pages(officer, staff_app):
    for n in range(12):
        open_case(staff_app, name=f"奈曼旗第{n + 1}号网吧有限责任公司（大沁他拉镇）")
    first = officer.say("#案件")
    assert len(first) <= 600 and "在办案件12件" in first and "下一页" in first
    second = officer.say("下一页")
    assert len(second) <= 600 and "2026-12" in first + second + officer.say("下一页")
    assert "第12号" in officer.say("#案件 12") and "第12号" in officer.say("#案件 奈文旅立字〔2026〕第12号")


def test_non_staff_case_commands_get_the_public_answer_and_are_logged(wechat_user, staff_app, caplog):
    open_case(staff_app)
    with caplog.at_level(logging.WARNING, logger="handlers.wechat.staff"):
        reply = wechat_user.say("#案件 2026-1")
        wechat_user.say(INSPECT)
    assert "星空网吧" not in reply and "可记录" not in reply
    assert sum("o_citizen_1" in r.getMessage() for r in caplog.records) == 2
    assert log_size() == 1


def test_staff_open_a_case_in_the_chat(officer, staff_app):
    before = log_size()
    reply = officer.say("#立案 事项编码=CF-002 当事人=奈曼旗星空网吧 当事人类型=单位 承办人=15052501001，15052501002 "
                        "案件来源=投诉举报 案情摘要=群众举报接纳未成年人上网 审批负责人=局长 张某")
    assert reply.startswith("已立案：奈文旅立字〔2026〕第1号"), reply
    assert log_size() == before + 1
    with db.connection_context():
        case = cases.Case.get(cases.Case.number == "奈文旅立字〔2026〕第1号")
    assert case.party_name == "奈曼旗星空网吧" and case.party_kind == "法人或其他组织"
    assert "现场检查" in reply


@pytest.mark.parametrize("command,words", [
    ("#立案 事项编码=XX-999 当事人=某网吧 当事人类型=单位 承办人=15052501001,15052501002 案件来源=巡查 案情摘要=无证 审批负责人=张某",
     "不在《行政执法事项清单》中"),
    ("#立案 事项编码=CF-002 当事人=某网吧 当事人类型=单位 承办人=15052501001 案件来源=巡查 案情摘要=无证 审批负责人=张某",
     "承办人员"),
    ("#立案 事项编码=CF-002 当事人=某网吧 当事人类型=单位 承办人=15052501001,15052501006 案件来源=巡查 案情摘要=无证 审批负责人=张某",
     "15052501006"),
    ("#立案 事项编码=CF-002 当事人=某网吧 承办人=15052501001,15052501002 案件来源=巡查 案情摘要=无证 审批负责人=张某",
     "当事人类型"),
    ("#立案 事项编码=CF-002 当事人=某网吧 当事人类型=单位 承办人=15052501001,15052501002", "立案缺少"),
])
def test_staff_open_refusals_write_nothing(officer, staff_app, command, words):
    before = log_size()
    reply = officer.say(command)
    assert reply.startswith("未立案：") and words in reply, reply
    assert log_size() == before


def test_the_case_list_costs_the_same_statements_for_more_cases(officer, staff_app, caplog):
    """#案件 leaves ended cases out in the query and reads the open ones' steps together (issue 19)."""
    def statements():
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="peewee"):
            reply = officer.say("#案件")
        # the replay record's purge of old nonces (PostgreSQL's table) runs once a minute, and its seed of
        # users in a dialogue once a period, not per list
        return sum(1 for r in caplog.records if r.name == "peewee" and "used_nonce" not in r.getMessage()
                   and 'DISTINCT "t1"."openid" FROM "complaint_draft"' not in r.getMessage()), reply

    for n in range(3):
        open_case(staff_app, name=f"第{n + 1}号网吧")
    statements()  # the officer's first message: the replay record knows nothing of them yet (models/replay.py)
    few, _ = statements()
    for n in range(3, 9):
        open_case(staff_app, name=f"第{n + 1}号网吧")
    with db.connection_context():
        ledger.append("step", {"reason": "测试"}, case_no="奈文旅立字〔2026〕第2号", step="撤案", by=A)
        ledger.append("step", {"place": "某处"}, case_no="奈文旅立字〔2026〕第3号", step="现场检查", by=A)
        listed = cases.Case.open_with_status()
        assert [(c.number, s) for c, s in listed] == [(c.number, c.file().status()) for c in
                                                      cases.Case.select().order_by(cases.Case.opened_seq)
                                                      if c.file().status() not in cases.ENDINGS]
    many, reply = statements()
    assert few == many > 0
    assert "在办案件8件" in reply and "第2号网吧" not in reply and "调查取证" in reply
