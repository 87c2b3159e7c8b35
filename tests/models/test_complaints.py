"""The rules of models.complaints, which every entry point shares; reminders and recomputed deadlines."""
import datetime as dt

import pytest
from click.testing import CliRunner

import bot
from models.complaints import (ComplaintError, Complaint, ComplaintEvent, DailyLimitReached, Outbox, mask_contact)
from models.staff import NotAllowed, Staff
from models.disclosure import Officer
from notices.complaints import recompute_deadlines, remind_deadlines
from notices.outbox import drain_outbox

NOW = dt.datetime(2026, 9, 29, 10, 0)  # a Tuesday before 国庆


@pytest.fixture
def config(app):
    return app.config["SANXIANG"]


@pytest.fixture
def people(app):
    officer = {o.cert_no: o for o in Officer.select()}
    return {
        "clerk": Staff.add("o_clerk", "张丽", "受理员"),
        "head": Staff.add("o_head", "吴局长", "负责人"),
        "accused": Staff.add("o_accused", "包海龙", "承办人", officer["15052501001"]),
        "handler": Staff.add("o_handler", "白斯琴", "承办人", officer["15052501003"]),
        "officers": officer,
    }


def file(config, now=NOW, **kwargs):
    # 旅游投诉 (config complaints.rules.tourism): accepted within 5 working days, answered within 60 days.
    fields = dict(category="旅行社", content="旅行社低价游强迫购物，导游不给发票。", submitter="wx:o_c", openid="o_c")
    fields.update(kwargs)
    return Complaint.file(config, now, **fields)


def test_deadlines_skip_national_day(config):
    complaint = file(config)
    assert complaint.accept_due == dt.date(2026, 10, 12) and not complaint.accept_due_provisional
    assert complaint.ticket.startswith("TS260929") and len(complaint.secret_code) == 6


def test_lifecycle_order_is_enforced(config, people):
    complaint = file(config)
    clerk, handler = people["clerk"], people["handler"]
    with pytest.raises(ComplaintError, match="不能答复"):
        complaint.reply(people["head"], NOW, config, "已经处理完毕，谢谢。")
    with pytest.raises(ComplaintError, match="不能转办"):
        complaint.assign(clerk, NOW, config, people["officers"]["15052501003"])
    complaint.accept(clerk, NOW, config)
    assert complaint.answer_due == dt.date(2026, 11, 28)  # 60 days from acceptance (《旅游投诉处理办法》)
    complaint.assign(clerk, NOW, config, people["officers"]["15052501003"])
    with pytest.raises(NotAllowed, match="办结投诉的权限：需要受理员或负责人角色"):
        complaint.close(handler, NOW, config)
    complaint.reply(handler, NOW, config, "经查属实，已责令整改并立案调查。")
    with pytest.raises(ComplaintError, match="办结后"):
        complaint.rate(NOW, config, "满意")
    complaint.close(clerk, NOW, config)
    with pytest.raises(ComplaintError, match="评价请选择"):
        complaint.rate(NOW, config, "还行")
    complaint.rate(NOW, config, "基本满意")
    assert Complaint.get_by_id(complaint.id).status == "办结"
    assert [e.action for e in complaint.events()] == ["file", "accept", "assign", "answer", "close", "visit"]


def test_rejection_needs_a_reason(config, people):
    complaint = file(config)
    with pytest.raises(ComplaintError, match="理由"):
        complaint.reject(people["clerk"], NOW, config, " ")
    complaint.reject(people["clerk"], NOW, config, "重复投诉（已受理）")
    assert complaint.status == "不予受理" and complaint.current_due() is None


def test_the_accused_officer_is_kept_out(config, people):
    accused_officer = people["officers"]["15052501001"]
    complaint = file(config, category="执法人员", officer=accused_officer, content="检查时未出示执法证件。")
    head_as_accused = Staff.add("o_head2", "包海龙", "负责人", accused_officer)
    for staff in (people["accused"], head_as_accused):
        with pytest.raises(NotAllowed, match="回避"):
            complaint.accept(staff, NOW, config)
        assert complaint not in Complaint.todo(staff)
    complaint.accept(people["clerk"], NOW, config)
    with pytest.raises(ComplaintError, match="本人"):
        complaint.assign(people["clerk"], NOW, config, accused_officer)
    complaint.assign(people["clerk"], NOW, config, people["officers"]["15052501003"])
    receivers = {row.openid for row in Outbox.select()}
    assert "o_accused" not in receivers and "o_head2" not in receivers
    assert {"o_clerk", "o_head", "o_handler", "o_c"} <= receivers


def test_a_handler_answers_only_what_was_assigned(config, people):
    complaint = file(config)
    complaint.accept(people["clerk"], NOW, config)
    complaint.assign(people["clerk"], NOW, config, people["officers"]["15052501005"])
    with pytest.raises(NotAllowed, match="已转您办理的承办人"):
        complaint.reply(people["handler"], NOW, config, "已处理，谢谢关注。")
    with pytest.raises(NotAllowed, match="已转您办理的承办人"):
        complaint.check_may(people["handler"], "view")
    assert people["head"].may("complaint.view", complaint)  # what check_may lets through
    assert not people["handler"].may("complaint.view", complaint)


def test_events_cannot_be_changed(config):
    complaint = file(config)
    event = complaint.events()[0]
    event.detail = "edited"
    with pytest.raises(ComplaintError):
        event.save()
    assert ComplaintEvent.get_by_id(event.id).detail != "edited"


def test_daily_limit_counts_per_submitter_and_day(config):
    for _ in range(5):
        file(config)
    with pytest.raises(DailyLimitReached):
        file(config)
    file(config, submitter="wx:o_other", openid="o_other")
    file(config, now=NOW + dt.timedelta(days=1))
    assert Complaint.select().count() == 7


@pytest.mark.parametrize("raw, masked", [
    ("王先生 13812345678", "王** 138****5678"),
    ("13812345678", "138****5678"),
    ("欧阳娜娜 zm@example.com", "欧*** z***@example.com"),
    ("", ""),
])
def test_mask_contact(raw, masked):
    assert mask_contact(raw) == masked


def test_reminders_before_and_after_the_deadline(config, people):
    complaint = file(config)  # accept by 2026-10-12
    assert remind_deadlines(config, today=dt.date(2026, 10, 8), now=NOW) == 0
    assert remind_deadlines(config, today=dt.date(2026, 10, 10), now=NOW) == 2  # 1 working day left
    assert remind_deadlines(config, today=dt.date(2026, 10, 10), now=NOW) == 2  # queued once only
    assert remind_deadlines(config, today=dt.date(2026, 10, 14), now=NOW) == 2  # overdue: clerk and head again
    texts = [(o.openid, o.text) for o in Outbox.select().where(Outbox.key.startswith("remind:"))]
    assert sorted({who for who, _ in texts}) == ["o_clerk", "o_head"]
    assert any("临近期限" in t for _, t in texts) and any("已超期" in t and "2个工作日" in t for _, t in texts)
    assert all(complaint.ticket in t for _, t in texts)


@pytest.mark.parametrize("category, accept, answer", [
    ("旅行社", dt.date(2026, 10, 12), dt.date(2026, 11, 28)),  # 旅游投诉: 5 working days (国庆 skipped), 60 days
    ("网吧", dt.date(2026, 10, 14), dt.date(2026, 11, 28)),  # 文化市场举报: 《信访工作条例》 15 and 60 days
    ("演出", dt.date(2026, 9, 29), dt.date(2026, 10, 6)),  # 演出举报: at once, result within 7 days
])
def test_each_kind_of_complaint_follows_its_rules(config, people, category, accept, answer):
    complaint = file(config, category=category)
    assert complaint.accept_due == accept
    complaint.accept(people["clerk"], NOW, config)
    assert complaint.answer_due == answer
    rules = complaint.rules(config)
    assert rules["accept"]["source"].startswith("《") and rules["answer"]["source"].startswith("《")


def test_officer_complaints_are_petitions(config, people):
    complaint = file(config, category="执法人员", officer=people["officers"]["15052501001"], content="检查时未出示执法证件。")
    assert complaint.rules(config)["name"].startswith("信访事项") and complaint.accept_due == dt.date(2026, 10, 14)


def test_tourism_complaints_may_be_refused_for_the_90_days(config, people):
    complaint = file(config)
    with pytest.raises(ComplaintError, match="90日"):
        complaint.reject(people["clerk"], NOW, config, "")


def test_a_changed_rule_moves_open_deadlines_with_a_record(config, people):
    open_one, closed = file(config), file(config, content="旅行社擅自变更行程，要求退费。")
    closed.reject(people["clerk"], NOW, config, "重复投诉（已受理）")
    config["complaints"]["rules"]["tourism"]["accept"] = {"days": 3, "working": True, "source": "《旅游投诉处理办法》第十四条"}
    assert recompute_deadlines(config, now=NOW) == 1  # only the open one
    moved = Complaint.get_by_id(open_one.id)
    assert moved.accept_due == dt.date(2026, 10, 9)
    [event] = [e for e in moved.events() if e.action == "recompute"]
    assert "旅游投诉" in event.detail and "2026-10-12→2026-10-09" in event.detail
    assert Complaint.get_by_id(closed.id).accept_due == dt.date(2026, 10, 12)
    assert recompute_deadlines(config, now=NOW) == 0


def test_provisional_deadlines_are_recomputed_when_the_schedule_arrives(config):
    complaint = file(config, now=dt.datetime(2026, 12, 29, 9, 0))
    assert complaint.accept_due == dt.date(2027, 1, 5) and complaint.accept_due_provisional
    config["workdays"]["schedules"] = {2027: {"holidays": ["2027-01-01"], "workdays": []}}
    assert recompute_deadlines(config) == 1
    complaint = Complaint.get_by_id(complaint.id)
    assert complaint.accept_due == dt.date(2027, 1, 6) and not complaint.accept_due_provisional
    assert recompute_deadlines(config) == 0


def test_outbox_row_is_claimed_by_one_sender(config, fake_wechat):
    Outbox.enqueue("k1", "o_nobody", "hello", NOW)
    Outbox.enqueue("k1", "o_nobody", "hello again", NOW)
    [row] = Outbox.select()
    assert row.claim(NOW) and not row.claim(NOW)
    assert row.claim(NOW + dt.timedelta(minutes=6))  # a crashed sender's claim goes stale
    Outbox.update(claimed_at=None).execute()
    # Never messaged us: no window, no template configured — kept for later, not given up.
    assert drain_outbox(config, now=NOW + dt.timedelta(minutes=7)) == 0
    row = Outbox.get_by_id(row.id)
    assert row.attempts == 3 and row.status == "待发送" and row.next_attempt_at > NOW + dt.timedelta(minutes=7)


def test_cli_staff_actions(app, config, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", config["database"]["url"])
    monkeypatch.setenv("WECHAT_API_BASE", config["wechat"]["api_base"])
    runner = CliRunner()
    result = runner.invoke(bot.cli, ["complaints", "staff-add", "o_cli", "刘会计", "负责人"])
    assert result.exit_code == 0, result.output
    complaint = file(config, now=dt.datetime.now(), contact="马女士 13800001234")
    ticket = complaint.ticket
    steps = [["accept", ticket], ["assign", ticket, "15052501001"], ["answer", ticket, "已约谈经营者，责令整改。"],
             ["close", ticket], ["visit", ticket, "满意", "电话回访"]]
    for step in steps:
        result = runner.invoke(bot.cli, ["complaints", *step, "--staff", "刘会计"])
        assert result.exit_code == 0, (step, result.output)
    refused = runner.invoke(bot.cli, ["complaints", "close", ticket, "--staff", "o_cli"])
    assert refused.exit_code == 1 and "不能办结" in refused.output
    listed = runner.invoke(bot.cli, ["complaints", "list"]).output
    assert ticket in listed and "马** 138****1234" in listed and "13800001234" not in listed
    shown = runner.invoke(bot.cli, ["complaints", "show", ticket, "--staff", "o_cli", "--reveal"]).output
    assert "13800001234" in shown and "查看联系方式" in shown
    assert ComplaintEvent.select().where(ComplaintEvent.action == "reveal").count() == 1
