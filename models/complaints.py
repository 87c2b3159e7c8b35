"""投诉举报 — complaints, the bureau's handling of them, and the rules that guard both.

Every entry point (WeChat, the web form, Open311, the command line) files and handles complaints
through these classes, so the rules hold for all of them:

- the lifecycle 待受理 → 已受理 / 不予受理 → 办理中 → 已答复 → 办结 (→ 回访 satisfaction), with the
  deadlines of the rule set each kind of complaint follows (旅游投诉, 文化市场举报, 演出举报, 信访事项:
  config `complaints.rules`, each limit with its source);
- who may do what (受理员, 承办人, 负责人), and that a complaint about an officer is never seen,
  handled or assigned to that officer (回避);
- every staff action is an append-only ComplaintEvent (who, when, what);
- a daily limit per complainant; the complainant's identity is kept out of lists (masked);
- messages to citizens and staff are queued in an Outbox inside the same transaction, and sent
  only after it commits (notices/outbox.py), so a rollback never sends and a retry never sends twice.

Who may act is decided by models/staff.py, like every other act of the bureau; a complaint only says
who must stay out of it (`recusal_of`).
"""
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
from pathlib import Path

from peewee import (BooleanField, CharField, DateField, DateTimeField, FloatField, ForeignKeyField,
                    IntegerField, IntegrityError, TextField)

from models.database import BaseModel, db, write_transaction
from models.disclosure import Officer
from models.outbox import Outbox  # noqa: F401  (re-exported: the areas queue through models.complaints)
from models.staff import CLERK, HANDLER, HEAD, Staff, authorize
from models.workdays import Deadline, working_calendar

PENDING, ACCEPTED, REJECTED, IN_PROGRESS, ANSWERED, CLOSED = "待受理", "已受理", "不予受理", "办理中", "已答复", "办结"
STATUSES = (PENDING, ACCEPTED, REJECTED, IN_PROGRESS, ANSWERED, CLOSED)
OPEN_STATUSES = (PENDING, ACCEPTED, IN_PROGRESS, ANSWERED)

# action -> (statuses it may start from, status it leads to)
TRANSITIONS = {
    "accept": ((PENDING,), ACCEPTED),
    "reject": ((PENDING,), REJECTED),
    "assign": ((ACCEPTED, IN_PROGRESS), IN_PROGRESS),
    "answer": ((IN_PROGRESS,), ANSWERED),
    "close": ((ANSWERED,), CLOSED),
}
ACTION_NAMES = {"file": "提交", "accept": "受理", "reject": "不予受理", "assign": "转办", "answer": "答复",
                "close": "办结", "visit": "回访", "reveal": "查看联系方式", "recompute": "重算期限"}
CONTENT_MIN, CONTENT_MAX = 5, 2000
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class ComplaintError(Exception):
    """A rule said no; the message is Chinese and safe to show to the person who tried. `field` names the
    input at fault, where there is one (a form marks it)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


class DailyLimitReached(ComplaintError):
    pass


def complaint_settings(config):
    return config["complaints"]


def category_by(config, name_or_code):
    """The configured category whose name or code is `name_or_code`, or None."""
    wanted = (name_or_code or "").strip().lower()
    for category in complaint_settings(config)["categories"]:
        if wanted in (category["name"].lower(), category["code"].lower()):
            return category
    return None


def rules_of(config, category):
    """The rule set (config complaints.rules) a category — a configured category or its code — follows."""
    if isinstance(category, str):
        category = category_by(config, category) or {}
    code = category.get("rules", "petition")
    return {"code": code, **complaint_settings(config)["rules"][code]}


def due_date(config, rules, limit, start):
    """The deadline of `limit` ("accept" or "answer") of a rule set, counted from `start`: working days
    through the one calendar, else calendar days (the start day itself is not counted)."""
    rule = rules[limit]
    if rule.get("working"):
        return working_calendar(config).add_workdays(start, rule["days"])
    return Deadline(start + dt.timedelta(days=int(rule["days"])), provisional=False)


def reject_reasons(config, rules):
    return list(rules.get("reject_reasons") or []) + list(complaint_settings(config)["reject_reasons"])


def mask_contact(text):
    """张三 13812345678 -> 张* 138****5678: enough for staff to recognise, not to copy."""
    text = re.sub(r"\d{7,}", lambda m: m.group()[:3] + "*" * (len(m.group()) - 7) + m.group()[-4:], text or "")
    text = re.sub(r"[\w.+-]+@([\w-]+\.)+\w+", lambda m: m.group()[0] + "***@" + m.group().split("@")[1], text)
    return re.sub(r"[\u4e00-\u9fff]{2,4}", lambda m: m.group()[0] + "*" * (len(m.group()) - 1), text)


# How each next step is offered to staff, by action (Complaint.next_steps).
NEXT_STEP_PHRASES = {
    "view": "“#查看 {ticket}”看详情",
    "accept": "“#受理 {ticket}”受理",
    "reject": "“#不予受理 {ticket} 理由”不予受理",
    "assign": "“#转办 {ticket} 证号”转执法人员承办",
    "answer": "“#答复 {ticket} 内容”答复",
    "close": "“#办结 {ticket}”办结",
    "visit": "“#回访 {ticket} 满意”记录回访",
}


class Complaint(BaseModel):
    """投诉举报 — one complaint, from filing to 办结."""

    ticket = CharField(unique=True, max_length=32)
    source = CharField(default="wechat")  # wechat | web | open311 | cli
    category = CharField()
    category_code = CharField()
    officer = ForeignKeyField(Officer, null=True, backref="complaints", on_delete="SET NULL")
    content = TextField()
    location = CharField(default="", max_length=500)
    lat = FloatField(null=True)
    lng = FloatField(null=True)
    contact = CharField(default="", max_length=200)
    openid = CharField(null=True, index=True, max_length=128)
    submitter = CharField(index=True, max_length=200)
    secret_code = CharField(max_length=16)
    client_key = CharField(null=True, unique=True, max_length=100)
    status = CharField(default=PENDING, index=True)  # staff lists and reminders select the open ones
    status_reason = TextField(default="")
    assignee = ForeignKeyField(Officer, null=True, backref="assigned_complaints", on_delete="SET NULL")
    answer = TextField(default="")
    satisfaction = CharField(default="")
    created_at = DateTimeField(index=True)
    updated_at = DateTimeField()
    accepted_on = DateField(null=True)
    accept_due = DateField()
    accept_due_provisional = BooleanField(default=False)
    answer_due = DateField(null=True)
    answer_due_provisional = BooleanField(default=False)
    trip_ended_on = DateField(null=True)  # 旅游投诉: the day the trip (contract) ended
    # Open311 GeoReport v2 fields kept as given (issue 16, migration 0014): the caller's photo link, its
    # address-system id, and the token by which it can look the request up (GET tokens/<token>).
    media_url = CharField(null=True, max_length=2000)
    address_id = CharField(null=True, max_length=200)
    open311_token = CharField(null=True, unique=True, max_length=64)

    class Meta:
        # #待办 and the reminders read each status in its deadline's order (migration 0018), a handler's by
        # assignee too: the assignee index alone walked every complaint they were ever given (issue 19).
        indexes = ((("status", "accept_due", "created_at"), False), (("status", "answer_due", "created_at"), False),
                   (("status", "assignee", "answer_due", "created_at"), False))

    # -- filing ---------------------------------------------------------------------------------
    @classmethod
    def filed_today(cls, submitter, now):
        start = dt.datetime.combine(now.date(), dt.time.min)
        return cls.select().where((cls.submitter == submitter) & (cls.created_at >= start)).count()

    @classmethod
    def check_daily_limit(cls, config, submitter, now):
        limit = complaint_settings(config)["daily_limit"]
        if limit and cls.filed_today(submitter, now) >= limit:
            raise DailyLimitReached(
                f"您今天已提交{limit}件投诉，今天不能再通过网上提交了。急事请拨打"
                f"{complaint_settings(config)['call_instead']}，感谢您的理解。")

    def public_status_notes(self):
        """状态说明 for someone without an API key (Open311): the status, and a reason masked like a
        disclosure (models/masking.py) — a rejection reason may name the complainant or a third person."""
        from models.masking import mask

        if not self.status_reason:
            return self.status
        return f"{self.status}：{mask(self.status_reason).text}"

    @classmethod
    def file(cls, config, now, *, category, content, submitter, source="wechat", officer=None,
             location="", lat=None, lng=None, contact="", openid=None, client_key=None, evidence=(),
             check_limit=True, trip_ended_on=None, content_max=CONTENT_MAX, media_url=None, address_id=None,
             open311_token=None):
        """Validate and store a new complaint with its evidence; queue the notices to staff.

        `content_max` is the channel's limit (Open311 allows GeoReport v2's 4,000 characters)."""
        found = category_by(config, category)
        if found is None:
            raise ComplaintError("请选择投诉类别：" + "、".join(c["name"] for c in complaint_settings(config)["categories"]),
                                 field="category")
        content = (content or "").strip()
        if len(content) < CONTENT_MIN:
            raise ComplaintError(f"请把情况说清楚一些（至少{CONTENT_MIN}个字）：时间、地点、经过。", field="content")
        if len(content) > content_max:
            raise ComplaintError(f"内容太长了，请控制在{content_max}字以内。", field="content")
        rules = rules_of(config, found)
        if officer is not None and not found.get("officer"):
            officer = None
        if trip_ended_on is not None and trip_ended_on > now.date():
            raise ComplaintError("旅游行程结束日期不能晚于今天；行程还没结束的，可以不填。", field="trip_ended_on")
        with write_transaction():  # the daily count and the insert under one write lock (SQLite)
            if client_key:
                existing = cls.get_or_none(cls.client_key == client_key)
                if existing is not None:
                    return existing.resubmitted(submitter, content)
            if check_limit:
                cls.check_daily_limit(config, submitter, now)
            due = due_date(config, rules, "accept", now.date())
            complaint = cls._create_with_ticket(
                now, source=source, category=found["name"], category_code=found["code"], officer=officer,
                content=content, location=(location or "").strip()[:500], lat=lat, lng=lng,
                contact=(contact or "").strip()[:200], openid=openid, submitter=submitter,
                secret_code="".join(secrets.choice(CODE_ALPHABET) for _ in range(6)), client_key=client_key,
                created_at=now, updated_at=now, accept_due=due.due, accept_due_provisional=due.provisional,
                trip_ended_on=trip_ended_on if rules.get("filing_limit") else None, media_url=media_url,
                address_id=address_id, open311_token=open311_token)
            for item in evidence:
                item.complaint = complaint
                item.save()
            ComplaintEvent.record(complaint, now, "file", actor="投诉人", detail=f"来源：{source}")
            complaint._tell_staff(
                (CLERK, HEAD), "new",
                f"新投诉 {complaint.ticket}（{complaint.category}），请在{complaint.accept_due:%m月%d日}前受理："
                f"回复“#受理 {complaint.ticket}”或“#不予受理 {complaint.ticket} 理由”。")
        return complaint

    def resubmitted(self, submitter, content):
        """The same form sent again (a double tap, a reload): the complaint it made, but only to the one
        who sent it, with what they sent. A form token is no key to someone else's ticket and code."""
        if submitter != self.submitter or content != self.content:
            raise ComplaintError("这份表单已经提交过了。如需再投诉，请重新打开投诉页面填写。", field="content")
        return self

    @classmethod
    def _create_with_ticket(cls, now, **fields):
        for _ in range(20):
            ticket = f"TS{now:%y%m%d}{secrets.randbelow(10000):04d}"
            try:
                with db.atomic():
                    return cls.create(ticket=ticket, **fields)
            except IntegrityError:
                if cls.get_or_none(cls.ticket == ticket) is None:
                    raise
        raise ComplaintError("编号生成失败，请稍后再试。")

    @classmethod
    def by_ticket(cls, ticket):
        return cls.get_or_none(cls.ticket == (ticket or "").strip().upper())

    def code_matches(self, code):
        # As bytes: compare_digest refuses non-ASCII text, and a code may be anything a client sends.
        return hmac.compare_digest(self.secret_code.encode(), (code or "").strip().upper().encode())

    # -- handling -------------------------------------------------------------------------------
    def check_may(self, staff, action):
        """Raise models.staff.NotAllowed unless `staff` may do `action` (accept, view, …) on this complaint."""
        authorize(staff, f"complaint.{action}", self)

    def recusal_of(self, staff):
        """回避: the officer a complaint is about never sees or handles it, whatever their role."""
        if self.officer_id is not None and staff.officer_id == self.officer_id:
            return "该投诉涉及您本人，按规定您须回避，不能查看或办理。"
        return None

    def accept(self, staff, now, config):
        due = due_date(config, self.rules(config), "answer", now.date())
        self.accepted_on, self.answer_due, self.answer_due_provisional = now.date(), due.due, due.provisional
        return self._transition(staff, "accept", now, "",
                                f"您的投诉（编号{self.ticket}）已受理，我们将在{due.due:%Y年%m月%d日}前答复您。"
                                f"回复“查询 {self.ticket}”可查看进度。")

    def reject(self, staff, now, config, reason):
        reason = (reason or "").strip()
        if not reason:
            raise ComplaintError("请写明不予受理的理由，如：" + "、".join(reject_reasons(config, self.rules(config))))
        self.status_reason = reason
        return self._transition(staff, "reject", now, reason,
                                f"您的投诉（编号{self.ticket}）经审查不予受理，理由：{reason}。"
                                f"如有疑问请拨打{complaint_settings(config)['call_instead']}。")

    def assign(self, staff, now, config, officer):
        if officer is None:
            raise ComplaintError("没有找到该证号的执法人员，请核对后重试。")
        if self.officer_id is not None and officer.id == self.officer_id:
            raise ComplaintError("不能转给被投诉的执法人员本人办理，请另选承办人。")
        if officer.verdict(now.date()) != "有效":
            raise ComplaintError(f"{officer.name}的执法证状态为“{officer.verdict(now.date())}”，不能承办，请另选。")
        self.assignee = officer
        event = self._transition(staff, "assign", now, f"承办人：{officer.name}（{officer.cert_no}）",
                                 f"您的投诉（编号{self.ticket}）已转承办人员办理，办理结果将及时告知您。")
        due = f"，请在{self.answer_due:%m月%d日}前答复" if self.answer_due else ""
        for receiver in Staff.receivers((HANDLER, HEAD, CLERK), exclude_officer_id=self.officer_id):
            if receiver.officer_id == officer.id:
                steps = self.next_steps(receiver, ("view", "answer"))
                Outbox.enqueue(f"assign:{self.ticket}:{event.id}:{receiver.openid}", receiver.openid,
                               f"投诉 {self.ticket}（{self.category}）已转您办理{due}。"
                               + (f"回复{steps}。" if steps else "如需办理请联系受理员。"), now)
        return event

    def next_steps(self, staff, actions):
        """The `#` commands among `actions` that `staff` may use on this complaint, as one phrase
        (“#查看 …”看详情，“#答复 … 内容”答复): nobody is told of a step their role does not allow."""
        phrases = [NEXT_STEP_PHRASES[action].format(ticket=self.ticket) for action in actions
                   if staff.may(f"complaint.{action}", self)]
        return "，".join(phrases)

    def reply(self, staff, now, config, text):
        text = (text or "").strip()
        if len(text) < CONTENT_MIN:
            raise ComplaintError(f"答复内容太短，请写明调查结果和处理意见（至少{CONTENT_MIN}个字）。")
        self.answer = text[:CONTENT_MAX]
        return self._transition(staff, "answer", now, self.answer,
                                f"您的投诉（编号{self.ticket}）答复如下：\n{_clip(self.answer, 450)}\n"
                                f"回复“查询 {self.ticket}”可再次查看。")

    def close(self, staff, now, config):
        choices = "”“".join(complaint_settings(config)["satisfaction"])
        return self._transition(staff, "close", now, "",
                                f"您的投诉（编号{self.ticket}）已办结，感谢您的监督。欢迎评价："
                                f"回复“评价 {self.ticket} 满意”（可选“{choices}”）。")

    def rate(self, now, config, satisfaction, staff=None, note=""):
        """回访 — the complainant's satisfaction, given by them or recorded by staff after a call."""
        if satisfaction not in complaint_settings(config)["satisfaction"]:
            raise ComplaintError("评价请选择：" + "、".join(complaint_settings(config)["satisfaction"]))
        if self.status != CLOSED:
            raise ComplaintError("办结后才能评价。")
        if staff is not None:
            self.check_may(staff, "visit")
        elif self.satisfaction:
            # A complainant's 评价 counts once: a second one would silently replace the first.
            raise ComplaintError(f"您已评价过投诉 {self.ticket}（{self.satisfaction}），感谢您的反馈。")
        with db.atomic():
            self.satisfaction, self.updated_at = satisfaction, now
            self.save()
            return ComplaintEvent.record(self, now, "visit", actor=staff.label if staff else "投诉人",
                                         staff=staff, detail=f"{satisfaction} {note}".strip())

    def _transition(self, staff, action, now, detail, citizen_text):
        self.check_may(staff, action)
        sources, target = TRANSITIONS[action]
        if self.status not in sources:
            raise ComplaintError(f"投诉 {self.ticket} 当前状态为“{self.status}”，不能{ACTION_NAMES[action]}。")
        with db.atomic():
            self.status, self.updated_at = target, now
            self.save()
            event = ComplaintEvent.record(self, now, action, actor=staff.label, staff=staff, detail=detail)
            if self.openid:
                Outbox.enqueue(f"status:{self.ticket}:{event.id}", self.openid, citizen_text, now)
        return event

    def _tell_staff(self, roles, kind, text):
        for receiver in Staff.receivers(roles, exclude_officer_id=self.officer_id):
            Outbox.enqueue(f"{kind}:{self.ticket}:{receiver.openid}", receiver.openid, text, self.updated_at)

    # -- views ----------------------------------------------------------------------------------
    @classmethod
    def todo(cls, staff, limit=None):
        """What `staff` has to act on, soonest deadline first (those without one last, then the oldest);
        never complaints about themselves. Read status by status, each in its deadline's order straight
        from an index (status, deadline, created_at), so `limit` reads at most that many rows of each
        whatever the number open, and nothing is sorted but what is returned (issue 19)."""
        rows = []
        for status, query in cls._todo_queries(staff):
            due = cls.due_column(status)
            ordered = query.order_by(*((due,) if due is not None else ()), cls.created_at, cls.id)
            rows.extend(ordered.limit(limit) if limit else ordered)
        rows.sort(key=lambda c: (c.current_due() is None, c.current_due() or dt.date.min, c.created_at, c.id))
        return rows[:limit] if limit else rows

    @classmethod
    def due_column(cls, status):
        """The column holding the deadline that matters in `status` (current_due), or None."""
        return {PENDING: cls.accept_due, ACCEPTED: cls.answer_due, IN_PROGRESS: cls.answer_due}.get(status)

    @classmethod
    def deadline_in(cls, staff, start, end):
        """(how many, the soonest) of what `staff` has to act on (Complaint.todo) whose deadline that matters
        now is on or after `start` (None: any) and before `end`: counted by the database on each status's
        deadline index, whatever the number open."""
        count, soonest = 0, None
        for status, query in cls._todo_queries(staff):
            due = cls.due_column(status)
            if due is None:
                continue
            query = query.where((due < end) if start is None else ((due >= start) & (due < end)))
            count += query.count()
            first = query.order_by(due, cls.created_at, cls.id).first()
            if first is not None and (soonest is None or first.current_due() < soonest.current_due()):
                soonest = first
        return count, soonest

    @classmethod
    def todo_count(cls, staff):
        """How many complaints `staff` has to act on (Complaint.todo without a limit, counted)."""
        return sum(query.count() for _, query in cls._todo_queries(staff))

    @classmethod
    def _todo_queries(cls, staff):
        """[(status, query)]: what `staff` has to act on, one query per status."""
        authorize(staff, "complaint.list")
        if staff.role == HANDLER:
            parts = [(IN_PROGRESS, cls.select().where((cls.status == IN_PROGRESS) & (cls.assignee == staff.officer_id)))]
        else:
            statuses = OPEN_STATUSES if staff.role == HEAD else (PENDING, ACCEPTED, ANSWERED)
            parts = [(status, cls.select().where(cls.status == status)) for status in statuses]
        if staff.officer_id is not None:
            mine = cls.officer.is_null() | (cls.officer != staff.officer_id)
            parts = [(status, query.where(mine)) for status, query in parts]
        return parts

    def current_due(self):
        """The deadline that matters now: acceptance while 待受理, the answer while being handled."""
        if self.status == PENDING:
            return self.accept_due
        if self.status in (ACCEPTED, IN_PROGRESS):
            return self.answer_due
        return None

    def workdays_left(self, config, today):
        """Working days from `today` to the deadline that matters now (negative once it has passed),
        or None when none runs. #待办 and the reminders both count with this."""
        due = self.current_due()
        return None if due is None else working_calendar(config).workdays_between(today, due)[0]

    def responsible_staff(self, staff=None):
        """Who must act next: clerks and heads before assignment, the handler and heads after.

        `staff`: every messageable staff member (Staff.receivers of all roles), fetched once by a caller
        going through many complaints; else looked up here."""
        if staff is None:
            staff = Staff.receivers((CLERK, HANDLER, HEAD))
        staff = [s for s in staff if self.officer_id is None or s.officer_id != self.officer_id]
        if self.status == IN_PROGRESS:
            return [s for s in staff
                    if s.role == HEAD or (s.role == HANDLER and self.assignee_id and s.officer_id == self.assignee_id)]
        return [s for s in staff if s.role in (CLERK, HEAD)]

    def filed_late(self, config):
        """The filing limit this complaint missed, as words for staff (e.g. 旅游投诉 past 90 days), or ""."""
        limit = self.rules(config).get("filing_limit")
        if not limit or self.trip_ended_on is None:
            return ""
        days = (self.created_at.date() - self.trip_ended_on).days
        if days <= limit["days"]:
            return ""
        return f"行程结束{days}日后提出，超过{limit['days']}日（{limit['source']}），可不予受理"

    def due_basis(self, config):
        """Where the deadline that matters now comes from: the rule set and its source."""
        rules = self.rules(config)
        limit = "accept" if self.status == PENDING else "answer"
        return f"{rules['name']}，{rules[limit]['source']}"

    def due_is_provisional(self):
        return self.accept_due_provisional if self.status == PENDING else self.answer_due_provisional

    def masked_contact(self):
        return mask_contact(self.contact) if self.contact else "匿名"

    def officer_label(self):
        return f"{self.officer.name}（{self.officer.cert_no}）" if self.officer_id else ""

    def events(self):
        return list(self.event_log.order_by(ComplaintEvent.at, ComplaintEvent.id))

    def rules(self, config):
        """The rule set this complaint follows (by its category, as configured now)."""
        return rules_of(config, self.category_code)

    def deadlines(self, config):
        """(accept, answer or None) as the rules and the calendar say now."""
        rules = self.rules(config)
        accept = due_date(config, rules, "accept", self.created_at.date())
        answer = due_date(config, rules, "answer", self.accepted_on) if self.accepted_on else None
        return accept, answer

    @classmethod
    def recompute_deadlines(cls, config, now):
        """Bring every open complaint's deadlines to the rules and calendar in force — after a year's
        holiday schedule is entered, or a rule set changed — recording each change in its history.
        Returns how many changed."""
        changed = 0
        for complaint in cls.select().where(cls.status.in_(OPEN_STATUSES)):
            accept, answer = complaint.deadlines(config)
            before = (complaint.accept_due, complaint.accept_due_provisional, complaint.answer_due,
                      complaint.answer_due_provisional)
            after = (accept.due, accept.provisional, answer.due if answer else complaint.answer_due,
                     answer.provisional if answer else complaint.answer_due_provisional)
            if before == after:
                continue
            complaint.accept_due, complaint.accept_due_provisional, complaint.answer_due, \
                complaint.answer_due_provisional = after
            rules = complaint.rules(config)
            with db.atomic():
                complaint.save()
                ComplaintEvent.record(
                    complaint, now, "recompute", actor="系统",
                    detail=f"按{rules['name']}办理规则重算：受理期限{before[0]}→{after[0]}，"
                           f"答复期限{before[2] or '-'}→{after[2] or '-'}（{rules['accept']['source']}；"
                           f"{rules['answer']['source']}）")
            changed += 1
        return changed


def _clip(text, limit):
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ComplaintEvent(BaseModel):
    """办理记录 — one step taken on a complaint: who, when, what. Written once, never changed."""

    complaint = ForeignKeyField(Complaint, backref="event_log", on_delete="CASCADE")
    at = DateTimeField()
    action = CharField()
    actor = CharField()
    staff = ForeignKeyField(Staff, null=True, on_delete="SET NULL")
    detail = TextField(default="")

    class Meta:
        table_name = "complaint_event"

    @classmethod
    def record(cls, complaint, at, action, actor, staff=None, detail=""):
        return cls.create(complaint=complaint, at=at, action=action, actor=actor, staff=staff, detail=detail)

    def save(self, *args, **kwargs):
        if self.id is not None:
            raise ComplaintError("办理记录不能修改。")
        return super().save(*args, **kwargs)

    @property
    def action_name(self):
        return ACTION_NAMES.get(self.action, self.action)


def evidence_root(config):
    path = Path(complaint_settings(config)["evidence_dir"])
    if not path.is_absolute():
        path = Path(__file__).resolve().parent.parent / path
    return path


class Evidence(BaseModel):
    """证据 — a photo, voice or video a complainant sent, stored once by its SHA-256.

    While a chat dialogue is going on the row has an `owner` and no complaint; filing attaches it.
    """

    complaint = ForeignKeyField(Complaint, null=True, backref="evidence", on_delete="CASCADE")
    owner = CharField(default="", index=True, max_length=200)
    kind = CharField()  # image | voice | video | file
    sha256 = CharField(max_length=64, index=True)
    size = IntegerField()
    content_type = CharField(default="application/octet-stream")
    media_id = CharField(default="", max_length=200)
    created_at = DateTimeField()

    @classmethod
    def store(cls, config, content, *, kind, owner, now, content_type="", media_id=""):
        """Write `content` to the content-addressed store (once per hash) and record it."""
        limit = complaint_settings(config)["max_evidence_bytes"]
        if len(content) > limit:
            raise ComplaintError(f"文件太大（超过{limit // 1048576}MB），请压缩后再发。", field="evidence")
        digest = hashlib.sha256(content).hexdigest()
        target = evidence_root(config) / digest[:2] / digest
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{digest}.{secrets.token_hex(4)}")
            temporary.write_bytes(content)
            os.replace(temporary, target)
        return cls.create(kind=kind, owner=owner, sha256=digest, size=len(content), created_at=now,
                          content_type=content_type or "application/octet-stream", media_id=media_id)

    @classmethod
    def pending(cls, owner):
        return list(cls.select().where((cls.owner == owner) & cls.complaint.is_null()).order_by(cls.id))

    @classmethod
    def discard_pending(cls, owner):
        return cls.delete().where((cls.owner == owner) & cls.complaint.is_null()).execute()

    def path(self, config):
        return evidence_root(config) / self.sha256[:2] / self.sha256


class ComplaintDraft(BaseModel):
    """The chat dialogue in progress for one user: which step, what was said so far.

    Kept in the database so it survives restarts and is shared by every worker.
    """

    openid = CharField(primary_key=True, max_length=128)
    step = CharField()
    data = TextField(default="{}")
    started_at = DateTimeField()
    updated_at = DateTimeField()

    class Meta:
        table_name = "complaint_draft"

    @property
    def values(self):
        return json.loads(self.data)

    def is_idle(self, now, idle_minutes):
        return now - self.updated_at > dt.timedelta(minutes=idle_minutes)

    @classmethod
    def open_for(cls, openid):
        """The user's dialogue in progress, or None."""
        return cls.get_or_none(cls.openid == openid)

    @classmethod
    def begin(cls, openid, step, values, now):
        Evidence.discard_pending(f"wx:{openid}")
        cls.delete().where(cls.openid == openid).execute()
        return cls.create(openid=openid, step=step, data=json.dumps(values, ensure_ascii=False),
                          started_at=now, updated_at=now)

    def advance(self, step, values, now):
        self.step, self.data, self.updated_at = step, json.dumps(values, ensure_ascii=False), now
        self.save()

    def touch(self, now):
        self.updated_at = now
        self.save()

    def discard(self):
        Evidence.discard_pending(f"wx:{self.openid}")
        self.delete_instance()


COMPLAINT_MODELS = [Complaint, ComplaintEvent, Evidence, ComplaintDraft]
