"""工作人员 — who works in the bureau, in which role, and what each role may do.

One table of acts (`ACTS`) and one check (`authorize`) for every act of every area — complaints, case
entries, and what later areas add — whatever channel it comes from: a `#` command in WeChat, the
command line or a web page. A refusal says in Chinese which role the act needs.

Two rules hold for every act, before any role is asked:
- only active staff act (an officer without a staff account may still act on the command line, on
  what is their own: a case they handle — see `Staff.acting_as`);
- 回避: whoever a subject is about stays out of it (a complaint about an officer is never seen,
  handled or assigned to that officer), whatever their role.
"""
from dataclasses import dataclass

from peewee import BooleanField, CharField, DateField, ForeignKeyField

from models.database import BaseModel
from models.disclosure import Officer

CLERK, HANDLER, HEAD, REVIEWER = "受理员", "承办人", "负责人", "法制审核员"
ROLES = (CLERK, HANDLER, HEAD, REVIEWER)
# Not a role anyone is given: an officer acting under their own certificate with no staff account.
OFFICER_ONLY = "执法人员"


class NotAllowed(Exception):
    """The person may not do this act; the message is Chinese and says what role it needs."""


@dataclass(frozen=True)
class Act:
    """Something a member of staff may do: who may do it on anything, and who on what is theirs."""

    name: str  # as a refusal names it: 受理投诉
    roles: tuple  # roles that may do it on any subject
    own: object = None  # (staff, subject) -> bool: may also do it on a subject that is theirs
    own_label: str = ""  # who that is, for the refusal: 本案承办人员
    # True: `own` names who must stay OUT of the act (回避), not who may also do it — a case's legal
    # review is never recorded by one of its handlers (《行政处罚法》第五十八条, seed 法制审核制度).
    recuse_own: bool = False


def _assigned_to(staff, complaint):
    return staff.officer_id is not None and complaint.assignee_id == staff.officer_id


def _handles(staff, case):
    """A handler (承办人员) of `case` (a Case), or of the case about to be opened (a list of 执法证号)."""
    handlers = case if isinstance(case, (list, tuple)) else case.handlers()
    return staff.cert_no is not None and staff.cert_no in handlers


ACTS = {
    # 投诉举报 (models/complaints.py)
    "complaint.list": Act("查看待办投诉", (CLERK, HANDLER, HEAD)),
    "complaint.view": Act("查看投诉", (CLERK, HEAD), _assigned_to, "已转您办理的承办人"),
    "complaint.reveal": Act("查看投诉人联系方式", (CLERK, HEAD)),
    "complaint.accept": Act("受理投诉", (CLERK, HEAD)),
    "complaint.reject": Act("不予受理投诉", (CLERK, HEAD)),
    "complaint.assign": Act("转办投诉", (CLERK, HEAD)),
    "complaint.answer": Act("答复投诉", (HEAD,), _assigned_to, "已转您办理的承办人"),
    "complaint.close": Act("办结投诉", (CLERK, HEAD)),
    "complaint.visit": Act("记录回访", (CLERK, HEAD)),
    # 事前公开 (models/disclosure.py): entering the justice bureau's 合法性审核 of a published list
    "lists.review": Act("录入清单合法性审核", (HEAD,)),
    # 全过程记录 (models/cases.py): entries of a case are recorded by its handlers
    "case.list": Act("查看案件", ROLES),
    "case.open": Act("立案", (HEAD,), _handles, "本案承办人员"),
    "case.record": Act("记录案件环节", (HEAD,), _handles, "本案承办人员"),
    "case.review": Act("记录法制审核", (REVIEWER,), _handles, "本案承办人员", recuse_own=True),
    "case.discuss": Act("记录集体讨论", (HEAD,)),
    "case.recuse": Act("登记回避", (HEAD, REVIEWER), _handles, "本案承办人员"),
    "staff.qualify": Act("登记法律职业资格", (HEAD,)),
    "case.evidence": Act("登记音像记录", (HEAD,), _handles, "本案承办人员"),
    "case.correct": Act("更正案件记录", (HEAD,), _handles, "本案承办人员"),
    "case.documents": Act("生成执法文书", (HEAD,), _handles, "本案承办人员"),
    # 双随机、一公开 (models/draws.py): pools, plans and draws; an outcome by the drawn inspectors
    "draw.manage": Act("管理双随机抽查", (HEAD,)),
    "draw.outcome": Act("登记抽查结果", (HEAD,), _handles, "被派检查该对象的执法人员"),
    # 消息与公告 (models/outbox.py, models/announcements.py)
    "outbox.view": Act("查看发送失败的通知", (CLERK, HEAD)),
    "outbox.retry": Act("重发通知", (CLERK, HEAD)),
    "announcement.publish": Act("发布公告", (HEAD, CLERK)),
    "announcement.withdraw": Act("撤回公告", (HEAD,)),
    # 事后公开 (models/publication.py): the disclosure clerk (受理员) and the heads publish, correct the
    # masking, withhold and withdraw
    "publication.manage": Act("办理事后公开", (CLERK, HEAD)),
}


class Staff(BaseModel):
    """本局工作人员 — a person who acts for the bureau, in one role, maybe under an 执法证.

    `openid` links their WeChat (for `#` commands and pushes); it may be added later.
    """

    openid = CharField(unique=True, null=True, max_length=128)
    name = CharField()
    role = CharField()
    officer = ForeignKeyField(Officer, null=True, backref="staff_accounts", on_delete="SET NULL")
    active = BooleanField(default=True)
    # 法律职业资格证书编号 of a 法制审核员, and since when they review (《行政处罚法》第五十八条第二款).
    legal_qualification = CharField(null=True)
    reviewing_since = DateField(null=True)

    class Meta:
        table_name = "staff"

    # -- finding ----------------------------------------------------------------------------------
    @classmethod
    def by_openid(cls, openid):
        """The active member of staff behind a WeChat user, or None."""
        if not openid:
            return None
        return cls.get_or_none((cls.openid == openid) & (cls.active == True))  # noqa: E712

    @classmethod
    def find(cls, who):
        """The active member of staff with this openid or name, or None."""
        who = (who or "").strip()
        return cls.get_or_none(((cls.openid == who) | (cls.name == who)) & (cls.active == True))  # noqa: E712

    @classmethod
    def acting_as(cls, cert_no):
        """Who acts under 执法证 `cert_no`: their staff account, or, when they have none, the
        officer alone (role 执法人员: only what is their own). None for an unknown certificate."""
        officer = Officer.by_cert_no(cert_no)
        if officer is None:
            return None
        account = (cls.select().where((cls.officer == officer) & (cls.active == True))  # noqa: E712
                   .order_by(cls.id).first())
        return account or cls(name=officer.name, role=OFFICER_ONLY, officer=officer, active=True)

    @classmethod
    def add(cls, openid, name, role, officer=None):
        """Add, or update by openid, a member of staff; raises NotAllowed for an unknown role."""
        if role not in ROLES:
            raise NotAllowed(f"角色只能是：{'、'.join(ROLES)}")
        openid = (openid or "").strip() or None
        staff = (cls.get_or_none(cls.openid == openid) if openid else None) or cls(openid=openid)
        staff.name, staff.role, staff.officer, staff.active = name, role, officer, True
        staff.save()
        return staff

    @classmethod
    def receivers(cls, roles, exclude_officer_id=None):
        """Active staff in `roles` who can be messaged, never the officer a subject is about."""
        query = cls.select().where((cls.active == True) & cls.role.in_(roles) & cls.openid.is_null(False))  # noqa: E712
        return [s for s in query if exclude_officer_id is None or s.officer_id != exclude_officer_id]

    def qualify(self, qualification, since=None):
        """Register a 法制审核员's 法律职业资格 (certificate number) and since when they review."""
        qualification = (qualification or "").strip()
        if self.role != REVIEWER:
            raise NotAllowed(f"{self.name}不是法制审核员，无须登记法律职业资格。")
        if not qualification:
            raise NotAllowed("请写明法律职业资格证书编号。")
        self.legal_qualification = qualification
        self.reviewing_since = since or self.reviewing_since
        self.save()
        return self

    # -- what they may do -------------------------------------------------------------------------
    @property
    def label(self):
        return f"{self.role} {self.name}"

    @property
    def cert_no(self):
        return self.officer.cert_no if self.officer_id is not None else None

    def may(self, act, subject=None):
        try:
            authorize(self, act, subject)
        except NotAllowed:
            return False
        return True


def authorize(staff, act, subject=None):
    """Return if `staff` may do `act` (a key of ACTS) on `subject`; raise NotAllowed otherwise.

    A subject may name who must stay out of it (`recusal_of(staff)` returns the reason), which
    comes before any role: a 负责人 about whom a complaint is made may not handle it either.
    """
    rule = ACTS[act]
    if staff is None or not staff.active:
        raise NotAllowed(f"您不在工作人员名单上，不能{rule.name}。请管理员用 python bot.py staff add 登记。")
    recusal = getattr(subject, "recusal_of", None)
    reason = recusal(staff) if recusal is not None and subject is not None else None
    if reason:
        raise NotAllowed(reason)
    if rule.recuse_own:
        if subject is not None and rule.own(staff, subject):
            raise NotAllowed(f"您是{rule.own_label}，须回避，不能{rule.name}。")
        if staff.role in rule.roles:
            return
        raise NotAllowed(f"您没有{rule.name}的权限：需要{'或'.join(rule.roles)}角色（您是{staff.role}）。")
    if staff.role in rule.roles:
        return
    if rule.own is not None and subject is not None and rule.own(staff, subject):
        return
    needed = "或".join(rule.roles) + "角色" + (f"，或是{rule.own_label}" if rule.own else "")
    raise NotAllowed(f"您没有{rule.name}的权限：需要{needed}（您是{staff.role}）。")
