"""签名树头的定时发布 — sign and publish a tree head of the case-file log, at least once a day.

`publish_tree_head` is a plain function: the scheduler calls it daily at ledger.sign_daily_at, staff
call it with `python bot.py ledger sign`, tests call it directly. Before signing it checks the log
against the heads already published, so a tampered log is reported instead of being signed.
"""
import logging

from apscheduler.triggers.cron import CronTrigger

from models import treehead
from models.base import db
from models.verify import verify_log

log = logging.getLogger(__name__)


class RefusedToSign(RuntimeError):
    """The log no longer matches what was published; a person must look before anything is signed."""


def publish_tree_head(config, at=None):
    """Verify the log against every published head, then sign and publish a new head. Returns it."""
    opened = db.is_closed()
    if opened:
        db.connect()
    try:
        public_key = treehead.load_private_key(config).public_key()
        report = verify_log(treehead.published_heads(config), public_key)
        if not report.ok:
            first = report.problems[0].message
            log.error("tree head NOT signed: the log fails verification: %s", first)
            raise RefusedToSign(first)
        head = treehead.sign_head(config, at=at)
    finally:
        if opened:
            db.close()
    log.info("signed tree head: size %s root %s", head.size, head.root)
    return head


def schedule(scheduler, config):
    """Register the daily job on an APScheduler scheduler (the caller starts it)."""
    hour, minute = (int(x) for x in config["ledger"]["sign_daily_at"].split(":"))
    scheduler.add_job(publish_tree_head, CronTrigger(hour=hour, minute=minute, timezone="Asia/Shanghai"),
                      args=[config], id="ledger-tree-head", replace_existing=True, misfire_grace_time=3600)
