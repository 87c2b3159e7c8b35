"""Data of the three enforcement systems and the rules that guard it.

Every entry point — WeChat, the public pages, the command line — goes through these models, so the
rules kept here hold for all of them.
"""
from models.base import BaseModel, db, open_database
from models.disclosure import Bureau, EnforcementItem, FlowStep, InspectionItem, Officer
from models.conversation import InboundMessage
from models.badges import BadgeScan, OfficerStatusChange, WeChatBadgeQR, add_badge_columns
from models.complaints import COMPLAINT_MODELS
from models.ledger import LedgerEntry, install_append_only_triggers
from models.treehead import TreeHead
from models.cases import Case

ALL_MODELS = [Bureau, Officer, EnforcementItem, InspectionItem, FlowStep, InboundMessage]
ALL_MODELS += [OfficerStatusChange, BadgeScan, WeChatBadgeQR]  # 亮证 (models/badges.py)
ALL_MODELS += COMPLAINT_MODELS  # 投诉举报 (models/complaints.py)
ALL_MODELS += [LedgerEntry, Case, TreeHead]  # 全过程记录 (models/ledger.py, cases.py, treehead.py)


def create_tables():
    """Create every table that does not exist yet (safe to run on every start)."""
    with db.atomic():
        add_badge_columns()  # 亮证: officer columns added after a database was created
        InboundMessage.upgrade_table()  # delivery records gained openid and pages
        db.create_tables(ALL_MODELS, safe=True)
        InboundMessage.add_indexes()  # one user's deliveries: "下一页", the 48 h window
        install_append_only_triggers()  # the log tables refuse UPDATE/DELETE at the database


__all__ = [
    "ALL_MODELS", "BaseModel", "Bureau", "EnforcementItem", "FlowStep",
    "InboundMessage", "InspectionItem", "Officer", "create_tables", "db", "open_database",
]
