"""事后公开 on the clock: one pass brings every disclosure up to date (models/publication.py).

Each step looks at the state in the database, not at when it last ran, so a pass after downtime catches up
on everything missed, and a second pass (a retry, a second process) finds nothing left to do. The pass holds
a lock in the database (publication.clock_lock) and is one transaction; pushes go to the outbox in it,
keyed so that none is queued twice.
"""
from models import publication
from models.complaints import Outbox
from models.ledger import now as ledger_now


def publication_pass(config, today=None, now=None):
    """sync the log, recount provisional due dates, publish what is ready, put corrections out, take down
    what expired, remind the responsible staff, raise overdue ones to the heads. Returns what was done
    ({step: count}), or None when another process holds the lock."""
    now = (now or ledger_now()).replace(tzinfo=None)
    today = today or now.date()
    with publication.clock_lock() as got:
        if not got:
            return None
        return {
            "新增或更新": publication.sync(config, now),
            "重算期限": publication.recompute_provisional(config, now),
            "公开": publication.publish_ready(config, now),
            "发布更正": publication.publish_changes(config, now),
            "到期下线": publication.expire(today, now),
            "提醒": remind(config, today, now),
            "超期督办": escalate(config, today, now),
        }


def remind(config, today, now):
    """N working days before the due date: the responsible officers, once per due date."""
    items, rows = [], publication.due_soon(config, today)
    for row in rows:
        if row.reminded_for == row.due_on.isoformat():
            continue
        text = (f"【事后公开】第{row.id}号 {row.label}{row.decision_no}（{row.party}）须在{row.due_on:%m月%d日}前公开"
                f"{'（暂定）' if row.due_provisional else ''}。"
                + ("请确认公开文本：bot.py publication show " + str(row.id) if row.served_on else "决定尚未记录送达，请尽快送达并记录。"))
        items += [(f"publication:{row.id}:soon:{row.due_on}:{s.openid}", s.openid, text)
                  for s in publication.responsible(row)]
        publication.Disclosure.update(reminded_for=row.due_on.isoformat()).where(
            publication.Disclosure.id == row.id).execute()
        publication.log_event(row, "提醒", now, by="系统", reason=f"到期日{row.due_on}")
    Outbox.enqueue_many(items, now)
    return len(items)


def escalate(config, today, now):
    """Past the due date and still not public: every head is told, once."""
    items, rows = [], publication.overdue(today)
    for row in rows:
        text = (f"【事后公开超期】第{row.id}号 {row.label}{row.decision_no}（{row.party}）应于{row.due_on:%m月%d日}前公开，"
                f"现已超期。{'尚未记录送达。' if not row.served_on else ''}请督促办理：bot.py publication show {row.id}")
        items += [(f"publication:{row.id}:overdue:{s.openid}", s.openid, text) for s in publication.heads()]
        publication.Disclosure.update(escalated_on=today).where(publication.Disclosure.id == row.id).execute()
        publication.log_event(row, "超期督办", now, by="系统", reason=f"到期日{row.due_on}")
    Outbox.enqueue_many(items, now)
    return len(items)


def run_publication(config):
    """The scheduled job (notices/clock.py)."""
    return publication_pass(config)
