"""#待办 and the reminder passes cost what they return, not the bureau's history (issue 19): the same
statements, and the same answer, with a few or many closed complaints and ended cases behind the open
ones. Statements are counted as tests/wechat/test_cases.py counts them (peewee's DEBUG records, leaving
out the replay record's once-a-minute purge of used nonces and its seed of users in a dialogue)."""
import datetime as dt
import logging

import pytest

from models import Officer, Staff, cases, db, ledger
from models.complaints import CLOSED, REJECTED, Complaint
from notices.cases import remind_case_limits
from notices.complaints import remind_deadlines
from tests.conftest import WeChatUser

A, B = "15052501001", "15052501002"
NOW = dt.datetime(2026, 9, 1, 22, 0, tzinfo=ledger.CHINA_TZ)
def bookkeeping(message):
    # the delivery records' batch (models/delivery.py record_many), due every 0.2 s or so many rows
    batch = message.startswith("('INSERT INTO inboundmessage") or "synchronous_commit" in message
    # the replay record's seed of users in a dialogue, once per worker and period (models/replay.py)
    seed = 'SELECT DISTINCT "t1"."openid" FROM "complaint_draft"' in message
    return batch or seed or "used_nonce" in message



ROLES = {"o_head": ("其木格", "负责人", None), "o_clerk": ("乌兰", "受理员", None),
         "o_a": ("包海龙", "承办人", A), "o_rev": ("白斯琴", "法制审核员", None)}


@pytest.fixture
def bureau(app):
    app.config["CLOCK"] = NOW.timestamp
    config = app.config["SANXIANG"]
    config["complaints"]["remind_before_workdays"] = 60  # every open deadline is "soon": reminders are sent
    config["cases"]["limits"]["remind_before_workdays"] = 90
    with db.connection_context():
        for openid, (name, role, cert) in ROLES.items():
            Staff.add(openid, name, role, Officer.by_cert_no(cert) if cert else None)
        head, clerk = Staff.by_openid("o_head"), Staff.by_openid("o_clerk")
        pending = file(config, "网吧接纳未成年人上网，没有登记。", 0)
        handled = file(config, "导游强迫购物，不买不让下车。", 1)
        handled.accept(clerk, NOW.replace(tzinfo=None), config)
        handled.assign(clerk, NOW.replace(tzinfo=None), config, Officer.by_cert_no(A))
        open_case(config, "奈曼旗星空网吧")
        assert pending and head
    return config


def file(config, content, n):
    return Complaint.file(config, NOW.replace(tzinfo=None) - dt.timedelta(days=1), category="网吧", content=content,
                          submitter=f"wx:o_c{n}", openid=f"o_c{n}", check_limit=False)


def open_case(config, name):
    return cases.open_case(config, party={"kind": "法人或其他组织", "name": name}, handlers=[A, B], by=A,
                           at=NOW - dt.timedelta(days=3),
                           data={"item_code": "CF-002", "source": "投诉举报", "facts": "群众举报接纳未成年人", "approver": "局长 张某"})


def add_history(config, count):
    """`count` complaints handled to the end (办结 or 不予受理) and `count` cases opened and withdrawn."""
    with db.connection_context():
        for n in range(count):
            complaint = file(config, f"第{n}家歌厅噪音扰民，已经解决。", 100 + n)
            Complaint.update(status=CLOSED if n % 2 else REJECTED).where(Complaint.id == complaint.id).execute()
            case = open_case(config, f"第{n}号歌厅")
            cases.record_step(config, case.number, "撤案", {"reason": "违法事实不能成立", "approver": "局长 张某"}, by=A,
                              at=NOW - dt.timedelta(days=2))


def counted(caplog, action):
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        result = action()
    count = sum(1 for r in caplog.records if r.name == "peewee" and not bookkeeping(r.getMessage()))
    assert count > 0  # the logger is captured: an equality of zeros would prove nothing
    return count, result


def todo_costs(client, app, caplog):
    return {openid: counted(caplog, lambda: WeChatUser(client, app, openid).say("#待办")) for openid in ROLES}


def reminder_costs(config, caplog):
    def both():
        with db.connection_context():
            today, now = NOW.date(), NOW.replace(tzinfo=None)
            return remind_deadlines(config, today=today, now=now), remind_case_limits(config, today=today, now=now)
    return counted(caplog, both)


def test_todo_costs_the_same_for_every_role_with_more_history(bureau, app, client, caplog):
    few = todo_costs(client, app, caplog)
    assert "导游强迫购物" in few["o_a"][1] and "作出处罚决定" in few["o_head"][1], few
    assert "网吧接纳未成年人" in few["o_clerk"][1] and "导游" not in few["o_clerk"][1]
    assert few["o_rev"][1] == "目前没有待办投诉，也没有在办案件的期限。"  # a reviewer's #待办 is not refused
    add_history(bureau, 12)
    many = todo_costs(client, app, caplog)
    assert many == few  # statements and answers alike: the ended work is neither read nor shown
    with db.connection_context():
        assert cases.CaseOpen.select().count() == 1 and cases.Case.select().count() == 13


def test_the_reminder_passes_cost_the_same_with_more_history(bureau, caplog):
    few = reminder_costs(bureau, caplog)
    assert few[1][0] > 0 and few[1][1] > 0, few  # complaints and the case's 90 days both remind
    add_history(bureau, 12)
    assert reminder_costs(bureau, caplog) == few  # a rerun adds nothing new, in as many statements


def test_open311_lists_cost_the_same_with_more_closed_complaints(bureau, client, caplog):
    def listing():
        response = client.get("/open311/v2/requests.json?status=open&start_date=2026-08-01T00:00:00%2B08:00"
                              "&end_date=2026-09-30T00:00:00%2B08:00")
        assert response.status_code == 200
        return sorted(r["service_request_id"] for r in response.get_json())

    few = counted(caplog, listing)
    assert len(few[1]) == 2
    add_history(bureau, 12)
    assert counted(caplog, listing) == few


def test_case_numbers_follow_the_counter_without_gaps(bureau, app):
    config = bureau
    with db.connection_context():
        assert cases.CaseCounter.get_by_id(2026).last == 1
        with pytest.raises(cases.CaseError):  # refused before numbering: the counter is not raised
            cases.open_case(config, party={"kind": "外星人", "name": "某"}, handlers=[A, B], by=A, at=NOW,
                            data={"item_code": "CF-002", "source": "s", "facts": "f", "approver": "a"})
        assert open_case(config, "第二家").number == "奈文旅立字〔2026〕第2号"
        later = cases.open_case(config, party={"kind": "自然人", "name": "张某"}, handlers=[A, B], by=A,
                                at=NOW.replace(year=2027, month=1, day=4),
                                data={"item_code": "CF-002", "source": "s", "facts": "f", "approver": "a"})
        assert later.number == "奈文旅立字〔2027〕第1号"
        # A year whose counter row is missing (cases restored from elsewhere) goes on after its cases.
        cases.CaseCounter.delete().where(cases.CaseCounter.year == 2026).execute()
        assert open_case(config, "第三家").number == "奈文旅立字〔2026〕第3号"


def test_todo_lists_the_soonest_and_counts_the_rest(bureau, app, client):
    bureau["complaints"]["todo_max_items"] = 1
    reply = WeChatUser(client, app, "o_head").say("#待办")
    assert reply.startswith("待办投诉2件、案件期限1项") and "各列期限最近的1项" in reply, reply
    assert "网吧接纳未成年人" in reply and "导游强迫购物" not in reply  # 待受理 is due first (09月15日)
    with db.connection_context():
        head = Staff.by_openid("o_head")
        everything = Complaint.todo(head)
        assert [c.ticket for c in everything] == [c.ticket for c in sorted(
            everything, key=lambda c: (c.current_due() or dt.date.max, c.created_at))]
        assert Complaint.todo_count(head) == len(everything) == 2


def test_the_running_cases_are_found_without_scanning_every_case(bureau, database_url):
    """The open-case query walks case_open and looks each case up by its number (SQLite's plan): a scan of
    enforcement_case would probe the log once for every case ever opened, the same statements but not the
    same cost."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the plan is SQLite's; PostgreSQL chooses by its statistics")
    with db.connection_context():
        sql, params = cases.Case.still_open().sql()
        plan = " | ".join(row[-1] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
    assert "SEARCH t1 USING INDEX" in plan and "SCAN t1" not in plan, plan


def test_the_failed_notices_are_read_by_their_own_index(bureau, database_url):
    """#待办 shows the notices WeChat never accepted; with thousands queued or sent, they must be found by
    the failed_at index, not by walking every queued row (the sent_at index) and sorting."""
    from models.outbox import Outbox

    if not database_url.startswith("sqlite"):
        pytest.skip("the plan is SQLite's; PostgreSQL chooses by its statistics")
    with db.connection_context():
        sql, params = Outbox.failed_query().sql()  # the statement #待办 runs
        plan = " | ".join(row[-1] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
        assert "failed_at" in plan and "TEMP B-TREE" not in plan, plan
        now = NOW.replace(tzinfo=None)
        Outbox.enqueue("a", "o_x", "甲", now)
        Outbox.enqueue("b", "o_y", "乙", now)
        row = Outbox.get(Outbox.key == "a")
        assert row.claim(now) and row.fail(now, "45047")
        assert [r.key for r in Outbox.failed()] == ["a"]
        row.mark_sent(now, "custom")  # a stale sender succeeded after all: sent, no longer failed
        assert Outbox.failed() == []


def from_files(config):
    """The running limits as the case files say, computed afresh (what case_limit must agree with)."""
    return sorted((f.case.number, limit.name, limit.due) for f in cases.Case.open_files() for limit in cases.deadlines(config, f))


def stored_or_computed(config):
    rows, total = cases.running_limits(config, NOW.date())
    assert total == len(rows)
    return sorted((case.number, limit.name, limit.due) for case, limit, _ in rows)


def test_stored_limits_are_the_files_and_never_used_stale(bureau):
    """#待办 and the reminders read the limits kept in case_limit; a case whose file got an entry some other
    way, or whose rules changed, is computed from its file instead, until refresh_limits stores it again."""
    config = bureau
    with db.connection_context():
        second = open_case(config, "奈曼旗银河网吧")
        assert cases._stale_cases(cases.limits_rules(config)) == []  # kept by the calls that wrote the files
        assert stored_or_computed(config) == from_files(config) and len(from_files(config)) == 2
        # An entry appended past cases.py: the stored rows are not its file any more.
        ledger.append("step", {"reason": "违法事实不能成立", "approver": "局长"}, case_no=second.number, step="撤案", by=A)
        assert cases._stale_cases(cases.limits_rules(config)) == [second.number]
        assert stored_or_computed(config) == from_files(config) and len(from_files(config)) == 1
        # Other rules (the decision limit shortened): every case is computed again, with the new due date.
        before = from_files(config)
        config["cases"]["limits"]["decision_days"] -= 30
        after = from_files(config)
        assert after != before and stored_or_computed(config) == after
        assert cases.refresh_limits(config) == 2 and cases._stale_cases(cases.limits_rules(config)) == []
        assert stored_or_computed(config) == after
        assert [r.due for r in cases.CaseLimit.select()] == [after[0][2]]
