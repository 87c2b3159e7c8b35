"""案件 and the steps of its case file, with the rules that guard their order.

Every step is an entry of the append-only log (models/ledger.py). Nothing here updates or deletes: a
correction (更正) is a new entry naming the one it corrects, and the case file shows both. The rules sit
here so that the command line, WeChat staff commands and the web all obey them:

- the order of steps (no 决定 before 告知, no 结案 before 送达 …);
- at least two certified officers handle a case and act on site (行政处罚法 第四十二条、第五十五条);
- the steps on the 《音像记录事项清单》 carry their audio/video, or a written reason why not;
- whoever records an entry holds a certificate valid that day, and is a handler of the case or has a
  role that may record on any case (models/staff.py: 负责人; 法制审核员 for 审核).
"""
import datetime as dt

from peewee import SQL, CharField, IntegerField, fn

from models import ledger
from models.database import BaseModel
from models.disclosure import EnforcementItem, Officer
from models.evidence import EvidenceStore, media_kind
from models.staff import NotAllowed, Staff, authorize
from models.workdays import working_calendar

INVESTIGATION = ("现场检查", "随机抽查", "调查取证", "证据保全", "行政强制")
STEPS = ("立案",) + INVESTIGATION + ("审核", "告知", "听证", "决定", "不予处罚", "送达", "执行", "结案", "撤案")
DECISIONS = ("决定", "不予处罚")
ENDINGS = ("结案", "撤案")
ONCE = ("立案", "决定", "不予处罚", "结案", "撤案")
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
    "审核": [("reviewer", "审核人员"), ("major", "是否重大执法决定"), ("result", "审核结论"), ("opinion", "审核意见")],
    "告知": [("notice_no", "告知书文号"), ("facts", "违法事实"), ("basis", "处罚依据"), ("proposed", "拟作出的处罚"),
           ("served_on", "告知书送达日期")],
    "听证": [("requested_on", "申请日期"), ("held_on", "举行日期"), ("host", "主持人"), ("summary", "听证情况")],
    "决定": [("decision_no", "决定书文号"), ("facts", "违法事实"), ("basis", "处罚依据"), ("penalty", "处罚内容"),
           ("fine_yuan", "罚款金额（元）"), ("decided_on", "决定日期")],
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
    def open_with_status(cls, batch=500):
        """[(case, status)] of the cases not yet ended (结案/撤案), oldest first, in a few statements
        whatever the number of cases closed over the years (issue 19): the ended ones are left out by
        an index probe each (ledger_entry.case_no), and the steps of the open ones read together."""
        entry = ledger.LedgerEntry
        ended = entry.select(SQL("1")).where((entry.case_no == cls.number) & (entry.kind == "step")
                                             & entry.step.in_(ENDINGS))
        open_cases = list(cls.select().where(~fn.EXISTS(ended)).order_by(cls.opened_seq))
        done = {case.number: [] for case in open_cases}
        numbers = list(done)
        for start in range(0, len(numbers), batch):
            rows = (entry.select(entry.case_no, entry.step).where(
                (entry.kind == "step") & entry.case_no.in_(numbers[start:start + batch])).order_by(entry.seq).tuples())
            for number, step in rows:
                done[number].append(step)
        return [(case, status_of(done[case.number])) for case in open_cases]

    def handlers(self):
        """The 承办人员 named when the case was opened (their 执法证号), from the log itself."""
        opening = ledger.LedgerEntry.by_seq(self.opened_seq)
        return list(opening.content["data"].get("handlers", [])) if opening else []

    @classmethod
    def by_number(cls, number):
        return cls.get_or_none(cls.number == (number or "").strip())


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


def step_act(step):
    """The act recording `step` is: legal review has its own (a reviewer may record it on any case)."""
    return "case.review" if step == "审核" else "case.record"


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

    def __init__(self, case):
        self.case = case
        self.entries = ledger.entries(case.number)
        self.contents = {e.seq: e.content for e in self.entries}
        self.corrections = {}
        for seq, content in self.contents.items():
            if content["kind"] == "correction":
                self.corrections.setdefault(content["corrects"], []).append(content)

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
    for ending in ("撤案", "结案", "执行", "送达", "不予处罚", "决定", "听证", "告知", "审核"):
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
    if step in INVESTIGATION + ("审核", "告知", "听证", "撤案") + DECISIONS and decided:
        raise CaseError(f"该案件已作出{decided[0]}，不能再记录“{step}”。")
    needs = {
        "审核": (lambda: any(s in done for s in ("调查取证", "现场检查")), "审核前须有调查取证或现场检查记录。"),
        "告知": (lambda: _review_passed(file), "告知前须经审核且审核结论为“通过”。"),
        "听证": (lambda: "告知" in done, "听证须在事先告知之后（当事人收到告知书后提出申请）。"),
        "决定": (lambda: "告知" in done, "作出处罚决定前须先告知当事人拟处罚的事实、理由、依据及其权利（行政处罚法第四十四条）。"),
        "不予处罚": (lambda: _review_passed(file), "作出不予处罚决定前须经审核且审核结论为“通过”。"),
        "送达": (lambda: bool(decided), "送达前须先作出决定。"),
        "执行": (lambda: "决定" in done and "送达" in done, "执行前须有处罚决定并已送达。"),
        "结案": (lambda: "送达" in done and ("执行" in done or "决定" not in done),
               "结案前须已送达决定书；作出处罚决定的，还须有执行记录。"),
    }
    if step in needs and not needs[step][0]():
        raise CaseError(needs[step][1])
    if step == "决定" and not probe:
        _check_statement_period(config, file, data)


def _review_passed(file):
    _, review = file.last("审核")
    return bool(review) and review.get("result") == "通过"


def _check_statement_period(config, file, data):
    """陈述、申辩和听证申请期: no decision within N working days of serving the notice, unless the party
    waived it in writing or a hearing was held (行政处罚法 第六十四条; 第八十五条 makes these days working days)."""
    days = config["cases"]["statement_period_working_days"]
    _, notice = file.last("告知")
    if data.get("party_waived") or "听证" in file.done():
        return
    served = _date(notice.get("served_on"), "告知书送达日期")
    decided = _date(data.get("decided_on"), "决定日期")
    if working_calendar(config).workdays_between(served, decided)[0] < days:
        raise CaseError(f"告知书于{served}送达，当事人有{days}个工作日陈述、申辩或申请听证，{decided}尚不能作出决定"
                        f"（当事人书面放弃的，请在决定中注明 party_waived）。")


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
    count = Case.select().where(Case.opened_on.startswith(str(year))).count()
    return config["cases"]["number_format"].format(year=year, n=count + 1)


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
        return Case.create(number=number, item_code=item.code, party_kind=party["kind"], party_name=party["name"],
                           opened_seq=entry.seq, opened_on=on.isoformat())


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
        check_actor(step_act(step), by, at.date(), case, actor)  # who, before what: a stranger learns nothing
        file = CaseFile(case)
        check_order(config, file, step, data)
        missing = missing_fields(step, data)
        if missing:
            raise CaseError(f"“{step}”缺少：{'、'.join(missing)}。")
        if step in ON_SITE:
            data["officers"] = check_officers(data.get("officers"), at.date(), config["cases"]["min_handlers"],
                                              "执法人员")
        check_av(config, file, step, data, attachments)
        if attachments:
            data["attachments"] = attachments
        return ledger.append("step", data, case_no=number, step=step, by=str(by), at=at)


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
    return ledger.append("evidence", data, case_no=number, step=step, by=str(by), at=at)


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
        check_actor("case.correct", by, at.date(), case, actor)
        return ledger.append("correction", {"changes": changes, "reason": reason}, case_no=number,
                             step=target.step, by=str(by), corrects=int(seq), at=at)


def av_exceptions():
    """Steps recorded without their AV, with the written reason (shown in reports)."""
    rows = []
    for entry in ledger.LedgerEntry.select().where(ledger.LedgerEntry.kind == "step").order_by(ledger.LedgerEntry.seq):
        data = entry.content["data"]
        if data.get("av_exception"):
            rows.append((entry, data["av_exception"]))
    return rows
