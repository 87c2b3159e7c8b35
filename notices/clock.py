"""The clock: which job runs when. Jobs are plain functions of the configuration, kept in the module of
their area, that tests call directly; this module only schedules them, and imports them — they never
import it.

`start_clock` runs them all in one process only — gunicorn's master under `bot.py serve` (see
notices/gunicorn_hooks.py), or `bot.py clock` as its own service in production (deploy/) — never once
per worker. Its `heartbeat` job lets /healthz tell whether it runs.
"""
import datetime as dt
import logging
import os
import threading

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from models import health
from models.database import connection, open_configured
from notices import cases, complaints, delivery, ledger, outbox, publication

log = logging.getLogger(__name__)


def heartbeat(config):
    """The clock is alive: /healthz (models/health.py) reports a clock silent for too long."""
    return health.beat()


def daily_at(setting):
    """hour and minute of a "HH:MM" setting (section, key), read when the clock starts."""
    section, key = setting
    return {"hour": lambda config: int(config[section][key].split(":")[0]),
            "minute": lambda config: int(config[section][key].split(":")[1])}


# (job, trigger, trigger arguments); a callable argument is read from the configuration.
SCHEDULE = [
    # First beat at once, so /healthz is green as soon as the clock is up, not a minute later.
    (heartbeat, "interval", {"minutes": 1, "next_run_time": lambda config: dt.datetime.now(dt.timezone.utc)}),
    (outbox.drain_outbox, "interval", {"minutes": 1}),  # 投诉举报: pushes that have not gone out
    (complaints.remind_deadlines, "cron", {"hour": 8, "minute": 30}),  # 临近/超期 reminders to staff
    (complaints.recompute_deadlines, "cron", {"hour": 2, "minute": 5}),  # once a year's schedule is entered
    (cases.remind_case_limits, "cron", {"hour": 8, "minute": 35}),  # 案件: 90 days, 保全, 查封扣押, 审核
    (ledger.publish_tree_head, "cron", daily_at(("ledger", "sign_daily_at"))),  # 全过程记录: signed tree head
    (delivery.prune_answered_messages, "cron", {"hour": 3, "minute": 17}),  # delivery records past retries
    # 事后公开: publish, remind, escalate, take down; every 10 minutes, catching up whatever was missed
    (publication.run_publication, "interval", {"minutes": 10}),
]


# Held while a job has its connection open. Under `bot.py serve` the clock lives in gunicorn's master,
# which forks the workers: a worker forked while the master had SQLite open inherits SQLite's
# per-process lock bookkeeping and then finds the database "locked" for good (seen in tests/live when
# the first heartbeat ran as the workers were forked). So the master forks only between jobs.
_between_jobs = threading.Lock()


def run_job(func, config):
    """Run one job with its own connection; a failing job is logged and the clock goes on."""
    try:
        with _between_jobs, connection():
            return func(config)
    except Exception:  # noqa: BLE001 — one bad run must not stop the other jobs
        log.exception("scheduled job %s failed", func.__name__)
        return None


def _fork_only_between_jobs():
    os.register_at_fork(before=_between_jobs.acquire, after_in_parent=_between_jobs.release,
                        after_in_child=_between_jobs.release)


def trigger_args_for(trigger_args, config):
    """A job's trigger arguments; a callable value is read from the configuration when the clock starts."""
    return {key: value(config) if callable(value) else value for key, value in trigger_args.items()}


def start_clock(config, blocking=False):
    """Start the schedule: in the background (gunicorn's master, `bot.py serve`), or, with `blocking`,
    in the foreground until the process is stopped (`bot.py clock`, its own systemd unit)."""
    open_configured(config, pooled=False)  # see open_configured: gunicorn forks the workers from here
    if not blocking:
        _fork_only_between_jobs()  # in a process that forks (gunicorn's master)
    kind = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = kind(timezone=config.get("timezone", "Asia/Shanghai"))
    for func, trigger, trigger_args in SCHEDULE:
        scheduler.add_job(run_job, trigger, args=[func, config], id=func.__name__,
                          coalesce=True, misfire_grace_time=3600, **trigger_args_for(trigger_args, config))
    log.info("clock started with %d jobs", len(SCHEDULE))
    scheduler.start()  # blocking: returns only when the scheduler is shut down
    return scheduler
