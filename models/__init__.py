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
from models.outbox import OUTBOX_MODELS
from models.jobs import JobRun
from models.subscriptions import Subscription
from models.announcements import ANNOUNCEMENT_MODELS
from models.ledger import LedgerEntry, LedgerNode
from models.treehead import Cosignature, TreeHead
from models.cases import Case, CaseCounter, CaseOpen
from models.health import ClockHeartbeat
from models.answers import Faq, Synonym, UnansweredQuestion
from models.draws import DRAW_MODELS
from models.publication import PUBLICATION_MODELS
from models.case_subscriptions import CASE_SUBSCRIPTION_MODELS

ALL_MODELS = [Bureau, Officer, EnforcementItem, InspectionItem, FlowStep, ListReview, InboundMessage, Staff]
ALL_MODELS += [OfficerStatusChange, BadgeScan, WeChatBadgeQR]  # 亮证 (models/badges.py)
ALL_MODELS += COMPLAINT_MODELS  # 投诉举报 (models/complaints.py)
ALL_MODELS += OUTBOX_MODELS  # every message sent through WeChat, and the log of sends (models/outbox.py)
ALL_MODELS += [LedgerEntry, Case, CaseOpen, CaseCounter, TreeHead, LedgerNode]  # 全过程记录 (models/ledger.py, cases.py, treehead.py)
ALL_MODELS += [Cosignature]  # the supervisor's cosignatures on checkpoints (models/treehead.py, issue 16)
ALL_MODELS += [ClockHeartbeat]  # operations: the clock's heartbeat for /healthz (models/health.py)
ALL_MODELS += [Faq, Synonym, UnansweredQuestion]  # 公众问答 (models/answers.py)
ALL_MODELS += DRAW_MODELS  # 双随机、一公开 (models/draws.py)
ALL_MODELS += [JobRun, Subscription] + ANNOUNCEMENT_MODELS  # the clock's record, 订阅公示, 公告
ALL_MODELS += PUBLICATION_MODELS  # 事后公开 (models/publication.py)
ALL_MODELS += CASE_SUBSCRIPTION_MODELS  # 案件查询码, 订阅案件 (models/case_subscriptions.py)

__all__ = [
    "ALL_MODELS", "BaseModel", "Bureau", "EnforcementItem", "FlowStep", "InboundMessage", "InspectionItem",
    "ListReview", "Officer", "Staff", "connection", "db", "is_sqlite", "open_database",
]
