"""签名树头的定时发布 — sign and publish a tree head of the case-file log, at least once a day.

`publish_tree_head` is a plain function: the clock (notices/clock.py) calls it daily at
ledger.sign_daily_at, staff call it with `python bot.py ledger sign`, tests call it directly. Before
signing it checks the log, so a tampered log is reported instead of being signed.

The check before signing is incremental (issue 19): the last signed head is held against the stored
subtree hashes of its right edge, and only the entries appended since are rehashed from their bytes;
the root signed is the one recomputed from them. Anything out of the ordinary (no head yet, entries
missing, a mismatch) runs the full `verify_log`, which names the problem. `python bot.py verify`
remains the full check of everything.
"""
import logging

from models import ledger, treehead
from models.audit import log_is_whole, verify_appended, verify_log
from models.database import connection

log = logging.getLogger(__name__)


class RefusedToSign(RuntimeError):
    """The log no longer matches what was published; a person must look before anything is signed."""


def publish_tree_head(config, at=None):
    """Check the log (incrementally since the last head when it can), then sign and publish a new head."""
    with connection():
        key = treehead.load_private_key(config)
        public_key = key.public_key()
        report = _check_since_last_head(public_key)
        if report is None or not report.ok:
            report = verify_log(treehead.published_heads(config), public_key)
            if report.ok and not _nodes_agree(report):
                report.problems.append(_nodes_problem())
        if not report.ok:
            first = report.problems[0].message
            log.error("tree head NOT signed: the log fails verification: %s", first)
            raise RefusedToSign(first)
        head = treehead.sign_root(config, key, report.entries, report.root, at)
    log.info("signed tree head: size %s root %s", head.size, head.root)
    return head


def _check_since_last_head(public_key):
    """The incremental check, or None when only the full one will do."""
    previous = treehead.TreeHead.latest()
    if previous is None or not log_is_whole():
        return None
    try:
        edge = ledger.tree(previous.size).right_edge()
    except LookupError:
        return None
    head = treehead.PublishedHead(previous.size, previous.root, previous.timestamp, previous.alg, previous.key_id,
                                  previous.signature, previous.origin, "数据库")
    if not head.signature_ok(public_key):
        return None
    report = verify_appended(previous.size, edge, previous.root, [head], public_key)
    if not report.ok:
        return None
    return report if _nodes_agree(report) else None


def _nodes_agree(report):
    """Proofs are served from the stored nodes: they must lead to the root about to be signed."""
    try:
        return ledger.tree(report.entries).root().hex() == report.root
    except LookupError:
        return False


def _nodes_problem():
    from models.audit import Problem

    return Problem(None, "记录本身完好，但保存的子树哈希（ledger_node）与记录不符：请运行 python bot.py verify 并联系管理员。")
