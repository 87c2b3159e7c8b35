"""Housekeeping of the delivery record of WeChat messages (models/delivery.py)."""
import logging

from models.delivery import InboundMessage

log = logging.getLogger(__name__)


def prune_answered_messages(config):
    """Forget delivery records older than WeChat could retry them (kept a few days for audit)."""
    removed = InboundMessage.prune(config["wechat"]["dedup_keep_days"])
    log.info("pruned %d answered-message records", removed)
    return removed
