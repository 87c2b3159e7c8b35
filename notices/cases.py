"""案件 on the clock: reminders of a case's procedure limits (models/cases.py `deadlines`) to its handlers
and the bureau's heads — 90 days from 立案, 先行登记保存, 查封、扣押, and to reviewers the review's own
limit. A plain function of the configuration, scheduled by notices/clock.py; `#待办` shows the same."""
import datetime as dt

from models import cases
from models.complaints import Outbox
from models.database import write_transaction
from models.staff import HEAD, REVIEWER, Staff
from models.workdays import working_calendar


def receivers(case, limit, staff=None):
    """Who answers for `limit`: the case's handlers and every head; the reviewers for a review.

    `staff`: every active member of staff who can be messaged, fetched once by a caller going through
    many limits; else looked up here."""
    roles = (HEAD, REVIEWER) if limit.name == "法制审核" else (HEAD,)
    handlers = set(case.handlers())
    if staff is None:
        staff = Staff.select().where((Staff.active == True) & Staff.openid.is_null(False))  # noqa: E712
    return [s for s in staff if s.role in roles or (s.cert_no in handlers and limit.name != "法制审核")]


def remind_case_limits(config, today=None, now=None):
    """Queue a reminder for each limit within `cases.limits.remind_before_workdays`, daily once passed.

    Reads only the limits due within the reminder period (models/cases.py running_limits, by the
    due-date index), staff fetched once, the days counted outside any transaction, then every reminder
    written in one short write transaction; each reminder's key makes a rerun add nothing (issue 19)."""
    now = now or dt.datetime.now()
    today = today or now.date()
    before = config["cases"]["limits"]["remind_before_workdays"]
    staff = list(Staff.select().where((Staff.active == True) & Staff.openid.is_null(False)))  # noqa: E712
    reminders = []
    # Only the limits due within the reminder period are read (by the due-date index): the (before + 1)-th
    # working day is the first date that leaves more than `before`.
    soon_ends = working_calendar(config).add_workdays(today, before + 1).due
    cases.refresh_limits(config)  # the cases whose stored limits are not current (rare: after a rules change)
    for case, limit, left in cases.running_limits(config, today, due_before=soon_ends)[0]:
        what = f"案件 {case.number}（{case.recorded_party_name}）：{limit.name}"
        if left < 0:
            stage, text = f"overdue:{today}", f"【已超期】{what}，期限{limit.due:%m月%d日}已过（{limit.source}），请尽快处理。"
        elif left <= before:
            stage, text = "soon", f"【临近期限】{what}，须在{limit.due:%m月%d日}前完成（{limit.source}），还剩{left}个工作日。"
        else:
            continue
        reminders += [(f"caselimit:{case.number}:{limit.seq}:{stage}:{receiver.openid}", receiver.openid,
                       text + "回复“#待办”查看全部。") for receiver in receivers(case, limit, staff)]
    if reminders:
        with write_transaction():
            Outbox.enqueue_many(reminders, now)
    return len(reminders)
