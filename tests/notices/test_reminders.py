"""One working-day calendar: `#待办` and the reminder job count the days left to a deadline the same way,
also across a year chinese_calendar does not know, once the State Council's schedule is entered."""
import datetime as dt
import re

import pytest

from models import Officer, Staff, db
from models.complaints import Complaint, Outbox
from models.workdays import load_schedules
from notices.complaints import remind_deadlines
from tests.conftest import WeChatUser

# 2027 as staff would enter it from 国务院办公厅关于2027年部分节假日安排的通知 (illustrative): New Year's Day
# (a Friday) and the Spring Festival week off, two Saturdays worked.
SCHEDULE_2027 = {2027: {"holidays": ["2027-01-01", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10",
                                     "2027-02-11", "2027-02-12"],
                        "workdays": ["2027-02-06", "2027-02-20"]}}
FILED = dt.datetime(2026, 12, 21, 9, 0)  # a Monday; the answer is due in 2027


def naive_workdays_between(start, end, schedules):
    """Walk every day, as the calendar's own definition says (a check that does not share its code)."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        schedule = schedules.get(day.year)
        if schedule and day in schedule.workdays:
            count += 1
        elif not (schedule and day in schedule.holidays) and day.weekday() < 5:
            count += 1
    return count


@pytest.fixture
def config(app):
    config = app.config["SANXIANG"]
    config["workdays"] = {"schedules": SCHEDULE_2027}
    config["complaints"]["remind_before_workdays"] = 60  # every open deadline is "soon": both count it
    return config


@pytest.mark.parametrize("today", [dt.date(2026, 12, 28), dt.date(2026, 12, 31), dt.date(2027, 1, 4)])
def test_todo_and_reminders_count_the_same_days(config, app, client, today):
    db.connect(reuse_if_open=True)
    head = Staff.add("o_head", "吴局长", "负责人")
    clerk = Staff.add("o_clerk", "张丽", "受理员")
    complaint = Complaint.file(config, FILED, category="网吧", content="网吧接纳未成年人上网，没有登记身份证。",
                               submitter="wx:o_c", openid="o_c")
    complaint.accept(clerk, FILED, config)
    complaint.assign(clerk, FILED, config, Officer.by_cert_no("15052501003"))
    due = Complaint.get_by_id(complaint.id).answer_due
    assert due.year == 2027 and not complaint.answer_due_provisional  # the entered schedule, not a guess
    expected = naive_workdays_between(today, due, load_schedules(config))

    Outbox.delete().execute()
    assert remind_deadlines(config, today=today, now=dt.datetime.combine(today, dt.time(8, 30))) == 1
    [reminder] = [row.text for row in Outbox.select() if row.openid == head.openid]
    db.close()

    app.config["CLOCK"] = dt.datetime.combine(today, dt.time(9, 0)).timestamp
    todo = WeChatUser(client, app, "o_head").say("#待办")
    assert int(re.search(r"剩(\d+)个工作日", todo).group(1)) == expected
    assert int(re.search(r"还剩(\d+)个工作日", reminder).group(1)) == expected
    # Without the schedule, 2027-01-01 (a Friday) and the Spring Festival week would count as working
    # days: a count that ignored it (as #待办 once did) would differ.
    assert naive_workdays_between(today, due, {}) != expected


def test_the_date_bounds_the_database_selects_by_are_the_days_left(config):
    """The reminder pass lets the database pick the complaints by date (issue 19): a deadline has passed
    exactly when it is before the last working day up to today, and is near exactly up to the
    (before + 1)-th working day — checked against the days left, over National Day, New Year and the
    entered 2027 Spring Festival with its make-up Saturdays."""
    from models.workdays import working_calendar
    from notices.complaints import last_workday

    calendar = working_calendar(config)
    before = 3
    for today in [dt.date(2026, 9, 26) + dt.timedelta(days=n) for n in range(20)] + \
                 [dt.date(2026, 12, 25) + dt.timedelta(days=n) for n in range(60)]:
        passed_before, near_until = last_workday(calendar, today), calendar.add_workdays(today, before + 1).due
        for due in (today + dt.timedelta(days=n) for n in range(-25, 25)):
            left = calendar.workdays_between(today, due)[0]
            assert (due < passed_before) == (left < 0), (today, due, left)
            assert (passed_before <= due < near_until) == (0 <= left <= before), (today, due, left)


def test_complaints_past_or_near_their_deadline_make_one_message_a_day_for_each_member_of_staff(config):
    db.connect(reuse_if_open=True)
    head = Staff.add("o_head", "吴局长", "负责人")
    Staff.add("o_clerk", "张丽", "受理员")
    tickets = [Complaint.file(config, FILED, category="网吧", content=f"第{n}家网吧接纳未成年人上网，没有登记身份证。",
                              submitter=f"wx:o_c{n}", openid=f"o_c{n}", check_limit=False).ticket for n in range(3)]
    Complaint.file(config, dt.datetime(2027, 2, 26, 9), category="网吧", content="第4家网吧接纳未成年人上网，没有登记身份证。",
                   submitter="wx:o_c4", openid="o_c4", check_limit=False)  # due within the reminder period
    Outbox.delete().execute()
    late = dt.date(2027, 3, 1)
    assert remind_deadlines(config, today=late, now=dt.datetime.combine(late, dt.time(8, 30))) == 2
    assert remind_deadlines(config, today=late, now=dt.datetime.combine(late, dt.time(9, 30))) == 2  # once a day
    texts = {row.openid: row.text for row in Outbox.select()}
    assert Outbox.select().count() == 2 and set(texts) == {"o_head", "o_clerk"}
    assert "已超期3件" in texts[head.openid] and "临近期限1件" in texts[head.openid], texts
    assert tickets[0] in texts[head.openid] and "#待办" in texts[head.openid]
    following = late + dt.timedelta(days=1)
    remind_deadlines(config, today=following, now=dt.datetime.combine(following, dt.time(8, 30)))
    assert Outbox.select().count() == 4  # and again the next day
    db.close()
