"""投诉举报 on the clock: deadline reminders to staff and deadlines recomputed once a year's holiday
schedule is entered. Plain functions of the configuration, scheduled by notices/clock.py."""
import datetime as dt

from models.complaints import Complaint, Outbox, complaint_settings
from models.staff import CLERK, HANDLER, HEAD, Staff
from models.database import write_transaction
from models.workdays import working_calendar


def remind_deadlines(config, today=None, now=None):
    """Queue reminders for deadlines within `remind_before_workdays` (once per complaint and stage), and
    every day once passed — then one message a day to each member of staff, however many have passed:
    overdue complaints pile up, and a reminder each would bury the one that matters.

    Days are counted by Complaint.workdays_left, as #待办 counts them; the database finds the complaints
    due soon and counts the overdue ones by their dates (the bounds below), so the pass costs what it
    sends, not the number open (issue 19)."""
    now = now or dt.datetime.now()
    today = today or now.date()
    before = complaint_settings(config)["remind_before_workdays"]
    calendar = working_calendar(config)
    staff = Staff.receivers((CLERK, HANDLER, HEAD))  # once for the pass, not once per complaint
    # A deadline has passed (working days left < 0) exactly when a working day lies after it, up to today:
    # when it is before the last working day on or before today. One is near (0 to `before` left) from
    # there up to the (before + 1)-th working day after today.
    passed_before = last_workday(calendar, today)
    near_until = calendar.add_workdays(today, before + 1).due
    # Computed first, outside any transaction (no write lock held while days are counted), then written
    # in one short write transaction; each reminder's key makes a rerun add nothing. A deferred
    # transaction that read first could fail at its first write on SQLite when another connection
    # (a batch of delivery records) committed in between: write_transaction takes the lock first.
    reminders = _near(config, Complaint.due_in(passed_before, near_until), staff, today, before)
    reminders += _passed(config, staff, today, passed_before)
    with write_transaction():
        Outbox.enqueue_many(reminders, now)
    return len(reminders)


def last_workday(calendar, day):
    """The last working day on or before `day`."""
    while not calendar.is_workday(day):
        day -= dt.timedelta(days=1)
    return day


def _near(config, complaints, staff, today, before):
    """(key, openid, text) of the reminders of deadlines near: once per complaint, status and receiver."""
    reminders = []
    for complaint in complaints:
        left = complaint.workdays_left(config, today)
        if left is None or not 0 <= left <= before:
            continue
        what = f"投诉 {complaint.ticket}（{complaint.category}，{complaint.status}）"
        text = f"【临近期限】{what}须在{complaint.current_due():%m月%d日}前办理，还剩{left}个工作日。"
        for receiver in complaint.responsible_staff(staff):
            reminders.append((f"remind:{complaint.ticket}:{complaint.status}:soon:{receiver.openid}",
                              receiver.openid, text + f"回复“#查看 {complaint.ticket}”看详情。"))
    return reminders


def _passed(config, staff, today, passed_before):
    """(key, openid, text): to each member of staff with complaints past their deadline, one message today."""
    reminders = []
    for receiver in staff:
        count, longest = Complaint.overdue_for(receiver, passed_before)
        if not count:
            continue
        left = longest.workdays_left(config, today)
        what = f"投诉 {longest.ticket}（{longest.category}，{longest.status}）"
        if count == 1:
            text = (f"【已超期】{what}期限{longest.current_due():%m月%d日}已过{-left}个工作日，请尽快办理。"
                    f"回复“#查看 {longest.ticket}”看详情。")
        else:
            text = (f"【已超期】您待办的投诉中有{count}件已过期限，最久的是{what}，已过{-left}个工作日。"
                    "请尽快办理，回复“#待办”查看全部。")
        reminders.append((f"remind:overdue:{today}:{receiver.openid}", receiver.openid, text))
    return reminders


def recompute_deadlines(config, now=None):
    return Complaint.recompute_deadlines(config, now or dt.datetime.now())
