"""事后公开 on the clock: one pass brings every disclosure up to date (models/publication.py).

Each step looks at the state in the database, not at when it last ran, so a pass after downtime catches up
on everything missed, and a second pass (a retry, a second process) finds nothing left to do. The work is
done in rounds of at most BATCH rows per step, each round one short transaction under a lock in the database
(publication.clock_lock): a catch-up of thousands of rows never holds SQLite's write lock for long enough to
make a WeChat reply wait. Pushes go to the outbox in the same transaction, keyed so none is queued twice.
"""
from models import publication
from models.complaints import Outbox
from models.ledger import now as ledger_now

# Rows per step and round: a round then takes a few hundred milliseconds at most (bench/disclosure_bench.py).
BATCH = 200
# A safety net: a step that keeps finding work (a bug) must not keep the clock busy forever.
MAX_ROUNDS = 500


def publication_pass(config, today=None, now=None, batch=BATCH):
    """sync the log, recount provisional due dates, publish what is ready, put corrections out, take down
    what expired, remind the responsible staff, raise overdue ones to the heads. Returns what was done
    ({step: count}), or None when another process holds the lock."""
    now = (now or ledger_now()).replace(tzinfo=None)
    today = today or now.date()
    total = None
    for round_no in range(MAX_ROUNDS):
        with publication.clock_lock() as got:
            if not got:
                return total
            changed, more = publication.sync(config, now, max_batches=1)
            done = {
                "新增或更新": changed,
                # Cheap and unbounded (it writes only what changed): once per pass is enough.
                "重算期限": publication.recompute_provisional(config, now) if round_no == 0 else 0,
                "公开": publication.publish_ready(config, now, limit=batch),
                "发布更正": publication.publish_changes(config, now, limit=batch),
                "到期下线": publication.expire(today, now, limit=batch),
                "提醒": remind(config, today, now, limit=batch),
                "超期督办": escalate(config, today, now, limit=batch),
            }
        total = {k: (total or {}).get(k, 0) + v for k, v in done.items()}
        # Another round only while the log has more to read or a step filled its batch (more may wait).
        if not more and all(done[k] < batch for k in ("公开", "发布更正", "到期下线", "提醒", "超期督办")):
            return total
    return total


def remind(config, today, now, limit=None):
    """N working days before the due date: the responsible officers, once per due date. Returns the number
    of records reminded (each may reach several officers)."""
    items, rows = [], publication.due_soon(config, today, limit)
    for row in rows:
        text = (f"【事后公开】第{row.id}号 {row.label}{row.decision_no}（{row.party}）须在{row.due_on:%m月%d日}前公开"
                f"{'（暂定）' if row.due_provisional else ''}。"
                + ("请确认公开文本：bot.py publication show " + str(row.id) if row.served_on else "决定尚未记录送达，请尽快送达并记录。"))
        items += [(f"publication:{row.id}:soon:{row.due_on}:{s.openid}", s.openid, text)
                  for s in publication.responsible(row)]
        publication.Disclosure.update(reminded_for=row.due_on).where(publication.Disclosure.id == row.id).execute()
        publication.log_event(row, "提醒", now, by="系统", reason=f"到期日{row.due_on}")
    Outbox.enqueue_many(items, now)
    return len(rows)


def escalate(config, today, now, limit=None):
    """Past the due date and still not public: every head is told, once. Returns the number of records."""
    items, rows = [], publication.overdue(today, limit)
    for row in rows:
        text = (f"【事后公开超期】第{row.id}号 {row.label}{row.decision_no}（{row.party}）应于{row.due_on:%m月%d日}前公开，"
                f"现已超期。{'尚未记录送达。' if not row.served_on else ''}请督促办理：bot.py publication show {row.id}")
        items += [(f"publication:{row.id}:overdue:{s.openid}", s.openid, text) for s in publication.heads()]
        publication.Disclosure.update(escalated_on=today).where(publication.Disclosure.id == row.id).execute()
        publication.log_event(row, "超期督办", now, by="系统", reason=f"到期日{row.due_on}")
    Outbox.enqueue_many(items, now)
    return len(rows)


def run_publication(config):
    """The scheduled job (notices/clock.py)."""
    return publication_pass(config)
