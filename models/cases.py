"""案件 and the steps of its case file, with the rules that guard their order.

Every step is an entry of the append-only log (models/ledger.py). Nothing here updates or deletes: a
correction (更正) is a new entry naming the one it corrects, and the case file shows both. The rules sit
here so that the command line, WeChat staff commands and the web all obey them:

- the order of steps (no 决定 before 告知, no 结案 before 送达 …);
- at least two certified officers handle a case and act on site (行政处罚法 第四十二条、第五十五条);
- the steps on the 《音像记录事项清单》 carry their audio/video, or a written reason why not;
- whoever records an entry holds a certificate valid that day, and is a handler of the case or has a
  role that may record on any case (models/staff.py: 负责人; only a 法制审核员 outside the case for 审核);
- 重大执法决定法制审核 (models/review.py): no decision on a major case without a passed review;
- procedure limits: no date in the future, no decision inside the 陈述申辩/听证 period, 90 days from
  立案 unless extended, a party's timely 听证申请 holds the decision until the hearing is held as notified,
  hearing notice 7 working days ahead and a host who did not investigate,
  当场处罚 only within 第五十一条; `deadlines` lists the running limits for `#待办` and reminders.
"""
import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from peewee import SQL, BooleanField, CharField, DateField, IntegerField, TextField, fn

from models import ledger, review
from models.database import BaseModel, db
from models.disclosure import EnforcementItem, Officer
from models.evidence import EvidenceStore, media_kind
from models.staff import NotAllowed, Staff, authorize
from models.workdays import working_calendar

INVESTIGATION = ("现场检查", "随机抽查", "调查取证", "证据保全", "行政强制")
REVIEW_STEPS = ("拟决定", "提请审核", "审核", "审核异议", "集体讨论")
STEPS = ("立案",) + INVESTIGATION + ("责令改正", "保全处理", "回避", "延期") + REVIEW_STEPS + (
    "告知", "陈述申辩", "听证申请", "听证通知", "听证", "决定", "不予处罚", "当场处罚", "送达", "执行", "结案", "撤案")
DECISIONS = ("决定", "不予处罚", "当场处罚")
ENDINGS = ("结案", "撤案")
ONCE = ("立案", "决定", "不予处罚", "当场处罚", "结案", "撤案")
# Dates that record what already happened: none may lie after the day it is recorded.
PAST_DATES = {"decided_on": "决定日期", "served_on": "送达日期", "executed_on": "执行日期", "closed_on": "结案日期",
              "held_on": "举行日期", "notified_on": "通知日期", "requested_on": "申请日期", "received_on": "收到日期"}
PARTY_KINDS = ("自然人", "法人或其他组织")

# Structured fields per step: (key, label). Every one is required; extra keys are kept as recorded.
FIELDS = {
    "立案": [("item_code", "执法事项编码"), ("source", "案件来源"), ("facts", "案情摘要"), ("approver", "审批负责人")],
    "现场检查": [("place", "检查地点"), ("started", "开始时间"), ("ended", "结束时间"), ("findings", "检查情况"),
             ("officers", "执法人员")],
    "随机抽查": [("place", "抽查地点"), ("inspection_item", "抽查事项"), ("findings", "抽查结果"), ("officers", "执法人员")],
    "调查取证": [("method", "取证方式"), ("content", "取证内容"), ("officers", "执法人员")],
    "证据保全": [("measure", "保全措施"), ("items", "保全物品"), ("officers", "执法人员")],
    "行政强制": [("measure", "强制措施"), ("items", "涉及财物"), ("place", "实施地点"), ("officers", "执法人员")],
    "责令改正": [("order_no", "通知书编号"), ("content", "责令改正内容"), ("deadline", "改正期限")],
    "陈述申辩": [("received_on", "收到日期"), ("content", "陈述申辩内容"), ("review", "复核意见"), ("adopted", "是否采纳")],
    "保全处理": [("measure_seq", "保全记录号"), ("result", "处理决定"), ("decided_on", "决定日期")],
    "回避": [("officer", "回避人员执法证号"), ("reason", "回避理由"), ("approver", "批准负责人")],
    "延期": [("extend_days", "延长天数"), ("reason", "延期理由"), ("approver", "批准负责人")],
    "拟决定": [("report", "调查终结报告"), ("penalty", "拟处罚内容"), ("level", "裁量档次"), ("reasoning", "裁量理由")],
    "提请审核": [("materials", "送审材料")],
    "审核": [("result", "审核结论"), ("points", "审核事项"), ("opinion", "审核意见")],
    "审核异议": [("reasons", "异议理由")],
    "集体讨论": [("held_on", "举行日期"), ("host", "主持人"), ("participants", "参加人员"), ("opinions", "讨论意见"),
             ("conclusion", "讨论结论")],
    "告知": [("notice_no", "告知书文号"), ("facts", "违法事实"), ("basis", "处罚依据"), ("proposed", "拟作出的处罚"),
           ("served_on", "告知书送达日期")],
    "听证申请": [("requested_on", "申请日期"), ("method", "申请方式")],
    # 听证通知 is recorded when it is sent, with the hearing still ahead: its date is `scheduled_on`, not a
    # PAST_DATES key; 听证 records the hearing once held.
    "听证通知": [("notice_no", "通知书文号"), ("notified_on", "通知日期"), ("scheduled_on", "听证日期"),
             ("place", "听证地点"), ("host", "主持人")],
    "听证": [("held_on", "举行日期"), ("host", "主持人"), ("summary", "听证情况")],
    "决定": [("decision_no", "决定书文号"), ("facts", "违法事实"), ("evidence", "证据"), ("basis", "处罚依据"),
           ("penalty", "处罚内容"), ("fine_yuan", "罚款金额（元）"), ("statement", "陈述申辩及采纳情况"),
           ("decided_on", "决定日期")],
    "当场处罚": [("decision_no", "决定书编号"), ("facts", "违法行为"), ("basis", "处罚依据"), ("penalty", "处罚种类"),
             ("fine_yuan", "罚款金额（元）"), ("place", "地点"), ("decided_on", "决定日期")],
    "不予处罚": [("decision_no", "决定书文号"), ("reason", "不予处罚理由"), ("basis", "依据"), ("decided_on", "决定日期")],
    "送达": [("document", "送达文书"), ("method", "送达方式"), ("recipient", "受送达人"), ("served_on", "送达日期"),
           ("officers", "送达人")],
    "执行": [("method", "执行方式"), ("result", "执行情况"), ("executed_on", "执行日期")],
    "结案": [("summary", "结案情况"), ("approver", "审批负责人"), ("closed_on", "结案日期")],
    "撤案": [("reason", "撤案理由"), ("approver", "审批负责人")],
}
ON_SITE = ("现场检查", "随机抽查", "调查取证", "证据保全", "行政强制", "送达")


class CaseError(ValueError):
    """A step that may not be recorded; the message is Chinese, names what is wrong and what to do."""


class Case(BaseModel):
    """案件 — an index row written once with the 立案 entry; everything else is in the log."""

    number = CharField(unique=True)
    item_code = CharField()
    party_kind = CharField()
    party_name = CharField()
    opened_seq = IntegerField()
    opened_on = CharField()

    class Meta:
        table_name = "enforcement_case"

    def file(self):
        return CaseFile(self)

    @classmethod
    def still_open(cls):
        """The cases not yet ended (结案/撤案), oldest first, read through the small case_open table (one
        row per case still running, removed in the transaction that ends it), so the cost is that of the
        open cases whatever the number closed over the years (issue 19). The probe for an ending entry
        (ledger_entry.case_no index) stays as a safety net: an ending appended to the log by other means
        still ends the case here, as the case file says."""
        entry = ledger.LedgerEntry
        ended = entry.select(SQL("1")).where((entry.case_no == cls.number) & (entry.kind == "step")
                                             & entry.step.in_(ENDINGS))
        # `IN (SELECT … case_open)` rather than a join: SQLite then walks case_open and looks each case up by
        # its number, where a join let it scan every case ever opened and probe the log for each.
        return (cls.select().where(cls.number.in_(CaseOpen.select(CaseOpen.number)) & ~fn.EXISTS(ended))
                .order_by(cls.opened_seq))

    @classmethod
    def open_with_status(cls, batch=500):
        """[(case, status)] of the cases not yet ended, oldest first, in a few statements: the steps of
        the open ones read together."""
        return [(file.case, file.status()) for file in cls.open_files(batch=batch)]

    @classmethod
    def open_files(cls, wanted=None, batch=500):
        """The CaseFile of every case not yet ended (of those `wanted(case)` accepts, judged on the case and
        its 立案 entry), oldest first: the openings, then the chosen cases' entries, read together — a
        statement per `batch` cases, not one per case."""
        entry = ledger.LedgerEntry
        open_cases = list(cls.still_open())
        openings = {}
        seqs = [case.opened_seq for case in open_cases]
        for start in range(0, len(seqs), batch):
            openings.update((e.seq, e) for e in entry.select().where(entry.seq.in_(seqs[start:start + batch])))
        for case in open_cases:
            case._opening = openings.get(case.opened_seq)
        chosen = [case for case in open_cases if wanted is None or wanted(case)]
        entries = {case.number: [] for case in chosen}
        numbers = list(entries)
        for start in range(0, len(numbers), batch):
            for e in entry.select().where(entry.case_no.in_(numbers[start:start + batch])).order_by(entry.seq):
                entries[e.case_no].append(e)
        return [CaseFile(case, entries[case.number]) for case in chosen]

    def opening(self):
        """The 立案 entry (read once per Case object)."""
        if not hasattr(self, "_opening"):
            self._opening = ledger.LedgerEntry.by_seq(self.opened_seq)
        return self._opening

    def handlers(self):
        """The 承办人员 named when the case was opened (their 执法证号), from the log itself."""
        opening = self.opening()
        return list(opening.content["data"].get("handlers", [])) if opening else []

    @property
    def party(self):
        """当事人 as the 立案 entry records it — what staff and documents are shown. The index columns
        (party_name, party_kind) are lookup copies that `verify` holds against the log (issue 16)."""
        opening = self.opening()
        try:
            party = opening.content["data"].get("party") if opening else None
        except (TypeError, ValueError, KeyError, AttributeError):
            party = None
        return party if isinstance(party, dict) else {"name": self.party_name, "kind": self.party_kind}

    @property
    def recorded_party_name(self):
        return str(self.party.get("name", ""))

    @property
    def recorded_party_kind(self):
        return str(self.party.get("kind", ""))

    @classmethod
    def by_number(cls, number):
        return cls.get_or_none(cls.number == (number or "").strip())

    @property
    def is_demo(self):
        """示例: a demonstration case (models/case_seed.py), shown as such wherever cases are listed."""
        opening = self.opening()
        return bool(opening and opening.content["data"].get("demo"))

    def recusal_of(self, staff):
        """回避: someone whose recusal is on record acts on nothing of this case (models/staff.py)."""
        cert = getattr(staff, "cert_no", None)
        if cert is None:
            return None
        for entry in ledger.entries(self.number):
            content = entry.content
            if content["kind"] == "step" and content["step"] == "回避" and content["data"].get("officer") == cert:
                return f"您已在本案登记回避（第{entry.seq}条），不能再办理本案。"
        return None


class CaseOpen(BaseModel):
    """One row per case still running: written with its 立案, deleted in the transaction that records
    its 结案 or 撤案. Derived from the log (migration 0016 builds it from there), it is what keeps #待办,
    #案件 and the reminders to the open cases (issue 19); enforcement_case itself is append-only.

    `limits_as_of` / `limits_rules`: the case's last entry and the rules (`limits_rules`) its CaseLimit
    rows were computed at; rows computed at anything else are not used (see `running_limits`)."""

    number = CharField(primary_key=True)
    limits_as_of = IntegerField(null=True)
    limits_rules = CharField(null=True, max_length=64)

    class Meta:
        table_name = "case_open"


class CaseLimit(BaseModel):
    """A limit running on an open case (`deadlines`), kept beside the log so #待办 and the reminders read
    the soonest ones by index, not every open case's file (issue 19). Rewritten in the transaction of
    every entry the case gets (`_keep_limits`); never trusted when the case's file or the rules moved on
    without it — such a case is computed from its file on read, as before. `handlers`: the 立案 entry's
    执法证号, space-delimited, to find an officer's limits."""

    case_no = CharField(index=True)
    name = CharField()
    due = DateField(index=True)
    source = CharField()
    seq = IntegerField()
    provisional = BooleanField(default=False)
    handlers = TextField(default="")

    class Meta:
        table_name = "case_limit"


class CaseCounter(BaseModel):
    """The last case number given in a year, raised in the transaction that opens the next case (under
    the log's write lock), so numbering reads one row instead of counting the year's cases; a rolled
    back 立案 rolls the counter back with it, and the numbers stay gap-free within each year."""

    year = IntegerField(primary_key=True)
    last = IntegerField()

    class Meta:
        table_name = "case_counter"


def check_officer(cert_no, on, role="记录人"):
    """The officer, if their certificate may be used on date `on`; otherwise CaseError."""
    officer = Officer.by_cert_no(cert_no)
    if officer is None:
        raise CaseError(f"{role}执法证号“{cert_no}”不存在，请核对。")
    verdict = officer.verdict(on)
    if verdict != "有效":
        raise CaseError(f"{role}{officer.name}（{cert_no}）的执法证{verdict}，不能从事执法活动。")
    return officer


def check_actor(act, by, on, subject, actor=None):
    """Who records: their certificate valid on `on`, and allowed `act` on `subject` (models/staff.py).

    `actor` is the member of staff acting (a `#` command knows it); otherwise whoever acts under `by`.
    """
    check_officer(by, on)
    actor = actor or Staff.acting_as(by)
    try:
        authorize(actor, act, subject)
    except NotAllowed as exc:
        raise CaseError(str(exc)) from None
    return actor


STEP_ACTS = {"审核": "case.review", "集体讨论": "case.discuss", "回避": "case.recuse"}


def step_act(step):
    """The act recording `step` is: legal review, collective discussion and recusal have their own."""
    return STEP_ACTS.get(step, "case.record")


def check_officers(certs, on, minimum, role):
    certs = [str(c) for c in (certs or [])]
    if len(set(certs)) < minimum:
        raise CaseError(f"{role}不得少于{minimum}人（行政处罚法第四十二条），现有{len(set(certs))}人。")
    for cert in certs:
        check_officer(cert, on, role)
    return certs


def missing_fields(step, data):
    return [label for key, label in FIELDS[step] if data.get(key) in (None, "", [])]


# -- the case file ----------------------------------------------------------------------------------

class CaseFile:
    """A case's entries as recorded, with corrections laid beside what they correct."""

    def __init__(self, case, entries=None):
        self.case = case
        self.entries = ledger.entries(case.number) if entries is None else entries
        self.contents = {e.seq: e.content for e in self.entries}
        self.corrections = {}
        for seq, content in self.contents.items():
            if content["kind"] == "correction":
                self.corrections.setdefault(content["corrects"], []).append(content)
        # The party, the item and the opening date as the 立案 entry records them: rules and documents read
        # these, never the index row, which an edit behind the triggers could change (issue 16).
        opening = self.contents.get(case.opened_seq) or {}
        self.opening_data = opening.get("data") or {}
        self.party = self.opening_data.get("party") or {}
        self.party_kind = str(self.party.get("kind", ""))
        self.party_name = str(self.party.get("name", ""))
        self.item_code = str(self.opening_data.get("item_code", ""))
        self.opened_on = str(opening.get("at", ""))[:10]

    def effective(self, seq):
        """An entry's data with every correction applied in order."""
        data = dict(self.contents[seq]["data"])
        for correction in self.corrections.get(seq, []):
            data.update(correction["data"]["changes"])
        return data

    def steps(self):
        """(seq, step, effective data) of the step entries, in order."""
        return [(seq, c["step"], self.effective(seq)) for seq, c in self.contents.items() if c["kind"] == "step"]

    def done(self):
        return [step for _, step, _ in self.steps()]

    def last(self, step):
        found = [(seq, data) for seq, s, data in self.steps() if s == step]
        return found[-1] if found else (None, None)

    def evidence(self):
        return [(seq, c["data"]) for seq, c in self.contents.items() if c["kind"] == "evidence"]

    def status(self):
        return status_of(self.done())

    def allowed_next(self, config):
        """Steps the order rules would accept next (the AV and field rules still apply)."""
        result = []
        for step in STEPS:
            try:
                check_order(config, self, step, {}, probe=True)
                result.append(step)
            except CaseError:
                pass
        return result


def status_of(done):
    """A case's status from the steps recorded (in order): the furthest ending or stage reached."""
    for ending in ("撤案", "结案", "执行", "送达", "当场处罚", "不予处罚", "决定", "听证", "听证通知", "听证申请", "告知", "集体讨论", "审核异议",
                   "审核", "提请审核", "拟决定"):
        if ending in done:
            return ending
    return "调查取证" if any(s in done for s in INVESTIGATION) else "立案"


def check_order(config, file, step, data, probe=False):
    """Refuse a step that the case file's history does not allow yet (or any more)."""
    done = file.done()
    if step not in FIELDS:
        raise CaseError(f"未知的执法环节“{step}”。可记录的环节：{'、'.join(STEPS)}。")
    if step == "立案":
        raise CaseError("该案件已立案，不能重复立案。")
    for ending in ENDINGS:
        if ending in done:
            raise CaseError(f"该案件已{ending}，不能再记录新的环节；如记录有误，请登记更正。")
    if step in ONCE and step in done:
        raise CaseError(f"该案件已有“{step}”记录，不能重复；如记录有误，请登记更正。")
    decided = [d for d in DECISIONS if d in done]
    if step in INVESTIGATION + REVIEW_STEPS + ("告知", "听证申请", "听证通知", "听证", "撤案", "延期") + DECISIONS and decided:
        raise CaseError(f"该案件已作出{decided[0]}，不能再记录“{step}”。")
    # The review's steps follow models/review.py WORKFLOW, the table the published flowchart is drawn from.
    needs = {name: ((lambda after=spec["after"]: any(s in done for s in after)), spec["refusal"])
             for name, spec in review.WORKFLOW.items()}
    needs.update({
        "保全处理": (lambda: "证据保全" in done or "行政强制" in done, "尚无证据保全或查封、扣押记录。"),
        "告知": (lambda: "拟决定" in done, "告知前须有拟决定（拟处理意见）：告知的是拟作出的处罚。"),
        "听证申请": (lambda: "告知" in done, "听证申请须在事先告知之后（当事人收到告知书后提出）。"),
        "听证通知": (lambda: "听证申请" in done, "发出听证通知前须登记当事人的听证申请（《行政处罚法》第六十四条第（一）项）。"),
        "听证": (lambda: "听证通知" in done, "举行听证前须登记听证通知（《行政处罚法》第六十四条第（二）项：举行听证的七日前通知当事人）。"),
        "陈述申辩": (lambda: "告知" in done, "陈述申辩须在事先告知之后。"),
        "不予处罚": (lambda: "拟决定" in done, "作出不予处罚决定前须有拟决定（拟处理意见）。"),
        "当场处罚": (lambda: not any(s in done for s in REVIEW_STEPS + ("告知",)),
                 "已按普通程序办理的案件不能当场处罚。"),
        "送达": (lambda: bool(decided), "送达前须先作出决定。"),
        "执行": (lambda: "决定" in done and "送达" in done, "执行前须有处罚决定并已送达。"),
        "结案": (lambda: "送达" in done and ("执行" in done or "决定" not in done),
               "结案前须已送达决定书；作出处罚决定的，还须有执行记录。"),
    })
    if step in needs and not needs[step][0]():
        raise CaseError(needs[step][1])
    if step == "决定" and not probe:
        _check_statement_period(config, file, data)


def _check_statement_period(config, file, data):
    """陈述、申辩和听证申请期: no decision within N working days of serving the notice, unless the party
    waived it in writing or a hearing was held (行政处罚法 第六十四条; 第八十五条 makes these days working days);
    and none while a hearing the party asked for in time has not been held."""
    days = config["cases"]["statement_period_working_days"]
    _, notice = file.last("告知")
    _check_hearing_held(file, data)
    if data.get("party_waived") or "听证" in file.done():
        return
    served = _date(notice.get("served_on"), "告知书送达日期")
    decided = _date(data.get("decided_on"), "决定日期")
    # The period's last day still belongs to the party: a decision may come on the day after it.
    if working_calendar(config).workdays_between(served, decided)[0] <= days:
        first = working_calendar(config).add_workdays(served, days + 1).due
        raise CaseError(f"告知书于{served}送达，当事人有{days}个工作日陈述、申辩或申请听证，{first}起方可作出决定"
                        f"（当事人书面放弃的，请在决定中注明 当事人放弃=是）。")


def check_step(config, file, step, data, actor, at):
    """The rules particular to `step`: dates, the legal review (models/review.py), procedure limits."""
    on = at.date()
    for key, label in PAST_DATES.items():
        if data.get(key) not in (None, ""):
            day = _date(data[key], label)
            if day > on:
                raise CaseError(f"{label}{day}晚于记录当天（{on}）：不能预先记录尚未发生的事，请在当天或之后记录。")
    try:
        if step == "拟决定":
            review.check_proposal(config, file, data)
        elif step == "提请审核":
            review.check_submission(config, file, data)
            data["due_on"] = working_calendar(config).add_workdays(on, config["review"]["working_days"]).due.isoformat()
        elif step == "审核":
            review.check_review(config, file, data, actor, on)
        elif step == "审核异议":
            review.check_dissent(file, data)
        elif step == "集体讨论":
            review.check_discussion(config, file, data)
        elif step in ("决定", "不予处罚"):
            review.check_gate(config, file, step, data)
    except review.ReviewError as exc:
        raise CaseError(str(exc)) from None
    if step == "告知":
        data["hearing_right"] = hearing_right(config, file)
    if step == "延期":
        _check_extension(config, file, data, on)
    checks = {"决定": _check_decision_limits, "听证申请": _check_hearing_request, "听证通知": _check_hearing_notice,
              "听证": _check_hearing, "当场处罚": _check_on_the_spot, "保全处理": _check_disposal}
    if step in checks:
        checks[step](config, file, data)


def hearing_right(config, file):
    """Whether the 告知书 must tell the party of the right to a hearing (《行政处罚法》第六十三条)."""
    _, proposal = review.last(file, "拟决定")
    if proposal is None:
        return False
    rule = config["cases"]["hearing_right"]
    amount = review._yuan(proposal.get("fine_yuan")) + review._yuan(proposal.get("confiscation_yuan"))
    return amount >= rule["amount_yuan"][file.party_kind] or any(w in str(proposal.get("penalty", ""))
                                                                       for w in rule["words"])


def limits(config):
    return config["cases"]["limits"]


def decision_due(config, file):
    """第六十条: 90 days from 立案, plus each approved 延期 recorded before the limit it extends."""
    due = dt.date.fromisoformat(file.opened_on) + dt.timedelta(days=limits(config)["decision_days"])
    return _extended(file, due, None)


def seizure_due(config, file, seq):
    """《行政强制法》第二十五条: 30 days from the 查封、扣押 entry, plus its approved extensions."""
    on = dt.date.fromisoformat(file.contents[seq]["at"][:10])
    return _extended(file, on + dt.timedelta(days=limits(config)["seizure_days"]), seq)


def _extended(file, due, measure_seq):
    """`due` moved by each 延期 for `measure_seq` (None: the 90-day limit) recorded on or before the limit."""
    for seq, step, data in file.steps():
        if step == "延期" and data.get("measure_seq") == measure_seq \
                and dt.date.fromisoformat(file.contents[seq]["at"][:10]) <= due:
            due += dt.timedelta(days=int(data["extend_days"]))
    return due


def is_seizure(config, step, data):
    return step in ("行政强制", "证据保全") and any(m in str(data.get("measure", "")) for m in limits(config)["seizure_measures"])


def _party(file):
    return file.party


def _check_decision_limits(config, file, data):
    decided = _date(data.get("decided_on"), "决定日期")
    due = decision_due(config, file)
    reason = str(data.get("overdue_reason") or "").strip()
    if decided > due and len(reason) < config["cases"]["av_exception_min_chars"]:
        raise CaseError(f"已超过立案之日起{limits(config)['decision_days']}日的办案期限（{due}，《行政处罚法》第六十条），且没有"
                        "期限届满前批准的延期。确需作出决定的，请写明超期理由（超期理由=…），该案将列入超期报告。")
    # 第四十四条、第四十五条: the party was told of a penalty and heard on it; a heavier one needs a new notice,
    # and 陈述、申辩 may never make it heavier.
    n_seq, _ = file.last("告知")
    notified = [d for seq, s, d in file.steps() if s == "拟决定" and seq < n_seq]
    if notified and review._yuan(data.get("fine_yuan")) > review._yuan(notified[-1].get("fine_yuan")):
        raise CaseError(f"决定的罚款（{review._yuan(data.get('fine_yuan'))}元）重于告知当事人的拟处罚"
                        f"（{review._yuan(notified[-1].get('fine_yuan'))}元）：须重新告知并听取陈述、申辩"
                        "（《行政处罚法》第四十四条、第四十五条，不得因陈述、申辩而加重处罚）。")
    if not (_party(file).get("address") or str(data.get("party_address") or "").strip()):
        raise CaseError("决定书须载明当事人的地址（《行政处罚法》第五十九条第一款第（一）项），请补写 当事人地址=…。")


def pending_hearing(file):
    """(seq, data) of a hearing request made in time that no hearing has answered yet, or (None, None)."""
    r_seq, request = file.last("听证申请")
    if request is None or request.get("late") or request.get("withdrawn"):
        return None, None
    h_seq, _ = file.last("听证")
    return (None, None) if h_seq is not None and h_seq > r_seq else (r_seq, request)


def _check_hearing_held(file, data):
    """第六十三条、第六十四条: a party who asked for a hearing in time is heard before the decision; a decision
    dated before the hearing is refused too."""
    r_seq, request = pending_hearing(file)
    if request is not None and not data.get("hearing_withdrawn"):
        raise CaseError(f"当事人已于{request['requested_on']}申请听证（第{r_seq}条），须先举行听证（通知当事人、非本案调查人员"
                        "主持、制作听证笔录），听证结束后才能作出决定（《行政处罚法》第六十四条、第六十五条）。"
                        "当事人撤回申请的，请在决定中注明 撤回听证申请=是。")
    _, hearing = file.last("听证")
    if hearing and _date(data.get("decided_on"), "决定日期") < _date(hearing["held_on"], "举行日期"):
        raise CaseError(f"决定日期早于听证举行日期（{hearing['held_on']}）：听证结束后才能作出决定（《行政处罚法》第六十五条）。")


def _check_hearing_request(config, file, data):
    """听证申请 (第六十三条、第六十四条第（一）项): only where the notice gave the right; within N working days of
    the notice, otherwise recorded as late (the bureau need not hold it, and the decision is not held)."""
    n_seq, notice = file.last("告知")
    if not notice.get("hearing_right"):
        raise CaseError("本案拟作出的处罚不属于《行政处罚法》第六十三条规定的听证范围（告知书未告知听证权利），"
                        "当事人的意见请按陈述申辩记录。")
    served, requested = _date(notice["served_on"], "告知书送达日期"), _date(data["requested_on"], "申请日期")
    if requested < served:
        raise CaseError(f"申请日期{requested}早于告知书送达日期{served}，请核对。")
    days = config["cases"]["statement_period_working_days"]
    if working_calendar(config).workdays_between(served, requested)[0] > days:
        data["late"] = True
    data["notice_seq"] = n_seq


def _check_hearing_notice(config, file, data):
    """第六十四条第（二）项、第（四）项: the notice reaches the party N working days before the hearing, which a
    host who did not investigate the case chairs; a hearing moved to another day needs a new notice."""
    r_seq, request = file.last("听证申请")
    data["request_seq"], data["requested_on"] = r_seq, request["requested_on"]
    notified, scheduled = _date(data["notified_on"], "通知日期"), _date(data["scheduled_on"], "听证日期")
    if notified < _date(request["requested_on"], "申请日期"):
        raise CaseError(f"通知日期{notified}早于当事人申请听证的日期{request['requested_on']}，请核对。")
    days = limits(config)["hearing_notice_working_days"]
    if working_calendar(config).workdays_between(notified, scheduled)[0] < days:
        raise CaseError(f"听证通知须在举行听证的{days}个工作日前送达当事人（《行政处罚法》第六十四条第（二）项），"
                        f"{notified}通知、{scheduled}举行不足{days}个工作日。")
    _check_host(file, data["host"])


def _check_hearing(config, file, data):
    """听证 as held: on the day and with the host the notice gave (a new day or host needs a new notice)."""
    n_seq, notice = file.last("听证通知")
    held = _date(data["held_on"], "举行日期")
    if held != _date(notice["scheduled_on"], "听证日期"):
        raise CaseError(f"听证通知（第{n_seq}条）定于{notice['scheduled_on']}举行；改期的，须重新通知当事人"
                        f"（再记录一次听证通知，至少提前{limits(config)['hearing_notice_working_days']}个工作日）。")
    if str(data["host"]).strip() != str(notice["host"]).strip():
        raise CaseError(f"听证通知写明的主持人是{notice['host']}；更换主持人的，请先记录新的听证通知。")
    _check_host(file, data["host"])
    data.update(notice_seq=n_seq, notified_on=notice["notified_on"], request_seq=notice.get("request_seq"),
                requested_on=notice.get("requested_on"))


def _check_host(file, host):
    """第六十四条第（四）项: 听证由行政机关指定的非本案调查人员主持."""
    investigators = set(file.case.handlers())
    for _, step, step_data in file.steps():
        if step in INVESTIGATION:
            investigators |= set(step_data.get("officers") or [])
    host = str(host).strip()
    names = {o.name for o in Officer.select().where(Officer.cert_no.in_(list(investigators)))}
    if host in investigators or any(name and name in host for name in names):
        raise CaseError("听证主持人须由非本案调查人员担任（《行政处罚法》第六十四条第（四）项），请另行指定主持人。")


def _check_on_the_spot(config, file, data):
    """第五十一条: 警告 or a fine up to the cap for the party's kind; anything else goes the ordinary way."""
    cap = limits(config)["on_the_spot_max_fine_yuan"][file.party_kind]
    fine = review._yuan(data.get("fine_yuan")) if str(data.get("fine_yuan")).lstrip("-").isdigit() else -1
    if fine < 0:
        raise CaseError("罚款金额请写整数（元），没有罚款写 0。")
    if fine > cap:
        raise CaseError(f"当场处罚对{file.party_kind}的罚款不得超过{cap}元（《行政处罚法》第五十一条），"
                        f"{fine}元须按普通程序办理。")
    kinds = limits(config)["on_the_spot_kinds"]
    parts = [p for p in str(data["penalty"]).replace("，", "、").replace(",", "、").replace("并处", "、").split("、")
             if p.strip()]
    if not parts or any(not any(k in p for k in kinds) for p in parts):
        raise CaseError(f"当场处罚只能是{'或'.join(kinds)}（《行政处罚法》第五十一条），其他处罚须按普通程序办理。")
    data["fine_yuan"] = fine


def _check_extension(config, file, data, on):
    """延期 of the 90-day limit, or (with measure_seq) of a 查封、扣押 (≤30 days in all): before the limit passes."""
    try:
        days = int(data["extend_days"])
    except (TypeError, ValueError):
        raise CaseError("延长天数请写整数，如 延长天数=30。") from None
    if days <= 0:
        raise CaseError("延长天数须大于0。")
    data["extend_days"] = days
    if data.get("measure_seq") in (None, ""):
        data.pop("measure_seq", None)
        due, what = decision_due(config, file), f"立案之日起{limits(config)['decision_days']}日的办案期限"
    else:
        seq = review._yuan(data["measure_seq"])
        target = file.contents.get(seq)
        if not target or target["kind"] != "step" or not is_seizure(config, target["step"], target["data"]):
            raise CaseError(f"第{data['measure_seq']}条不是本案的查封、扣押记录；先行登记保存不能延期（《行政处罚法》第五十六条）。")
        if any(d.get("measure_seq") == seq for _, s, d in file.steps() if s == "保全处理"):
            raise CaseError(f"第{seq}条查封、扣押已作出处理决定，不能再延期。")
        data["measure_seq"] = seq
        used = sum(int(d["extend_days"]) for _, s, d in file.steps() if s == "延期" and d.get("measure_seq") == seq)
        most = limits(config)["seizure_extension_max_days"]
        if used + days > most:
            raise CaseError(f"查封、扣押的延长期限合计不得超过{most}日（《行政强制法》第二十五条第一款），已延长{used}日。")
        due, what = seizure_due(config, file, seq), f"第{seq}条查封、扣押的期限"
    if on > due:
        raise CaseError(f"{what}已于{due}届满，届满后不能再延期；请写明超期理由并尽快作出处理。")
    data["previous_due"] = due.isoformat()


def _check_disposal(config, file, data):
    """保全处理 names the 先行登记保存 or 查封、扣押 it ends; a late one is marked, not refused."""
    target = file.contents.get(review._yuan(data["measure_seq"]))
    if not target or target["kind"] != "step" or target["step"] not in ("证据保全", "行政强制"):
        raise CaseError(f"第{data['measure_seq']}条不是本案的证据保全或查封、扣押记录。")
    data["measure_seq"] = int(data["measure_seq"])
    limit = next((d for d in deadlines(config, file) if d.seq == data["measure_seq"]), None)
    if limit is not None and _date(data["decided_on"], "决定日期") > limit.due:
        data["overdue"] = True


@dataclass(frozen=True)
class Limit:
    """A running time limit of a case: what, by when, under which rule, the entry it runs from."""

    name: str
    due: dt.date
    source: str
    seq: int
    provisional: bool = False


def deadlines(config, file):
    """The limits still running on a case (nothing once it has ended): `#待办` and reminders show them."""
    done = file.done()
    if any(s in done for s in ENDINGS):
        return []
    lim, calendar, result = limits(config), working_calendar(config), []
    if not any(d in done for d in DECISIONS):
        result.append(Limit("作出处罚决定", decision_due(config, file), "《行政处罚法》第六十条", file.case.opened_seq))
    disposed = {data.get("measure_seq") for _, step, data in file.steps() if step == "保全处理"}
    for seq, step, data in file.steps():
        on = dt.date.fromisoformat(file.contents[seq]["at"][:10])
        if seq in disposed:
            continue
        if step == "证据保全" and "先行登记保存" in str(data.get("measure", "")):
            due = calendar.add_workdays(on, lim["preservation_working_days"])
            result.append(Limit(f"对先行登记保存的证据作出处理决定（第{seq}条）", due.due, "《行政处罚法》第五十六条", seq,
                                due.provisional))
        elif is_seizure(config, step, data):
            result.append(Limit(f"查封、扣押期限届满前作出处理决定（第{seq}条）", seizure_due(config, file, seq),
                                "《行政强制法》第二十五条", seq))
    d_seq, decision = file.last("决定")
    if decision is not None and "送达" not in done:
        due = calendar.add_workdays(_date(decision["decided_on"], "决定日期"), lim["service_working_days"])
        result.append(Limit("送达行政处罚决定书", due.due, "《行政处罚法》第六十一条", d_seq, due.provisional))
    r_seq, request = pending_hearing(file)
    if request is not None and not any(d in done for d in DECISIONS):
        # No statute fixes when the hearing is held; it must fit before the decision limit, with its notice
        # served the configured working days ahead (第六十四条第（二）项).
        n_seq, notice = file.last("听证通知")
        if n_seq is not None and n_seq > r_seq:
            result.append(Limit(f"当事人申请听证（第{r_seq}条）：按通知举行听证", _date(notice["scheduled_on"], "听证日期"),
                                "《行政处罚法》第六十四条", n_seq))
        else:
            notice_by = calendar.add_workdays(decision_due(config, file), -lim["hearing_notice_working_days"])
            result.append(Limit(f"当事人申请听证（第{r_seq}条）：发出听证通知", notice_by.due,
                                "《行政处罚法》第六十四条", r_seq, notice_by.provisional))
    s_seq, submission = review.last(file, "提请审核")
    if submission is not None and review.last(file, "审核", after=s_seq)[0] is None and submission.get("due_on"):
        result.append(Limit("法制审核", dt.date.fromisoformat(submission["due_on"]), "本局法制审核时限", s_seq))
    return sorted(result, key=lambda d: d.due)


def todo(config, staff, today, first=None):
    """((case, limit, working days left) of the running limits `staff` answers for, soonest first — the
    `first` of them when given — and how many there are): a head sees every case, a reviewer the
    reviews and the cases they handle, an officer the cases they handle."""
    from models.staff import HEAD, REVIEWER

    if staff.role != HEAD and not staff.cert_no and staff.role != REVIEWER:
        return [], 0
    return running_limits(config, today, every=staff.role == HEAD, cert_no=staff.cert_no,
                          reviews=staff.role == REVIEWER, first=first)


REVIEW_LIMIT = "法制审核"


def running_limits(config, today, *, every=True, cert_no=None, reviews=False, due_before=None, first=None):
    """((case, limit, working days left — negative once passed), total) of the limits running on open
    cases, soonest first: all of them (`every`), or those of the cases `cert_no` handles plus, with
    `reviews`, every review's own limit; only those due before `due_before` when given; the `first`
    of them when given, `total` counting them all.

    Read from case_limit by its due-date index, so the cost is that of what is returned (issue 19);
    a case whose stored limits are not those of its file now (an entry since, other rules or another
    calendar) is computed from its file instead — the same answer, never a stale one."""
    calendar, rules = working_calendar(config), limits_rules(config)
    stale = set(_stale_cases(rules))
    query = CaseLimit.select().where(CaseLimit.case_no.in_(CaseOpen.select(CaseOpen.number)))
    if stale:
        query = query.where(CaseLimit.case_no.not_in(sorted(stale)))
    if not every:
        wanted = CaseLimit.handlers.contains(f" {cert_no} ") if cert_no else None
        if reviews:
            wanted = (CaseLimit.name == REVIEW_LIMIT) if wanted is None else (wanted | (CaseLimit.name == REVIEW_LIMIT))
        if wanted is None:
            return [], 0
        query = query.where(wanted)
    if due_before is not None:
        query = query.where(CaseLimit.due < due_before)
    total = query.count()
    query = query.order_by(CaseLimit.due, CaseLimit.seq)
    stored = list(query.limit(first) if first else query)
    cases = _cases_with_openings({row.case_no for row in stored})
    rows = [(cases[row.case_no], Limit(row.name, row.due, row.source, row.seq, row.provisional)) for row in stored
            if row.case_no in cases]
    if stale:
        for file in Case.open_files(lambda case: case.number in stale):
            for limit in deadlines(config, file):
                mine = every or (cert_no and cert_no in file.case.handlers()) or (reviews and limit.name == REVIEW_LIMIT)
                if mine and (due_before is None or limit.due < due_before):
                    rows.append((file.case, limit))
                    total += 1
    rows.sort(key=lambda row: (row[1].due, row[1].seq))
    if first:
        rows = rows[:first]
    return [(case, limit, calendar.workdays_between(today, limit.due)[0]) for case, limit in rows], total


def limits_rules(config):
    """A digest of what a case's limits depend on besides its file: the procedure rules and the
    working-day calendar (the schedules entered, chinese_calendar's own version). Stored limits computed
    under another digest are not used, and `refresh_limits` computes them again."""
    import chinese_calendar

    basis = json.dumps([config["cases"], config.get("workdays") or {}, chinese_calendar.__version__],
                       sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


def _stale_cases(rules):
    """The open cases whose stored limits were computed at another entry or under other rules."""
    entry = ledger.LedgerEntry
    last = entry.select(fn.MAX(entry.seq)).where(entry.case_no == CaseOpen.number)
    return [number for (number,) in CaseOpen.select(CaseOpen.number).where(
        CaseOpen.limits_as_of.is_null() | CaseOpen.limits_rules.is_null() | (CaseOpen.limits_rules != rules)
        | (CaseOpen.limits_as_of != last)).tuples()]


def _cases_with_openings(numbers, batch=500):
    """{number: Case} with each case's 立案 entry read in the same few statements (case.handlers() and
    the party then cost nothing more)."""
    numbers, found = sorted(numbers), {}
    for start in range(0, len(numbers), batch):
        found.update((case.number, case) for case in Case.select().where(Case.number.in_(numbers[start:start + batch])))
    seqs = [case.opened_seq for case in found.values()]
    openings = {}
    for start in range(0, len(seqs), batch):
        # Only what the party and the handlers are read from (LedgerEntry.content): its bytes.
        entry = ledger.LedgerEntry
        openings.update((e.seq, e) for e in entry.select(entry.seq, entry.body).where(entry.seq.in_(seqs[start:start + batch])))
    for case in found.values():
        case._opening = openings.get(case.opened_seq)
    return found


def _keep_limits(config, file):
    """Store the limits running on `file`'s case as its file now stands; called in the transaction that
    appended its last entry (a case no longer open keeps none)."""
    number = file.case.number
    CaseLimit.delete().where(CaseLimit.case_no == number).execute()
    if not CaseOpen.select().where(CaseOpen.number == number).exists():
        return
    handlers = " " + " ".join(str(h) for h in file.opening_data.get("handlers", [])) + " "
    rows = [{"case_no": number, "name": limit.name, "due": limit.due, "source": limit.source, "seq": limit.seq,
             "provisional": bool(limit.provisional), "handlers": handlers} for limit in deadlines(config, file)]
    if rows:
        CaseLimit.insert_many(rows).execute()
    CaseOpen.update(limits_as_of=max(e.seq for e in file.entries), limits_rules=limits_rules(config)).where(
        CaseOpen.number == number).execute()


def _after_entry(config, number, file=None, entry=None):
    """What every write to a case's file does last, in its transaction: the case's limits kept current.
    `file` and `entry`: the file as the writer read it and the entry it appended, so it is not read again."""
    _keep_limits(config, CaseFile(file.case, [*file.entries, entry]) if file is not None else CaseFile(get_case(number)))


def refresh_limits(config, every=False):
    """Compute the stored limits of every open case whose limits are not current (after migration 0018,
    or once the rules or a year's holiday schedule changed) — of every open case with `every` (after
    `verify` found rows edited behind the software's back): the files are read outside any transaction,
    then each case's rows are written unless it got an entry meanwhile (its writer stored them then).
    Returns how many cases were computed."""
    rules = limits_rules(config)
    stale = {case.number for case in Case.still_open()} if every else set(_stale_cases(rules))
    if not stale:
        return 0
    files = {f.case.number: f for f in Case.open_files(lambda case: case.number in stale)}
    entry = ledger.LedgerEntry
    with ledger.writing():
        last = dict(entry.select(entry.case_no, fn.MAX(entry.seq)).where(entry.case_no.in_(sorted(stale)))
                    .group_by(entry.case_no).tuples())
        for number in sorted(stale):
            file = files.get(number)
            if file is None:  # ended in the log by other means than record_step: it has no limits
                CaseLimit.delete().where(CaseLimit.case_no == number).execute()
                CaseOpen.update(limits_as_of=last.get(number), limits_rules=rules).where(CaseOpen.number == number).execute()
            elif file.entries and last.get(number) == max(e.seq for e in file.entries):
                _keep_limits(config, file)
    return len(stale)


def limit_problems(config):
    """[message]: the open cases whose stored limits, marked current, are not what their files give
    — case_limit edited behind the software's back (#待办 and the reminders would show its dates).
    `bot.py verify` names them; `bot.py case refresh-limits` computes them again from the files."""
    stale = set(_stale_cases(limits_rules(config)))
    stored = {}
    for row in CaseLimit.select():
        stored.setdefault(row.case_no, []).append((str(row.name), str(row.due), str(row.source), str(row.seq)))
    problems = []
    for file in Case.open_files():
        if file.case.number in stale:
            continue  # not used: computed from the file on read
        expected = sorted((limit.name, str(limit.due), limit.source, str(limit.seq)) for limit in deadlines(config, file))
        if sorted(stored.get(file.case.number, [])) != expected:
            problems.append(f"案件“{file.case.number}”保存的办案期限（case_limit）与案卷记录算出的不符："
                            "期限表在记录之外被改动。查明原因后请运行 python bot.py case refresh-limits。")
    return problems


def _date(value, label):
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise CaseError(f"{label}“{value}”不是有效日期，请写成 2026-11-01 的形式。") from None


def check_av(config, file, step, data, attachments):
    """The 《音像记录事项清单》: the step's AV is attached, or an exception gives a written reason."""
    rule = next((r for r in config["av_list"] if r["step"] == step), None)
    evidence = dict(file.evidence())
    for seq in attachments:
        if seq not in evidence:
            raise CaseError(f"附件第{seq}条不是本案登记的音像或文书记录。")
    if rule is None:
        return
    exception = (data.get("av_exception") or "").strip()
    if exception:
        minimum = config["cases"]["av_exception_min_chars"]
        if len(exception) < minimum:
            raise CaseError(f"未进行音像记录的书面理由过短（至少{minimum}字），请写明原因。")
        return
    kinds = {media_kind(evidence[seq]["mime"]) for seq in attachments}
    wanted = set(rule["media"])
    if not kinds & wanted:
        names = "、".join(config["cases"]["media_names"][m] for m in rule["media"])
        raise CaseError(f"“{step}”属于《音像记录事项清单》所列事项，须附{names}记录（{rule['device']}，"
                        f"{rule['start']}开始，{rule['stop']}结束）；确实无法记录的，请填写书面理由（av_exception）。")
    if step == "行政强制" and data.get("measure") in config["cases"]["whole_process_measures"]:
        if not any(evidence[seq].get("whole_process") for seq in attachments):
            raise CaseError(f"“{data['measure']}”须全过程音像记录，请附标明全过程的视频记录，或填写书面理由。")


# -- writing ----------------------------------------------------------------------------------------

def _number(config, year):
    """The next case number of `year`, one more than the last given (CaseCounter); call it under the
    log's write lock (ledger.writing), in the transaction that creates the case. A year's first case
    starts the counter after the cases already numbered in it (none, unless they came from elsewhere)."""
    raised = CaseCounter.update(last=CaseCounter.last + 1).where(CaseCounter.year == year).execute()
    if not raised:
        CaseCounter.insert(year=year, last=Case.select().where(Case.opened_on.startswith(str(year))).count() + 1
                           ).execute()
    n = CaseCounter.select(CaseCounter.last).where(CaseCounter.year == year).scalar()
    return config["cases"]["number_format"].format(year=year, n=n)


def open_case(config, *, party, handlers, by, data, at=None, actor=None):
    """立案: create the case and its first entry in one transaction. Returns the Case."""
    at = at or ledger.now()
    on = at.date()
    missing = missing_fields("立案", data)
    if missing:
        raise CaseError(f"立案缺少：{'、'.join(missing)}。")
    item = EnforcementItem.get_or_none(EnforcementItem.code == data["item_code"])
    if item is None:
        raise CaseError(f"执法事项编码“{data['item_code']}”不在《行政执法事项清单》中，请先核对清单。")
    if party.get("kind") not in PARTY_KINDS or not party.get("name"):
        raise CaseError(f"当事人须写明类型（{'或'.join(PARTY_KINDS)}）和名称。")
    handlers = check_officers(handlers, on, config["cases"]["min_handlers"], "承办人员")
    check_actor("case.open", by, on, handlers, actor)
    with ledger.writing():
        number = _number(config, on.year)
        body = {**data, "item_name": item.name, "basis": item.basis, "party": party, "handlers": handlers}
        entry = ledger.append("step", body, case_no=number, step="立案", by=str(by), at=at)
        CaseOpen.insert(number=number).execute()
        case = Case.create(number=number, item_code=item.code, party_kind=party["kind"], party_name=party["name"],
                           opened_seq=entry.seq, opened_on=on.isoformat())
        _after_entry(config, number)
        return case


def get_case(number):
    case = Case.by_number(number)
    if case is None:
        raise CaseError(f"案件“{number}”不存在，请核对案号。")
    return case


def record_step(config, number, step, data, *, by, attachments=(), at=None, actor=None):
    """Record one step of a case after checking order, fields, officers and AV. Returns the entry."""
    at = at or ledger.now()
    data = dict(data)
    attachments = [int(a) for a in attachments]
    with ledger.writing():
        case = get_case(number)
        actor = check_actor(step_act(step), by, at.date(), case, actor)  # who, before what: a stranger learns nothing
        file = CaseFile(case)
        check_order(config, file, step, data)
        missing = missing_fields(step, data)
        if missing:
            raise CaseError(f"“{step}”缺少：{'、'.join(missing)}。")
        check_step(config, file, step, data, actor, at)
        if step in ON_SITE:
            data["officers"] = check_officers(data.get("officers"), at.date(), config["cases"]["min_handlers"],
                                              "执法人员")
        check_av(config, file, step, data, attachments)
        if attachments:
            data["attachments"] = attachments
        if step in ENDINGS:
            CaseOpen.delete().where(CaseOpen.number == number).execute()
        entry = ledger.append("step", data, case_no=number, step=step, by=str(by), at=at)
        _after_entry(config, number, file, entry)
        return entry


def add_evidence(config, number, source, *, filename, step, device, recorded_by, recorded_at, by,
                 whole_process=False, note="", at=None, kind="evidence", actor=None, act="case.evidence"):
    """Store a photo, audio or video file by its hash and register it on the case. Returns the entry."""
    at = at or ledger.now()
    store = EvidenceStore.from_config(config)
    case = get_case(number)
    if step not in STEPS:
        raise CaseError(f"未知的执法环节“{step}”。")
    check_actor(act, by, at.date(), case, actor)
    check_officer(recorded_by, at.date(), "音像记录人")
    digest, size, mime = store.put(source, filename)
    data = {"sha256": digest, "size": size, "mime": mime, "filename": filename, "for_step": step,
            "device": device, "recorded_by": str(recorded_by), "recorded_at": str(recorded_at),
            "whole_process": bool(whole_process), "note": note}
    with ledger.writing():
        entry = ledger.append("evidence", data, case_no=number, step=step, by=str(by), at=at)
        _after_entry(config, number)
        return entry


def correct(config, number, seq, changes, reason, *, by, at=None, actor=None):
    """更正: a new entry that names the entry it corrects and the fields it changes."""
    at = at or ledger.now()
    reason = (reason or "").strip()
    if len(reason) < config["cases"]["av_exception_min_chars"]:
        raise CaseError("更正须写明理由。")
    if not changes:
        raise CaseError("更正须写明要改正的内容。")
    with ledger.writing():
        case = get_case(number)
        target = ledger.LedgerEntry.by_seq(seq)
        if target is None or target.case_no != case.number:
            raise CaseError(f"第{seq}条记录不属于案件{number}。")
        if target.kind == "correction":
            raise CaseError("请更正原记录，而不是更正记录本身。")
        # A review is corrected only by a reviewer outside the case, like it is recorded.
        check_actor("case.review" if target.step == "审核" else "case.correct", by, at.date(), case, actor)
        check_correction(target, changes, at)
        entry = ledger.append("correction", {"changes": changes, "reason": reason}, case_no=number,
                              step=target.step, by=str(by), corrects=int(seq), at=at)
        _after_entry(config, number)
        return entry


# What the rules computed when an entry was recorded: no correction may rewrite it.
COMPUTED = {"major", "major_rules", "review_seq", "proposal_seq", "submission_seq", "discussion_seq", "due_on",
            "hearing_right", "discretion_flag", "failing", "reviewer", "qualification", "previous_due", "overdue",
            "late", "notice_seq", "request_seq"}
# A decision's substance: changing it is a new decision (变更、撤销), not a correction of a slip.
DECISION_SUBSTANCE = {"penalty", "fine_yuan", "decided_on", "confiscation_yuan"}


def check_correction(target, changes, at):
    """更正 fixes slips; it never moves a decision past the legal review or the procedure limits."""
    touched = sorted(set(changes) & COMPUTED)
    if touched:
        raise CaseError(f"“{'、'.join(touched)}”由系统按规则判断，不能更正；如情况有变，请记录新的环节。")
    if target.step == "审核" and set(changes) & {"result", "points"}:
        raise CaseError("审核结论和审核事项不能更正；如需改变，请承办人员重新提请审核。")
    if target.step in DECISIONS and set(changes) & DECISION_SUBSTANCE:
        raise CaseError("决定的处罚内容、金额和日期不能以更正方式改变；决定确有错误的，应依法变更或撤销原决定。")
    for key, label in PAST_DATES.items():
        if key in changes and _date(changes[key], label) > at.date():
            raise CaseError(f"{label}不能更正为晚于今天的日期。")


# What the index row (enforcement_case) copies from the 立案 entry: (column, label, value in the entry).
INDEX_COLUMNS = (("number", "案号", lambda content: content.get("case")),
                 ("item_code", "执法事项编码", lambda content: content["data"].get("item_code")),
                 ("party_kind", "当事人类型", lambda content: content["data"].get("party", {}).get("kind")),
                 ("party_name", "当事人名称", lambda content: content["data"].get("party", {}).get("name")),
                 ("opened_on", "立案日期", lambda content: str(content.get("at", ""))[:10]))


def index_problems(since=0):
    """[(seq, message)]: every way the case index (enforcement_case) differs from the log it copies.

    The index is a lookup aid written once with each 立案 entry; the log is authoritative. An index row
    edited behind the append-only triggers, one without its 立案 entry, and a 立案 entry without an index
    row are each named. Values of any type are compared as text, so a tampered column cannot crash this.

    `since`: only the cases opened at entry `since` or later (and index rows claiming so) — the
    incremental check before signing a head, which costs the new entries, not the history (issue 19);
    `bot.py verify` checks them all."""
    problems = []
    openings = {}
    entry = ledger.LedgerEntry
    for e in entry.select().where((entry.kind == "step") & (entry.step == "立案") & (entry.seq >= since)):
        openings[e.seq] = e
    indexed = set()
    where = f" WHERE opened_seq >= {db.param}" if since else ""
    for row in db.execute_sql("SELECT number, item_code, party_kind, party_name, opened_seq, opened_on FROM enforcement_case"
                              + where, (since,) if since else ()):
        values = dict(zip(("number", "item_code", "party_kind", "party_name", "opened_seq", "opened_on"), row))
        number = values["number"]
        try:
            seq = int(values["opened_seq"])
        except (TypeError, ValueError):
            problems.append((None, f"案件索引中案件“{number}”的立案记录号“{values['opened_seq']}”不是整数：索引被改动。"))
            continue
        indexed.add(seq)
        entry = openings.get(seq)
        content = _content(entry)
        if content is None or content.get("kind") != "step" or content.get("step") != "立案":
            problems.append((seq, f"案件索引中案件“{number}”指向第{seq}条，但该条不是立案记录：索引被改动。"))
            continue
        for column, label, read in INDEX_COLUMNS:
            recorded = read(content)
            if str(values[column]) != str(recorded):
                problems.append((seq, f"案件索引中案件“{number}”的{label}“{values[column]}”与第{seq}条立案记录"
                                      f"“{recorded}”不符：索引在记录之外被改动（文书和规则以记录为准）。"))
    for seq in sorted(set(openings) - indexed):
        content = _content(openings[seq])
        number = content.get("case") if content else None
        problems.append((seq, f"第{seq}条立案记录（案件“{number}”）在案件索引中没有对应行：索引被删改。"))
    return problems


def _content(entry):
    """An entry's parsed content, or None when its bytes are not the JSON object they should be."""
    if entry is None:
        return None
    try:
        content = json.loads(bytes(entry.body) if not isinstance(entry.body, str) else entry.body)
    except (TypeError, ValueError):
        return None
    if not isinstance(content, dict) or not isinstance(content.get("data"), dict):
        return None
    return content


def av_exceptions():
    """Steps recorded without their AV, with the written reason (shown in reports)."""
    rows = []
    for entry in ledger.LedgerEntry.select().where(ledger.LedgerEntry.kind == "step").order_by(ledger.LedgerEntry.seq):
        data = entry.content["data"]
        if data.get("av_exception"):
            rows.append((entry, data["av_exception"]))
    return rows
