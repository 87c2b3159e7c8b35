"""Data of the three enforcement systems and the rules that guard it.

Every entry point — WeChat, the public pages, the command line, the clock — goes through these models,
so the rules kept here hold for all of them. The schema is built and changed only by the versioned
migrations in models/migrations/ (`python bot.py migrate`).
"""
from models.database import BaseModel, connection, db, is_sqlite, open_database
from models.disclosure import Bureau, EnforcementItem, FlowStep, InspectionItem, ListReview, Officer
from models.delivery import InboundMessage
from models.staff import Staff
from models.badges import BadgeScan, OfficerStatusChange, WeChatBadgeQR
from models.complaints import COMPLAINT_MODELS
from models.ledger import LedgerEntry, LedgerNode
from models.treehead import TreeHead
from models.cases import Case, CaseCounter, CaseOpen
from models.health import ClockHeartbeat
from models.answers import Faq, Synonym, UnansweredQuestion
from models.draws import DRAW_MODELS

ALL_MODELS = [Bureau, Officer, EnforcementItem, InspectionItem, FlowStep, ListReview, InboundMessage, Staff]
ALL_MODELS += [OfficerStatusChange, BadgeScan, WeChatBadgeQR]  # 亮证 (models/badges.py)
ALL_MODELS += COMPLAINT_MODELS  # 投诉举报 (models/complaints.py)
ALL_MODELS += [LedgerEntry, Case, CaseOpen, CaseCounter, TreeHead, LedgerNode]  # 全过程记录 (models/ledger.py, cases.py, treehead.py)
ALL_MODELS += [ClockHeartbeat]  # operations: the clock's heartbeat for /healthz (models/health.py)
ALL_MODELS += [Faq, Synonym, UnansweredQuestion]  # 公众问答 (models/answers.py)
ALL_MODELS += DRAW_MODELS  # 双随机、一公开 (models/draws.py)

__all__ = [
    "ALL_MODELS", "BaseModel", "Bureau", "EnforcementItem", "FlowStep", "InboundMessage", "InspectionItem",
    "ListReview", "Officer", "Staff", "connection", "db", "is_sqlite", "open_database",
]
