"""The clock: which job runs when. Jobs are plain functions of the configuration, kept in the module of
their area, that tests call directly; this module only schedules them, and imports them — they never
import it.

`start_clock` runs them all in one process only (gunicorn's master, see notices/gunicorn_hooks.py),
never once per worker.
"""
import logging

from apscheduler.schedulers.background import BackgroundScheduler

from models.database import connection, open_configured
from notices import complaints, delivery, ledger, outbox

log = logging.getLogger(__name__)


def daily_at(setting):
    """hour and minute of a "HH:MM" setting (section, key), read when the clock starts."""
    section, key = setting
    return {"hour": lambda config: int(config[section][key].split(":")[0]),
            "minute": lambda config: int(config[section][key].split(":")[1])}


# (job, trigger, trigger arguments); a callable argument is read from the configuration.
SCHEDULE = [
    (outbox.drain_outbox, "interval", {"minutes": 1}),  # 投诉举报: pushes that have not gone out
    (complaints.remind_deadlines, "cron", {"hour": 8, "minute": 30}),  # 临近/超期 reminders to staff
    (complaints.recompute_deadlines, "cron", {"hour": 2, "minute": 5}),  # once a year's schedule is entered
    (ledger.publish_tree_head, "cron", daily_at(("ledger", "sign_daily_at"))),  # 全过程记录: signed tree head
    (delivery.prune_answered_messages, "cron", {"hour": 3, "minute": 17}),  # delivery records past retries
]


def run_job(func, config):
    """Run one job with its own connection; a failing job is logged and the clock goes on."""
    try:
        with connection():
            return func(config)
    except Exception:  # noqa: BLE001 — one bad run must not stop the other jobs
        log.exception("scheduled job %s failed", func.__name__)
        return None


def trigger_args_for(trigger_args, config):
    """A job's trigger arguments; a callable value is read from the configuration when the clock starts."""
    return {key: value(config) if callable(value) else value for key, value in trigger_args.items()}


def start_clock(config):
    open_configured(config, pooled=False)  # see open_configured: the workers are forked from here
    scheduler = BackgroundScheduler(timezone=config.get("timezone", "Asia/Shanghai"))
    for func, trigger, trigger_args in SCHEDULE:
        scheduler.add_job(run_job, trigger, args=[func, config], id=func.__name__,
                          coalesce=True, misfire_grace_time=3600, **trigger_args_for(trigger_args, config))
    scheduler.start()
    log.info("clock started with %d jobs", len(SCHEDULE))
    return scheduler
