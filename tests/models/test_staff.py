"""One staff model for every channel (models/staff.py): roles, the acts each may do, the refusals that
name the role needed, 回避, and who may record an entry on a case — the same from a `#` command, the
command line and the model itself."""
import datetime as dt

import pytest
from click.testing import CliRunner

import bot
from models import Officer, Staff, cases, db, ledger
from models.staff import ACTS, OFFICER_ONLY, ROLES, NotAllowed, authorize
from tests.conftest import WeChatUser

A, B, C, E = "15052501001", "15052501002", "15052501003", "15052501005"  # E handles no case here
NOW = dt.datetime(2026, 9, 1, 22, 0, tzinfo=ledger.CHINA_TZ)
INSPECTION = {"place": "大沁他拉镇某网吧", "started": "2026-09-01 21:10", "ended": "2026-09-01 21:50",
              "findings": "发现3名未成年人上网", "officers": [A, B],
              "av_exception": "执法记录仪故障，已报修并拍照留存"}
REVIEW = {"reviewer": "法制审核员 白斯琴", "major": False, "result": "通过", "opinion": "事实清楚"}


@pytest.fixture
def config(app, tmp_path):
    app.config["CLOCK"] = NOW.timestamp
    config = app.config["SANXIANG"]
    config["evidence"]["store_path"] = str(tmp_path / "records")
    db.connect(reuse_if_open=True)
    yield config
    if not db.is_closed():
        db.close()


def open_case(config):
    return cases.open_case(config, party={"kind": "法人或其他组织", "name": "奈曼旗星空网吧"}, handlers=[A, B], by=A,
                           at=NOW - dt.timedelta(hours=2),
                           data={"item_code": "CF-002", "source": "投诉举报", "facts": "群众举报", "approver": "局长"})


def person(openid, name, role, cert_no=None):
    return Staff.add(openid, name, role, Officer.by_cert_no(cert_no) if cert_no else None)


def test_every_act_names_roles_that_exist():
    for key, act in ACTS.items():
        assert set(act.roles) <= set(ROLES), key
        assert act.name and (act.own is None) == (not act.own_label), key


def test_a_refusal_says_which_role_is_needed(config):
    clerk = person("o_clerk", "张丽", "受理员")
    with pytest.raises(NotAllowed, match=r"答复投诉的权限：需要负责人角色，或是已转您办理的承办人（您是受理员）"):
        authorize(clerk, "complaint.answer")
    with pytest.raises(NotAllowed, match="不在工作人员名单上"):
        authorize(None, "complaint.list")
    clerk.active = False
    with pytest.raises(NotAllowed, match="不在工作人员名单上"):
        authorize(clerk, "complaint.list")
    reviewer = person(None, "白斯琴", "法制审核员", C)
    assert not reviewer.may("complaint.list") and reviewer.may("case.list")


def test_who_acts_under_a_certificate(config):
    assert Staff.acting_as("99999999999") is None
    alone = Staff.acting_as(E)
    assert alone.role == OFFICER_ONLY and alone.id is None and alone.cert_no == E  # never saved
    head = person("o_head", "孟根其其格", "负责人", E)
    assert Staff.acting_as(E).id == head.id
    assert Staff.select().count() == 1


def test_entries_are_recorded_by_the_case_handlers_or_a_role_allowed(config):
    case = open_case(config)
    before = ledger.size()
    with pytest.raises(cases.CaseError, match=r"记录案件环节的权限.*本案承办人员（您是执法人员）"):
        cases.record_step(config, case.number, "现场检查", INSPECTION, by=E, at=NOW)
    with pytest.raises(cases.CaseError, match="登记音像记录的权限"):
        cases.add_evidence(config, case.number, __file__, filename="x.py", step="现场检查", device="d",
                           recorded_by=C, recorded_at="t", by=C, at=NOW)
    assert ledger.size() == before  # nothing written by any refusal

    cases.record_step(config, case.number, "现场检查", INSPECTION, by=A, at=NOW)  # a handler of the case
    with pytest.raises(cases.CaseError, match="记录法制审核的权限：需要法制审核员角色"):
        cases.record_step(config, case.number, "审核", REVIEW, by=C, at=NOW)
    person(None, "白斯琴", "法制审核员", C).qualify("A20211505250003", dt.date(2023, 6, 15))
    with pytest.raises(cases.CaseError, match="审核前须由承办人员提请审核"):  # the reviewer, on any case, once submitted
        cases.record_step(config, case.number, "审核", REVIEW, by=C, at=NOW)
    head = person(None, "其木格", "负责人", "15052501008")
    with pytest.raises(cases.CaseError, match="记录法制审核的权限：需要法制审核员角色（您是负责人）"):
        cases.record_step(config, case.number, "审核", REVIEW, by=head.cert_no, at=NOW)  # the head decides, not reviews
    with pytest.raises(cases.CaseError, match="记录案件环节的权限"):  # but only 审核
        cases.record_step(config, case.number, "告知", {}, by=C, at=NOW)
    person(None, "孟根其其格", "负责人", E)
    entry = cases.correct(config, case.number, case.opened_seq, {"facts": "群众举报接纳未成年人"},
                          "案情摘要过简，依举报记录补充", by=E, at=NOW)  # a 负责人, on any case
    assert entry.content["by"] == E and case.handlers() == [A, B]


def test_opening_a_case_needs_to_be_one_of_its_handlers(config):
    with pytest.raises(cases.CaseError, match="立案的权限"):
        cases.open_case(config, party={"kind": "自然人", "name": "张某"}, handlers=[A, B], by=C, at=NOW,
                        data={"item_code": "CF-015", "source": "日常检查", "facts": "x", "approver": "y"})
    assert cases.Case.select().count() == 0


def test_chat_and_command_line_obey_the_same_rule(config, client, app, monkeypatch, database_url):
    case = open_case(config)
    officer_e = WeChatUser(client, app, "o_e")
    person("o_e", "孟根其其格", "承办人", E)
    before = ledger.size()
    said = officer_e.say("#记录 2026-1 现场检查 检查地点=某网吧 开始时间=21:10 结束时间=21:50 检查情况=未成年人上网 "
                         "执法人员=15052501001,15052501002 无音像理由=执法记录仪故障，已报修并拍照留存")
    assert said.startswith("未记录：您没有记录案件环节的权限") and "（您是承办人）" in said
    db.connect(reuse_if_open=True)
    assert ledger.size() == before

    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(bot.cli, ["case", "record", case.number, "审核", "--by", E,
                                          "--field", "reviewer=法制审核员", "--field", "major=false",
                                          "--field", "result=通过", "--field", "opinion=事实清楚"])
    assert result.exit_code == 1 and "记录法制审核的权限" in result.output
    db.connect(reuse_if_open=True)
    assert ledger.size() == before


def test_staff_command_line(config, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    added = runner.invoke(bot.cli, ["staff", "add", "白斯琴", "法制审核员", "--officer", C])
    assert added.exit_code == 0 and "已登记：法制审核员 白斯琴（执法证 15052501003）" in added.output
    assert "尚未关联微信" in added.output
    assert runner.invoke(bot.cli, ["staff", "add", "某某", "局长"]).exit_code == 2  # not a role
    old = runner.invoke(bot.cli, ["complaints", "staff-add", "o_clerk", "张丽", "受理员"])  # the older spelling
    assert old.exit_code == 0
    listed = runner.invoke(bot.cli, ["staff", "list"]).output
    assert "法制审核员\t白斯琴 证号15052501003\t（未关联微信）" in listed and "受理员\t张丽\to_clerk" in listed
    roles = runner.invoke(bot.cli, ["staff", "roles"]).output
    assert "法制审核员：查看案件、记录法制审核" in roles and "本案承办人员：记录案件环节" in roles
    assert "本案承办人员：记录法制审核" not in roles and "本案承办人员须回避：记录法制审核" in roles
    assert runner.invoke(bot.cli, ["staff", "remove", "张丽"]).exit_code == 0
    db.connect(reuse_if_open=True)
    assert Staff.by_openid("o_clerk") is None and Staff.find("张丽") is None
