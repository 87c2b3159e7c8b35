"""The clock: scheduled jobs, each a plain function of the configuration that tests call directly.

Modules add their jobs with `@job(trigger=..., **trigger_args)`; `start_clock` runs them all in
one process only (gunicorn's master, see notices/gunicorn_hooks.py), never once per worker.
"""
import logging

from apscheduler.schedulers.background import BackgroundScheduler

from models import InboundMessage, db, open_database
from settings import resolve_database_url

log = logging.getLogger(__name__)
JOBS = []


def job(trigger, **trigger_args):
    def register(func):
        JOBS.append((func, trigger, trigger_args))
        return func
    return register


@job("cron", hour=3, minute=17)
def prune_answered_messages(config):
    """Forget delivery records older than WeChat could retry them (kept a few days for audit)."""
    removed = InboundMessage.prune(config["wechat"]["dedup_keep_days"])
    log.info("pruned %d answered-message records", removed)
    return removed


def run_job(func, config):
    """Run one job with its own connection; a failing job is logged and the clock goes on."""
    try:
        with db.connection_context():
            return func(config)
    except Exception:  # noqa: BLE001 — one bad run must not stop the other jobs
        log.exception("scheduled job %s failed", func.__name__)
        return None


def trigger_args_for(trigger_args, config):
    """A job's trigger arguments; a callable value is read from the configuration when the clock starts."""
    return {key: value(config) if callable(value) else value for key, value in trigger_args.items()}


def start_clock(config):
    open_database(resolve_database_url(config["database"]["url"]))
    scheduler = BackgroundScheduler(timezone=config.get("timezone", "Asia/Shanghai"))
    for func, trigger, trigger_args in JOBS:
        scheduler.add_job(run_job, trigger, args=[func, config], id=func.__name__,
                          coalesce=True, misfire_grace_time=3600, **trigger_args_for(trigger_args, config))
    scheduler.start()
    log.info("clock started with %d jobs", len(JOBS))
    return scheduler


# Modules whose jobs the clock runs: each registers with @job when imported.
import notices.complaint_jobs  # noqa: E402,F401  (投诉举报: pushes, deadline reminders)
import notices.ledger_heads  # noqa: E402,F401  (全过程记录: the daily signed tree head)
