"""The `#` gate: staff commands in the chat, for people on the staff list only (models/staff.py).

Each area registers its commands on the router's staff sub-table (`@router.staff`); this is the one
place that finds who sent a `#…` message, hands it to the command and says a refusal. Anyone not
on the list gets the ordinary public answer (no hint that staff commands exist), and is logged.
"""
import logging

from handlers.wechat.router import normalize, router
from models.announcements import AnnouncementError
from models.cases import CaseError
from models.complaints import ComplaintError
from models.ledger import LedgerError
from models.staff import NotAllowed, Staff

log = logging.getLogger(__name__)
# Refusals of the rules: said back in Chinese; a refused command has written nothing.
REFUSALS = (NotAllowed, ComplaintError, CaseError, LedgerError, AnnouncementError)


@router.keyword("#")
def staff_command(ctx, arg=""):
    """`#名称 …` for openids on the staff list; anyone else gets the ordinary public answer."""
    staff = Staff.by_openid(ctx.openid)
    text = normalize(ctx.message.content)
    if staff is None:
        log.warning("staff command refused for non-staff openid %s: %s", ctx.openid, text[:40])
        return router.fallback(ctx, text) if router.fallback else None
    name, rest = (arg.split(None, 1) + ["", ""])[:2]
    command = router.staff_commands.get(name)
    if command is None:
        return staff_help()
    try:
        return command(ctx, staff, rest.strip())
    except REFUSALS as exc:
        return str(exc)


def _reads_only(arg=""):
    """Whether `#arg` reaches a command marked @read_only, such as #待办: answered without a transaction
    of its own, so a long list never holds SQLite's write lock while it is computed and never makes a
    resident's 查询 wait (issue 19). Anyone not on the staff list gets the public answer, which is
    read-only too. #帮助 keeps its transaction: its delivery row, written at once, is what opens a
    new member of staff's 48-hour window for notices (the read-only path writes it in a batch)."""
    command = router.staff_commands.get(arg.partition(" ")[0])
    return getattr(command, "read_only", False)


staff_command.read_only_for = _reads_only


def staff_help():
    """Every area's commands, as registered."""
    sections = [f"{section}：\n" + "\n".join(lines) for section, lines in router.staff_help.items()]
    return "工作人员指令：\n" + "\n\n".join(sections) + "\n#帮助　本说明"
