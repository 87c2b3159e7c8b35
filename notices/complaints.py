"""投诉举报 on the clock: deadline reminders to staff and deadlines recomputed once a year's holiday
schedule is entered. Plain functions of the configuration, scheduled by notices/clock.py."""
import datetime as dt

from models.complaints import Complaint, Outbox, complaint_settings
from models.staff import CLERK, HANDLER, HEAD, Staff
from models.database import write_transaction
from models.workdays import working_calendar


def remind_deadlines(config, today=None, now=None):
    """Remind each member of staff once a day of the complaints they have to act on whose deadline is near
    (`remind_before_workdays`) or has passed: one message, however many — they pile up, and a message
    each would bury the one that matters. A single complaint is named with its own details.

    Days are counted by Complaint.workdays_left, as #待办 counts them; the database counts each member's
    near and overdue complaints by their dates (the bounds below, on the deadline indexes), so the pass
    costs the same whatever the number open or closed (issue 19). Returns how many reminders it queued
    (a rerun the same day queues the same keys again: nothing new)."""
    now = now or dt.datetime.now()
    today = today or now.date()
    before = complaint_settings(config)["remind_before_workdays"]
    calendar = working_calendar(config)
    # A deadline has passed (working days left < 0) exactly when a working day lies after it, up to today:
    # when it is before the last working day on or before today. One is near (0 to `before` left) from
    # there up to the (before + 1)-th working day after today.
    passed_before = last_workday(calendar, today)
    near_until = calendar.add_workdays(today, before + 1).due
    # Counted first, outside any transaction (no write lock held meanwhile), then written in one short
    # write transaction; each reminder's key makes a rerun add nothing. A deferred transaction that read
    # first could fail at its first write on SQLite when another connection (a batch of delivery
    # records) committed in between: write_transaction takes the lock first.
    reminders = []
    for receiver in Staff.receivers((CLERK, HANDLER, HEAD)):
        late = Complaint.deadline_in(receiver, None, passed_before)
        near = Complaint.deadline_in(receiver, passed_before, near_until)
        text = reminder_text(config, today, late, near)
        if text:
            reminders.append((f"remind:{today}:{receiver.openid}", receiver.openid, text))
    with write_transaction():
        Outbox.enqueue_many(reminders, now)
    return len(reminders)


def last_workday(calendar, day):
    """The last working day on or before `day`."""
    while not calendar.is_workday(day):
        day -= dt.timedelta(days=1)
    return day


def reminder_text(config, today, late, near):
    """One member of staff's reminder: `late` and `near` are (how many, the most urgent) complaints."""
    (late_count, latest), (near_count, nearest) = late, near
    if late_count + near_count == 1:
        complaint = latest or nearest
        left = complaint.workdays_left(config, today)
        what = f"投诉 {complaint.ticket}（{complaint.category}，{complaint.status}）"
        due = complaint.current_due()
        said = (f"【已超期】{what}期限{due:%m月%d日}已过{-left}个工作日，请尽快办理。" if left < 0
                else f"【临近期限】{what}须在{due:%m月%d日}前办理，还剩{left}个工作日。")
        return said + f"回复“#查看 {complaint.ticket}”看详情。"
    parts = []
    if late_count:
        parts.append(f"已超期{late_count}件（最久的是{latest.ticket}，已过{-latest.workdays_left(config, today)}个工作日）")
    if near_count:
        parts.append(f"临近期限{near_count}件（最近的是{nearest.ticket}，还剩{nearest.workdays_left(config, today)}个工作日）")
    if not parts:
        return ""
    return f"【{'已超期' if late_count else '临近期限'}】您待办的投诉中，" + "，".join(parts) + "。请尽快办理，回复“#待办”查看全部。"


def recompute_deadlines(config, now=None):
    return Complaint.recompute_deadlines(config, now or dt.datetime.now())
