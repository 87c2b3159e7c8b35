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
import traceback
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from models import health
from models.database import connection, open_configured
from models.jobs import JobRun
from notices import annual_report, cases, complaints, delivery, ledger, outbox, publication, subscriptions

log = logging.getLogger(__name__)


def heartbeat(config):
    """The clock is alive: /healthz (models/health.py) reports a clock silent for too long."""
    return health.beat()


def prune_job_runs(config):
    """The clock's record of failed runs older than notices.job_runs_keep_days goes."""
    return JobRun.prune(dt.datetime.now(), config["notices"]["job_runs_keep_days"])


def daily_at(setting):
    """hour and minute of a "HH:MM" setting (its path of keys), read when the clock starts."""
    def value(config):
        for key in setting:
            config = config[key]
        return config

    return {"hour": lambda config: int(value(config).split(":")[0]),
            "minute": lambda config: int(value(config).split(":")[1])}


# What each job is called where staff read it (`bot.py jobs`).
JOB_NAMES = {
    "heartbeat": "心跳（健康检查用）", "drain_outbox": "发送消息（到期的通知、重试）",
    "remind_deadlines": "投诉期限提醒", "recompute_deadlines": "重算投诉期限（节假日安排更新后）",
    "remind_case_limits": "案件期限提醒", "publish_tree_head": "签发案卷树头",
    "prune_answered_messages": "清理过期的消息记录", "send_weekly_digest": "每周公示摘要（订阅用户）",
    "produce_annual_report": "生成上年度统计年报", "remind_annual_report": "统计年报报送提醒（1月）",
    "prune_job_runs": "清理过期的任务记录", "run_publication": "事后公开（按期公开、提醒、到期下线）",
    "notify_complainants": "告知投诉人：相关案件决定已公开",
}

# (job, trigger, trigger arguments); a callable argument is read from the configuration.
SCHEDULE = [
    # First beat at once, so /healthz is green as soon as the clock is up, not a minute later.
    (heartbeat, "interval", {"minutes": 1, "next_run_time": lambda config: dt.datetime.now(dt.timezone.utc)}),
    (outbox.drain_outbox, "interval", {"minutes": 1}),  # every message due (notices/outbox.py)
    (complaints.remind_deadlines, "cron", {"hour": 8, "minute": 30}),  # 临近/超期 reminders to staff
    (complaints.recompute_deadlines, "cron", {"hour": 2, "minute": 5}),  # once a year's schedule is entered
    (cases.remind_case_limits, "cron", {"hour": 8, "minute": 35}),  # 案件: 90 days, 保全, 查封扣押, 审核
    (ledger.publish_tree_head, "cron", daily_at(("ledger", "sign_daily_at"))),  # 全过程记录: signed tree head
    (delivery.prune_answered_messages, "cron", {"hour": 3, "minute": 17}),  # delivery records past retries
    (subscriptions.send_weekly_digest, "cron", {  # 订阅公示: the week's new disclosures to subscribers
        "day_of_week": lambda config: int(config["notices"]["subscriptions"]["digest_weekday"]) - 1,
        **daily_at(("notices", "subscriptions", "digest_at"))}),
    (annual_report.produce_annual_report, "cron", {  # 统计年报 of the past year, early in January
        "month": 1, "day": lambda config: int(config["notices"]["annual_report"]["run_on_day"]), "hour": 6, "minute": 0}),
    (annual_report.remind_annual_report, "cron", {"month": 1, "hour": 8, "minute": 40}),  # before 31 January
    (subscriptions.notify_complainants, "interval", {"minutes": 10}),  # 事后公开 of a complained-of case
    (prune_job_runs, "cron", {"hour": 3, "minute": 27}),
    # 事后公开: publish, remind, escalate, take down; every 10 minutes, catching up whatever was missed
    (publication.run_publication, "interval", {"minutes": 10}),
]


# Held while a job has its connection open. Under `bot.py serve` the clock lives in gunicorn's master,
# which forks the workers: a worker forked while the master had SQLite open inherits SQLite's
# per-process lock bookkeeping and then finds the database "locked" for good (seen in tests/live when
# the first heartbeat ran as the workers were forked). So the master forks only between jobs.
_between_jobs = threading.Lock()


def job_name(func):
    return func.__name__


def run_job(func, config):
    """Run one job with its own connection; a failing job is logged and the clock goes on. Each run is
    recorded (models/jobs.py) for `bot.py jobs`: a failure with its error; of the successes only the
    newest is kept, so an every-minute job does not write 1,440 rows a day."""
    try:
        with _between_jobs, connection():
            run = _record(lambda: JobRun.begin(job_name(func), dt.datetime.now()))
            try:
                result = func(config)
            except Exception:
                _record(lambda: run and run.finish(dt.datetime.now(), error=traceback.format_exc()))
                raise
            _record(lambda: run and (run.finish(dt.datetime.now(), result=_summary(result)), run.forget_older()))
            return result
    except Exception:  # noqa: BLE001 — one bad run must not stop the other jobs
        log.exception("scheduled job %s failed", job_name(func))
        return None


def _record(write):
    """Write the record of a run; if that fails (the database is the problem), the job still runs."""
    try:
        return write()
    except Exception:  # noqa: BLE001
        log.warning("could not record a job run", exc_info=True)
        return None


def _summary(result):
    if result is None or isinstance(result, (int, str, float, bool)):
        return result
    return type(result).__name__


def schedule_triggers(config):
    """(name, what it does in Chinese, APScheduler trigger) of every job, as start_clock builds them."""
    zone = ZoneInfo(config.get("timezone", "Asia/Shanghai"))
    for func, trigger, trigger_args in SCHEDULE:
        args = trigger_args_for(trigger_args, config)
        args.pop("next_run_time", None)
        built = IntervalTrigger(timezone=zone, **args) if trigger == "interval" else CronTrigger(timezone=zone, **args)
        yield job_name(func), JOB_NAMES.get(job_name(func), job_name(func)), built


def describe_schedule(config, now=None):
    """What the clock will do next and what it did last: [{job, what, next, last, failures}]."""
    zone = ZoneInfo(config.get("timezone", "Asia/Shanghai"))
    now = now or dt.datetime.now(zone)
    last_runs = JobRun.last_runs()
    rows = []
    for name, what, trigger in schedule_triggers(config):
        last = last_runs.get(name)
        previous = last.started_at.replace(tzinfo=zone) if last else None
        if isinstance(trigger, IntervalTrigger):
            upcoming = max(previous + trigger.interval, now) if previous else now + trigger.interval
        else:
            upcoming = trigger.get_next_fire_time(None, now)
        rows.append({"job": name, "what": what, "next": upcoming, "last": last,
                     "failures": JobRun.last_failures(name)})
    return rows


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
