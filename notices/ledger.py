"""签名树头的定时发布 — sign and publish a tree head of the case-file log, at least once a day.

`publish_tree_head` is a plain function: the clock (notices/clock.py) calls it daily at
ledger.sign_daily_at, staff call it with `python bot.py ledger sign`, tests call it directly. Before
signing it checks the log against the heads already published, so a tampered log is reported
instead of being signed.
"""
import logging

from models import treehead
from models.audit import verify_log
from models.database import connection

log = logging.getLogger(__name__)


class RefusedToSign(RuntimeError):
    """The log no longer matches what was published; a person must look before anything is signed."""


def publish_tree_head(config, at=None):
    """Verify the log against every published head, then sign and publish a new head. Returns it."""
    with connection():
        public_key = treehead.load_private_key(config).public_key()
        report = verify_log(treehead.published_heads(config), public_key)
        if not report.ok:
            first = report.problems[0].message
            log.error("tree head NOT signed: the log fails verification: %s", first)
            raise RefusedToSign(first)
        head = treehead.sign_head(config, at=at)
    log.info("signed tree head: size %s root %s", head.size, head.root)
    return head
