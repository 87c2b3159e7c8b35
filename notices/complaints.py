"""投诉举报 on the clock: deadline reminders to staff and deadlines recomputed once a year's holiday
schedule is entered. Plain functions of the configuration, scheduled by notices/clock.py."""
import datetime as dt

from models.complaints import ACCEPTED, IN_PROGRESS, PENDING, Complaint, Outbox, complaint_settings
from models.staff import CLERK, HANDLER, HEAD, Staff
from models.database import write_transaction


def remind_deadlines(config, today=None, now=None):
    """Queue reminders for deadlines within `remind_before_workdays`, and daily once overdue.

    Days are counted by Complaint.workdays_left, as #待办 counts them."""
    now = now or dt.datetime.now()
    today = today or now.date()
    before = complaint_settings(config)["remind_before_workdays"]
    queued = 0
    staff = Staff.receivers((CLERK, HANDLER, HEAD))  # once for the pass, not once per complaint
    open_ones = Complaint.select().where(Complaint.status.in_((PENDING, ACCEPTED, IN_PROGRESS)))
    # Computed first, outside any transaction (no write lock held while days are counted), then written
    # in one short write transaction; each reminder's key makes a rerun add nothing. A deferred
    # transaction that read first could fail at its first write on SQLite when another connection
    # (a batch of delivery records) committed in between: write_transaction takes the lock first.
    reminders = _reminders(config, open_ones, staff, today, before)
    with write_transaction():
        Outbox.enqueue_many(reminders, now)
    queued = len(reminders)
    return queued


def _reminders(config, complaints, staff, today, before):
    """(key, openid, text) of every reminder due today."""
    reminders = []
    for complaint in complaints:
        left = complaint.workdays_left(config, today)
        if left is None:
            continue
        due = complaint.current_due()
        what = f"投诉 {complaint.ticket}（{complaint.category}，{complaint.status}）"
        if left < 0:
            stage, text = f"overdue:{today}", f"【已超期】{what}期限{due:%m月%d日}已过{-left}个工作日，请尽快办理。"
        elif left <= before:
            stage, text = "soon", f"【临近期限】{what}须在{due:%m月%d日}前办理，还剩{left}个工作日。"
        else:
            continue
        for receiver in complaint.responsible_staff(staff):
            reminders.append((f"remind:{complaint.ticket}:{complaint.status}:{stage}:{receiver.openid}",
                              receiver.openid, text + f"回复“#查看 {complaint.ticket}”看详情。"))
    return reminders


def recompute_deadlines(config, now=None):
    return Complaint.recompute_deadlines(config, now or dt.datetime.now())
