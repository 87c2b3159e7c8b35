"""事后公开 — enforcement decisions published on time, de-identified, withdrawn and expired in the open.

A `Disclosure` is the public record of one decision: 执法机关, 执法对象, 执法类别, 执法结论, decision number
and date, legal basis, and the decision text after de-identification (models/masking.py). It is made from
the case file (models/cases.py: a 决定, 不予处罚 or 当场处罚 entry of the log) or from a 双随机 draw's results
(models/draws.py), by `sync`, which reads the log from where it stopped last time.

Each gets a due date when it is made, counted by the one working-day calendar (models/workdays.py):
行政处罚 and 行政许可 7 working days, other decisions 20, 双随机 results 20 after the inspection ends, a
withdrawal or correction 3 (config.yaml `publication`). A date in a year without an official schedule is
provisional and recomputed once the schedule is entered.

What happens to it — 公开, 人工更正 of the masking, 不予公开 (a minor, secrets, privacy) with the reason,
更新 after a correction, 撤回 with the public reason, 到期下线 after the display period of its severity —
is a `DisclosureEvent`; the public pages show those that are public, staff see all. Nothing is deleted.
"""
import datetime as dt
import functools
import json
import re
from contextlib import contextmanager

from peewee import BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField, fn

from models import case_subscriptions, ledger
from models.database import BaseModel, db, is_sqlite
from models.disclosure import Bureau, EnforcementItem
from models.masking import mask
from models.staff import HEAD, NotAllowed, Staff, authorize
from models.workdays import working_calendar

PENDING, PUBLISHED, WITHHELD, WITHDRAWN, EXPIRED = "待公开", "已公开", "不予公开", "已撤回", "已到期"
STATUSES = (PENDING, PUBLISHED, WITHHELD, WITHDRAWN, EXPIRED)
PUBLIC_STATUSES = (PUBLISHED, WITHDRAWN)  # listed on the public pages (a withdrawn one as its notice only)
CASE_DECISIONS = ("决定", "不予处罚", "当场处罚")
DRAW_RESULTS = "双随机抽查结果"
WITHDRAWAL, CORRECTION = "撤回", "更正"
SEVERITIES = ("轻微", "一般", "严重")
# The decision kinds as the public reads them.
DECISION_LABELS = {"决定": "行政处罚决定", "不予处罚": "不予行政处罚决定", "当场处罚": "当场行政处罚决定",
                   DRAW_RESULTS: "双随机抽查结果"}
PROOF_NOTE = ("为保护个人信息，证明中不含记录原文，只含公开的去标识化内容和该记录的哈希；"
              "哈希与审计路径可证明该记录包含在本局签名发布的记录中。持有决定书原文的当事人可自行计算核对。")


class PublicationError(ValueError):
    """Something that may not be done to a disclosure; the message is Chinese and says what to do."""


# -- due dates -----------------------------------------------------------------------------------------

def settings(config):
    return config["publication"]


def period_days(config, category):
    """Working days to publish a decision of `category` (a 执法行为类别, DRAW_RESULTS, 撤回 or 更正)."""
    if category == DRAW_RESULTS:
        return int(config["draws"]["publish_within_working_days"])
    if category in (WITHDRAWAL, CORRECTION):
        return int(settings(config)["withdraw_working_days"])
    return int(settings(config)["working_days"].get(category, settings(config)["other_working_days"]))


def due_date(config, decided_on, category):
    """The publication Deadline (due, provisional) of a decision of `category` made on `decided_on`."""
    return working_calendar(config).add_workdays(decided_on, period_days(config, category))


def add_months(day, months):
    """The same day `months` later (the month's last day when it has fewer days): a display period's end."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


# -- the records ---------------------------------------------------------------------------------------

class Disclosure(BaseModel):
    """一条事后公开 — the public record of one decision, with what staff need to publish it right."""

    key = CharField(unique=True, max_length=64)  # case:<seq of the decision entry> | draw:<draw id>
    source = CharField()  # case | draw
    case_no = CharField(null=True)
    entry_seq = IntegerField(null=True, unique=True)
    draw_id = IntegerField(null=True)
    decision_kind = CharField()  # 决定 / 不予处罚 / 当场处罚 / 双随机抽查结果
    category = CharField()  # 执法类别 (the item's 执法行为类别)
    item_code = CharField(default="")
    item_name = CharField(default="")
    authority = CharField()  # 执法机关
    party = CharField()  # 执法对象, as published
    party_kind = CharField(default="")
    decision_no = CharField(default="")
    decided_on = DateField()
    basis = TextField(default="")
    conclusion = TextField(default="")  # 执法结论, de-identified
    original = TextField(default="")  # the decision text as recorded: staff only
    masked = TextField(default="")  # the decision text as published
    spans = TextField(default="[]")  # what the rules masked (JSON), for the staff preview
    keep = TextField(default="[]")  # hand corrections: fragments that stay
    extra = TextField(default="[]")  # hand corrections: fragments masked besides the rules
    people = TextField(default="[]")  # names the case file gives of persons other than the party
    handlers = CharField(default="")  # 执法证号 of the responsible officers, for reminders
    severity = CharField(default="一般")
    status = CharField(default=PENDING)
    due_on = DateField()
    due_provisional = BooleanField(default=False)
    served_on = DateField(null=True)  # the decision reached the party (送达; 当场处罚: the same day)
    confirmed_by = CharField(null=True)
    withheld_reason = CharField(default="")
    published_at = DateTimeField(null=True)  # first publication
    on_time = BooleanField(null=True)  # first publication by the due date
    expires_on = DateField(null=True)
    version = IntegerField(default=1)
    # A change waiting to be published: 更正 (the case file corrected the decision) with its own 3-day due.
    change = CharField(default="")
    change_reason = TextField(default="")
    change_due = DateField(null=True)
    public_note = TextField(default="")  # 已撤回：理由 / 已更新：理由
    reminded_for = DateField(null=True)  # the due date a reminder went out for (once per due date)
    escalated_on = DateField(null=True)
    updated_at = DateTimeField(default=dt.datetime.now)
    # What the public search matches, in one column (one LIKE instead of five): the published fields of
    # a published record; of a withdrawn or unpublished one only its decision number (search_text_of).
    search_text = TextField(default="")
    # Shown on the public pages (status in PUBLIC_STATUSES): one value, so the list walks the index
    # (listed, decided_on, id, search_text) newest first and stops at a page instead of sorting every
    # public row; a search is matched on the index entries, and only the rows that match are read.
    listed = BooleanField(default=False)

    class Meta:
        table_name = "disclosure"
        indexes = ((("status", "due_on"), False), (("listed", "decided_on", "id", "search_text"), False),
                   (("status", "expires_on"), False), (("due_provisional", "status"), False), (("change", "status"), False))

    def save(self, *args, **kwargs):
        self.listed = self.status in PUBLIC_STATUSES
        self.search_text = search_text_of(self.status, self.decision_no, self.party, self.item_name, self.item_code,
                                          self.category, self.conclusion, self.decision_kind)
        return super().save(*args, **kwargs)

    @property
    def label(self):
        return DECISION_LABELS.get(self.decision_kind, self.decision_kind)

    def span_list(self):
        return json.loads(self.spans or "[]")

    def keep_list(self):
        return json.loads(self.keep or "[]")

    def extra_list(self):
        return json.loads(self.extra or "[]")

    def events(self, public_only=False):
        query = self.history.order_by(DisclosureEvent.at, DisclosureEvent.id)
        if public_only:
            query = query.where(DisclosureEvent.public == True)  # noqa: E712
        return list(query)

    def is_public(self):
        return self.status in PUBLIC_STATUSES

    def public_fields(self):
        """What anyone may read of this record (JSON, the feed, the chat, the proof). A withdrawn record
        keeps only its notice: number, date, category and why it was withdrawn."""
        base = {"id": self.id, "decision_no": self.decision_no, "decision_kind": self.label, "category": self.category,
                "authority": self.authority, "decided_on": self.decided_on.isoformat(), "status": self.status,
                "version": self.version, "note": self.public_note}
        if self.status == PUBLISHED:
            base.update({"party": self.party, "item": self.item_name, "basis": self.basis,
                         "conclusion": self.conclusion, "text": self.masked,
                         "published_at": self.published_at.isoformat(sep=" ") if self.published_at else None,
                         "expires_on": self.expires_on.isoformat() if self.expires_on else None})
        return base

    @classmethod
    def by_id(cls, value):
        try:
            value = int(str(value).strip().lstrip("#第").rstrip("号条"))
        except (TypeError, ValueError):
            return None
        return cls.get_or_none(cls.id == value) if 0 < value < 2**62 else None

    @classmethod
    def by_entry(cls, seq):
        """The record of the decision at leaf `seq`, or None (also for what no integer column holds)."""
        try:
            seq = int(seq)
        except (TypeError, ValueError):
            return None
        return cls.get_or_none(cls.entry_seq == seq) if 0 <= seq < 2**62 else None


# search_text is "party \x1f item \x1e the rest": a filter on the party or the item is a LIKE on that one
# column too, so it is answered from the index (Disclosure.listed) without reading the rows it rejects.
# Control characters never reach a search (handlers/web/disclosure.py clean_query), so they cannot match
# across the separators.
PARTY_END, ITEM_END = "\x1f", "\x1e"


def search_text_of(status, decision_no, party, item_name, item_code, category, conclusion, decision_kind):
    """The public search's text of a record: everything public of a published one, the number of the rest."""
    if status != PUBLISHED:
        return decision_no or ""
    rest = " ".join(str(v or "") for v in (decision_no, category, DECISION_LABELS.get(decision_kind, decision_kind),
                                            conclusion))
    # Cut so an index entry stays well under PostgreSQL's b-tree limit (about 2,700 bytes, 3 bytes a character).
    return f"{str(party or '')[:200]}{PARTY_END}{str(item_name or '')[:150]} {item_code or ''}{ITEM_END}{rest[:300]}"


def _like_term(text):
    """A search word safe inside a LIKE pattern: wildcards and the escape character dropped."""
    return "".join(ch for ch in text if ch not in "%_\\")


class DisclosureEvent(BaseModel):
    """What happened to a disclosure, by whom, why; `public` ones are shown with the record."""

    disclosure = ForeignKeyField(Disclosure, backref="history", on_delete="RESTRICT")
    at = DateTimeField()
    action = CharField()  # 生成 / 人工更正 / 确认 / 公开 / 更新 / 不予公开 / 撤回 / 到期下线 / 提醒 / 超期督办 / 期限重算
    by = CharField(default="")
    reason = TextField(default="")
    public = BooleanField(default=False)
    snapshot = TextField(default="")  # the public fields at that moment (JSON), for 公开 / 更新

    class Meta:
        table_name = "disclosure_event"


class PublicationState(BaseModel):
    """Where `sync` stopped reading the log (the last ledger seq it has seen)."""

    name = CharField(primary_key=True, max_length=64)
    value = IntegerField(default=-1)

    class Meta:
        table_name = "publication_state"


PUBLICATION_MODELS = [Disclosure, DisclosureEvent, PublicationState]


def log_event(disclosure, action, at, by="", reason="", public=False, config=None):
    """Record what happened; a public 公开/更新/撤回 (with `config`) also queues, in the same transaction, a
    message to each WeChat user bound to the case by its query code (models/case_subscriptions.py)."""
    snapshot = json.dumps(disclosure.public_fields(), ensure_ascii=False) if public else ""
    event = DisclosureEvent.create(disclosure=disclosure, at=at.replace(tzinfo=None), action=action, by=by,
                                   reason=reason, public=public, snapshot=snapshot)
    if public:
        case_subscriptions.queue_notices(config, disclosure, event)
    return event


def _now(now=None):
    return (now or ledger.now()).replace(tzinfo=None)


@contextmanager
def clock_lock():
    """One pass at a time across processes, by a lock in the database: PostgreSQL's advisory lock
    (yields False at once when another pass holds it), SQLite's write lock (a second pass waits, then
    finds nothing left to do). Everything inside is one transaction."""
    if is_sqlite():
        with (db.atomic(lock_type="IMMEDIATE") if not db.in_transaction() else db.atomic()):
            yield True
        return
    with db.atomic():
        got = db.execute_sql("SELECT pg_try_advisory_xact_lock(4813)").fetchone()[0]  # 4813: 48条+13号 issue
        yield bool(got)


# -- building a record from the case file ---------------------------------------------------------------

def _as_date(value):
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _yuan(value):
    try:
        return int(str(value).strip() or 0)
    except ValueError:
        return 0


def severity_of(config, kind, data, party_kind):
    """轻微 / 一般 / 严重 of a decision, for its display period (config `publication.display_months`)."""
    rules = settings(config)
    penalty = str(data.get("penalty", ""))
    if kind in ("不予处罚", "当场处罚"):
        return "轻微"
    threshold = config["cases"]["hearing_right"]["amount_yuan"].get(party_kind, 0)
    if any(w in penalty for w in rules["severe_words"]) or (threshold and _yuan(data.get("fine_yuan")) >= threshold):
        return "严重"
    parts = [p for p in re.split(r"[，,、；;并处]+", penalty) if p.strip()]
    if parts and all(any(w in p for w in rules["light_words"]) for p in parts) and not _yuan(data.get("fine_yuan")):
        return "轻微"
    return "一般"


def minor_reason(party, decided_on):
    """'当事人为未成年人' when the 立案 entry records a minor party, else None."""
    if party.get("minor") in (True, "是", "true", 1):
        return "当事人为未成年人"
    birth = _as_date(party.get("birth_date") or party.get("birthday") or "")
    id_no = str(party.get("id_no") or party.get("id_card") or "")
    if birth is None and re.fullmatch(r"\d{17}[\dXx]", id_no):
        birth = _as_date(f"{id_no[6:10]}-{id_no[10:12]}-{id_no[12:14]}")
    if birth and decided_on and add_months(birth, 18 * 12) > decided_on:
        return "当事人为未成年人"
    return None


def decision_text(kind, party, data):
    """The decision as recorded, in the words of a 决定书 (what masking then works on)."""
    lines = [f"{DECISION_LABELS.get(kind, kind)} {data.get('decision_no', '')}".strip()]
    who = f"当事人：{party.get('name', '')}"
    if party.get("address") or data.get("party_address"):
        # A person's 住址 is masked; an organisation's 住所 is its registered seat and stays (models/masking.py).
        label = "住址" if party.get("kind") == "自然人" else "住所"
        who += f"，{label}：{party.get('address') or data.get('party_address')}"
    lines.append(who + "。")
    fields = {"决定": [("facts", "违法事实"), ("evidence", "证据"), ("basis", "处罚依据"), ("penalty", "处罚内容")],
              "不予处罚": [("reason", "不予处罚理由"), ("basis", "依据")],
              "当场处罚": [("facts", "违法行为"), ("place", "地点"), ("basis", "处罚依据"), ("penalty", "处罚种类")]}
    for key, label in fields.get(kind, []):
        if data.get(key) not in (None, ""):
            lines.append(f"{label}：{data[key]}")
    if data.get("fine_yuan") not in (None, "", 0, "0"):
        lines.append(f"罚款金额：人民币{data['fine_yuan']}元")
    lines.append(f"决定日期：{data.get('decided_on', '')}")
    return "\n".join(lines)


def conclusion_of(kind, data):
    if kind == "不予处罚":
        return "不予行政处罚"
    penalty = str(data.get("penalty") or "").strip()
    fine = _yuan(data.get("fine_yuan"))
    if fine and str(fine) not in penalty:
        penalty = f"{penalty}，罚款人民币{fine}元" if penalty else f"罚款人民币{fine}元"
    return penalty


def _authority(config):
    bureau = Bureau.current()
    return bureau.name if bureau else config.get("bureau", {}).get("name", "")


def _apply_mask(row):
    """Run de-identification on the row's original text (and conclusion) with its hand corrections."""
    party = row.party if row.party_kind == "自然人" else None
    people = json.loads(row.people or "[]")
    result = mask(row.original, party=party or row.party, people=people, keep=row.keep_list(), extra=row.extra_list())
    row.masked = result.text
    row.spans = json.dumps([s.as_dict() for s in result.spans], ensure_ascii=False)
    row.conclusion = mask(row.conclusion, party=party or row.party, people=people, keep=row.keep_list(),
                          extra=row.extra_list()).text


def _from_case_entry(config, entry, corrections):
    """A Disclosure (not saved) for a decision entry of the log, with corrections applied."""
    from models.cases import Case  # cases imports review, ledger … ; read here only when a decision is seen

    content = entry.content
    data = dict(content["data"])
    for change in corrections:
        data.update(change)
    case = Case.by_number(entry.case_no)
    opening = case.opening().content["data"] if case and case.opening() else {}
    party = dict(opening.get("party") or {})
    item = EnforcementItem.get_or_none(EnforcementItem.code == (case.item_code if case else ""))
    category = item.category if item else "行政处罚"
    decided_on = _as_date(data.get("decided_on")) or _as_date(content["at"])
    kind = entry.step
    row = Disclosure(key=f"case:{entry.seq}", source="case", case_no=entry.case_no, entry_seq=entry.seq,
                     decision_kind=kind, category=category, item_code=item.code if item else "",
                     item_name=item.name if item else str(opening.get("item_name", "")),
                     authority=_authority(config), party=party.get("name", case.party_name if case else ""),
                     party_kind=party.get("kind", case.party_kind if case else ""),
                     decision_no=str(data.get("decision_no", "")), decided_on=decided_on,
                     basis=str(data.get("basis", "") or (item.basis if item else "")),
                     conclusion=conclusion_of(kind, data), original=decision_text(kind, party, data),
                     people=json.dumps([str(p) for p in opening.get("others", []) if p], ensure_ascii=False),
                     handlers=",".join(case.handlers() if case else []),
                     severity=severity_of(config, kind, data, party.get("kind", "")))
    if opening.get("demo"):  # 示例 (make demo's own database): never mistaken for a real decision
        row.decision_no = "【示例】" + row.decision_no
    due = due_date(config, decided_on, category)
    row.due_on, row.due_provisional = due.due, due.provisional
    if kind == "当场处罚":
        row.served_on = decided_on  # 当场交付 (《行政处罚法》第五十二条)
    withhold = minor_reason(party, decided_on) or str(data.get("withhold") or data.get("不予公开") or "").strip()
    if withhold:
        row.status, row.withheld_reason = WITHHELD, withhold
    _apply_mask(row)
    return row


def _from_draw(config, draw):
    """A Disclosure (not saved) of a drawn 双随机 plan's results, or None while nothing is drawn."""
    from models import draws

    result = draw.result_document()
    if not result:
        return None
    found = draws.outcomes(draw)
    lines = [f"抽查计划：{draw.plan.name}（第{draw.id}号抽取，{draw.draw_on}）",
             f"抽取对象{len(result['selected'])}家，已登记检查结果{len(found)}家。"]
    for target in result["selected"]:
        outcome = found.get(target["uscc"])
        lines.append(f"{target['name']}：{outcome['result'] if outcome else '检查结果待登记'}"
                     + (f"（{outcome['ended_on']}）" if outcome else ""))
    ended = draw.inspection_end()
    due = draw.publication_due(config)
    row = Disclosure(key=f"draw:{draw.id}", source="draw", draw_id=draw.id, decision_kind=DRAW_RESULTS,
                     category="行政检查", item_name=draw.plan.name, authority=_authority(config),
                     party="、".join(t["name"] for t in result["selected"])[:250], party_kind="法人或其他组织",
                     decision_no=draw.case_no, decided_on=ended, basis="《国务院办公厅关于推广随机抽查规范事中事后监管的通知》"
                     "（国办发〔2015〕58号）", conclusion=f"抽查{len(result['selected'])}家，已登记结果{len(found)}家",
                     original="\n".join(lines), severity="轻微", due_on=due.due, due_provisional=due.provisional,
                     handlers=",".join(sorted({c for t in result["selected"] for c in t["inspectors"]})))
    if result["selected"] and all(t["uscc"] in found for t in result["selected"]):
        row.served_on = ended  # every drawn target has its result: ready to publish
    _apply_mask(row)
    return row


def _copy_content(target, source):
    for field in ("decision_no", "decided_on", "basis", "conclusion", "original", "masked", "spans", "severity",
                  "party", "item_name", "handlers", "served_on", "due_on", "due_provisional"):
        setattr(target, field, getattr(source, field))


# -- sync: the log -> disclosure records ----------------------------------------------------------------

def _cursor():
    state = PublicationState.get_or_none(PublicationState.name == "ledger")
    return state.value if state else -1


def _set_cursor(value):
    PublicationState.insert(name="ledger", value=value).on_conflict(
        conflict_target=[PublicationState.name], update={PublicationState.value: value}).execute()


def sync(config, now=None, batch=2000, max_batches=None):
    """Read the log from where the last sync stopped: a new decision becomes a Disclosure with its due
    date; a 送达 marks its decision served; a correction of a decision becomes a pending 更新; a 双随机
    outcome refreshes its draw's record. Reads `batch` entries at a time, all of them unless `max_batches`
    says how many. Returns (records made or changed, whether entries are left to read)."""
    now = _now(now)
    start = _cursor()
    entry = ledger.LedgerEntry
    changed, batches = 0, 0
    while max_batches is None or batches < max_batches:
        rows = list(entry.select(entry.seq, entry.case_no, entry.kind, entry.step, entry.body)
                    .where(entry.seq > start).order_by(entry.seq).limit(batch))
        batches += 1
        for row in rows:
            changed += _ingest(config, row, now)
        if rows:
            start = rows[-1].seq
            _set_cursor(start)
        if len(rows) < batch:
            return changed + _sync_draws(config, now), False
    return changed, True


def _ingest(config, entry, now):
    content = entry.content
    if entry.kind == "step" and entry.step in CASE_DECISIONS and entry.case_no:
        if Disclosure.by_entry(entry.seq):
            return 0
        row = _from_case_entry(config, entry, [])
        row.save(force_insert=True)
        log_event(row, "生成", now, reason=f"到期日{row.due_on}" + ("（暂按周一至周五计算，待录入节假日安排后重算）"
                                                              if row.due_provisional else ""))
        if row.status == WITHHELD:
            log_event(row, "不予公开", now, by="系统", reason=row.withheld_reason)
        return 1
    if entry.kind == "step" and entry.step == "送达" and entry.case_no:
        served = _as_date(content["data"].get("served_on")) or _as_date(content["at"])
        return (Disclosure.update(served_on=served, updated_at=now)
                .where((Disclosure.case_no == entry.case_no) & Disclosure.served_on.is_null()
                       & (Disclosure.source == "case")).execute())
    if entry.kind == "correction" and content.get("corrects") is not None:
        row = Disclosure.by_entry(content["corrects"])
        if row is None:
            return 0
        return _take_correction(config, row, content, now)
    return 0


def _take_correction(config, row, content, now):
    """A correction of a decision's entry: the record is rebuilt; once public, the update is due in 3 days."""
    corrections = [c.content["data"]["changes"] for c in ledger.LedgerEntry.select().where(
        (ledger.LedgerEntry.kind == "correction") & (ledger.LedgerEntry.case_no == row.case_no)).order_by(
        ledger.LedgerEntry.seq) if c.content.get("corrects") == row.entry_seq]
    fresh = _from_case_entry(config, ledger.LedgerEntry.by_seq(row.entry_seq), corrections)
    fresh.keep, fresh.extra = row.keep, row.extra
    _apply_mask(fresh)
    served, due, provisional = row.served_on, row.due_on, row.due_provisional
    _copy_content(row, fresh)
    row.served_on = row.served_on or served
    if row.status != PENDING:  # the first publication's due date stays what it was
        row.due_on, row.due_provisional = due, provisional
    reason = str(content["data"].get("reason", ""))
    if row.status == PUBLISHED:
        row.change, row.change_reason = CORRECTION, reason
        row.change_due = due_date(config, _as_date(content["at"]), CORRECTION).due
    row.updated_at = now
    row.save()
    log_event(row, "案卷更正", now, by=content.get("by", ""), reason=reason)
    return 1


def _sync_draws(config, now):
    """Records of drawn plans whose results are not yet public (or have changed since)."""
    from models.draws import DRAWN, Draw

    changed = 0
    known = {d.draw_id: d for d in Disclosure.select().where(Disclosure.source == "draw")}
    for draw in Draw.select().where(Draw.status == DRAWN):
        existing = known.get(draw.id)
        if existing is not None and existing.status in (WITHHELD, WITHDRAWN, EXPIRED):
            continue
        fresh = _from_draw(config, draw)
        if fresh is None:
            continue
        if existing is None:
            fresh.save(force_insert=True)
            log_event(fresh, "生成", now, reason=f"到期日{fresh.due_on}")
            changed += 1
        elif existing.original != fresh.original or existing.due_on != fresh.due_on:
            was_public = existing.status == PUBLISHED
            _copy_content(existing, fresh)
            if was_public:
                existing.change, existing.change_reason = CORRECTION, "登记了新的检查结果"
                existing.change_due = due_date(config, now.date(), CORRECTION).due
            existing.updated_at = now
            existing.save()
            changed += 1
    return changed


# -- the clock's steps (notices/publication.py runs them in order) --------------------------------------

def recompute_provisional(config, now=None):
    """Due dates counted on a guessed calendar, counted again (the schedule may have been entered)."""
    now = _now(now)
    changed = 0
    for row in Disclosure.select().where((Disclosure.due_provisional == True) & (Disclosure.status == PENDING)):  # noqa: E712
        if row.source == "draw":
            from models.draws import Draw
            draw = Draw.get_or_none(Draw.id == row.draw_id)
            if draw is None:
                continue
            deadline = draw.publication_due(config)
        else:
            deadline = due_date(config, row.decided_on, row.category)
        if deadline.due != row.due_on or deadline.provisional != row.due_provisional:
            old = row.due_on
            row.due_on, row.due_provisional, row.updated_at = deadline.due, deadline.provisional, now
            row.save()
            log_event(row, "期限重算", now, by="系统", reason=f"{old} → {deadline.due}"
                   + ("（仍为暂定）" if deadline.provisional else "（已按节假日安排确定）"))
            changed += 1
    return changed


def ready_query(config):
    """Pending records the policy lets the clock publish: served, and confirmed when it asks for that."""
    query = Disclosure.select().where((Disclosure.status == PENDING) & Disclosure.served_on.is_null(False))
    if settings(config)["policy"] == "confirm":
        query = query.where(Disclosure.confirmed_by.is_null(False))
    return query


def publish(config, row, now=None, by="系统"):
    """公开 one pending record now; its display period starts today."""
    now = _now(now)
    if row.status != PENDING:
        raise PublicationError(f"第{row.id}号公开记录的状态是“{row.status}”，不能公开。")
    row.status, row.published_at, row.updated_at = PUBLISHED, now, now
    row.on_time = now.date() <= row.due_on
    months = settings(config)["display_months"].get(row.severity, settings(config)["display_months"]["一般"])
    row.expires_on = add_months(now.date(), int(months))
    row.save()
    log_event(row, "公开", now, by=by, public=True, reason="" if row.on_time else f"超过公开期限（{row.due_on}）",
              config=config)
    return row


def publish_ready(config, now=None, limit=None):
    """Publish what the policy lets the clock publish (at most `limit`, soonest due first)."""
    published = 0
    for row in ready_query(config).order_by(Disclosure.due_on, Disclosure.id).limit(limit):
        publish(config, row, now)
        published += 1
    return published


def publish_changes(config, now=None, limit=None):
    """A published record whose decision was corrected: the corrected text goes out, marked 已更新."""
    now = _now(now)
    query = Disclosure.select().where((Disclosure.status == PUBLISHED) & (Disclosure.change == CORRECTION))
    if settings(config)["policy"] == "confirm":
        query = query.where(Disclosure.confirmed_by.is_null(False))
    done = 0
    for row in query.order_by(Disclosure.id).limit(limit):
        _publish_update(config, row, row.change_reason, now, "系统")
        done += 1
    return done


def _publish_update(config, row, reason, now, by):
    row.version += 1
    row.public_note = f"已更新：{reason}" if reason else "已更新"
    row.change, row.change_reason, row.updated_at = "", "", now
    row.save()
    log_event(row, "更新", now, by=by, reason=reason, public=True, config=config)


def expire(today, now=None, limit=None):
    """到期下线: published records past their display period leave the public pages (the log keeps them)."""
    now = _now(now)
    rows = list(Disclosure.select().where((Disclosure.status == PUBLISHED) & (Disclosure.expires_on < today))
                .order_by(Disclosure.id).limit(limit))
    for row in rows:
        row.status, row.updated_at = EXPIRED, now
        row.save()
        log_event(row, "到期下线", now, by="系统", reason=f"公示期限至{row.expires_on}届满")
    return len(rows)


def due_soon(config, today, limit=None):
    """Pending records due within `remind_before_workdays` working days, not yet reminded for that date."""
    horizon = working_calendar(config).add_workdays(today, settings(config)["remind_before_workdays"]).due
    return list(Disclosure.select().where(
        (Disclosure.status == PENDING) & (Disclosure.due_on >= today) & (Disclosure.due_on <= horizon)
        & (Disclosure.reminded_for.is_null() | (Disclosure.reminded_for != Disclosure.due_on)))
        .order_by(Disclosure.due_on, Disclosure.id).limit(limit))


def overdue(today, limit=None):
    """Pending records past their due date that have not been raised to the heads yet."""
    return list(Disclosure.select().where((Disclosure.status == PENDING) & (Disclosure.due_on < today)
                                          & Disclosure.escalated_on.is_null())
                .order_by(Disclosure.due_on, Disclosure.id).limit(limit))


# -- staff acts ---------------------------------------------------------------------------------------

def _one_transaction(act):
    """A staff act and what it queues (the bound party's message) are written together or not at all."""
    @functools.wraps(act)
    def run(*args, **kwargs):
        with db.atomic():
            return act(*args, **kwargs)
    return run


def _require(staff, act, row=None):
    try:
        authorize(staff, act, row)
    except NotAllowed as exc:
        raise PublicationError(str(exc)) from None


def get(value):
    row = Disclosure.by_id(value)
    if row is None:
        raise PublicationError(f"没有第{value}号公开记录，请核对编号（`bot.py publication list` 可查看）。")
    return row


def _reason(text, what):
    text = " ".join(str(text or "").split())
    if len(text) < 4:
        raise PublicationError(f"请写明{what}（至少4个字），它会记录在案。")
    return text


@_one_transaction
def correct_masking(config, row, staff, *, keep=(), extra=(), reason, now=None):
    """人工更正 of the masking: fragments to keep or to hide besides the rules; on record with who and why.
    A published record goes out again at once, marked 已更新 (a hidden fragment must not stay out)."""
    _require(staff, "publication.manage", row)
    reason = _reason(reason, "更正理由")
    now = _now(now)
    keep = [k.strip() for k in keep if k and k.strip()]
    extra = [e.strip() for e in extra if e and e.strip()]
    if not keep and not extra:
        raise PublicationError("请写明要保留或要隐去的文字。")
    missing = [f for f in keep + extra if f not in row.original and f not in row.conclusion]
    if missing:
        raise PublicationError(f"原文中没有“{'”“'.join(missing)}”，请核对。")
    row.keep = json.dumps(sorted(set(row.keep_list()) | set(keep)), ensure_ascii=False)
    row.extra = json.dumps(sorted(set(row.extra_list()) | set(extra)), ensure_ascii=False)
    _apply_mask(row)
    row.updated_at = now
    row.save()
    what = "；".join(filter(None, [f"保留：{'、'.join(keep)}" if keep else "", f"隐去{len(extra)}处" if extra else ""]))
    log_event(row, "人工更正", now, by=staff.label, reason=f"{reason}（{what}）")
    if row.status == PUBLISHED:
        _publish_update(config, row, "更正个人信息处理", now, staff.label)
    return row


def confirm(config, row, staff, now=None):
    """确认公开: a member of staff checked the masked text (needed when `publication.policy` is confirm)."""
    _require(staff, "publication.manage", row)
    if row.status != PENDING and row.change != CORRECTION:
        raise PublicationError(f"第{row.id}号公开记录的状态是“{row.status}”，无需确认。")
    now = _now(now)
    row.confirmed_by, row.updated_at = staff.label, now
    row.save()
    log_event(row, "确认", now, by=staff.label)
    return row


@_one_transaction
def publish_now(config, row, staff, now=None):
    """A member of staff publishes a pending record at once (it was checked; no need to wait for the clock)."""
    _require(staff, "publication.manage", row)
    if row.status == PENDING and row.served_on is None:
        raise PublicationError("决定尚未送达当事人，送达后再公开（送达环节记录后系统自动处理）。")
    row.confirmed_by = row.confirmed_by or staff.label
    if row.status == PUBLISHED and row.change == CORRECTION:
        _publish_update(config, row, row.change_reason, _now(now), staff.label)
        return row
    return publish(config, row, now, by=staff.label)


@_one_transaction
def withhold(config, row, staff, reason, now=None):
    """不予公开 with a recorded reason (a minor, state or trade secrets, privacy); a published one is taken
    down at once, and the public sees only that it was withdrawn."""
    _require(staff, "publication.manage", row)
    reasons = settings(config)["withhold_reasons"]
    reason = " ".join(str(reason or "").split())
    if reason not in reasons and len(reason) < 4:
        raise PublicationError(f"请写明不予公开的理由，可选：{'、'.join(reasons)}。")
    if row.status in (WITHHELD, WITHDRAWN, EXPIRED):
        raise PublicationError(f"第{row.id}号公开记录已是“{row.status}”。")
    now = _now(now)
    if row.status == PUBLISHED:
        return withdraw(config, row, staff, "依法不予公开", revoked_on=now.date(), now=now, internal_reason=reason)
    row.status, row.withheld_reason, row.updated_at = WITHHELD, reason, now
    row.save()
    log_event(row, "不予公开", now, by=staff.label, reason=reason)
    return row


@_one_transaction
def withdraw(config, row, staff, reason, *, revoked_on, now=None, internal_reason=""):
    """撤回 (《行政处罚法》第四十八条第二款): the decision was changed, revoked, confirmed illegal or void;
    the publication is taken down with the public reason, within 3 working days of `revoked_on`."""
    _require(staff, "publication.manage", row)
    reason = _reason(reason, "撤回的公开理由（如：该决定已被行政复议决定撤销）")
    if row.status != PUBLISHED:
        raise PublicationError(f"第{row.id}号公开记录的状态是“{row.status}”，只能撤回已公开的记录。")
    revoked_on = _as_date(revoked_on)
    now = _now(now)
    if revoked_on is None or revoked_on > now.date():
        raise PublicationError("请写明决定被变更、撤销或确认违法、无效的日期（不晚于今天），如 2026-12-01。")
    due = due_date(config, revoked_on, WITHDRAWAL)
    row.status, row.public_note, row.updated_at = WITHDRAWN, f"已撤回：{reason}", now
    row.change, row.change_reason, row.change_due = "", "", due.due
    row.save()
    late = "" if now.date() <= due.due else f"（超过撤回期限{due.due}）"
    log_event(row, "撤回", now, by=staff.label, reason=reason + late, public=True, config=config)
    if internal_reason:
        log_event(row, "不予公开", now, by=staff.label, reason=internal_reason)
    return row


def set_severity(config, row, staff, severity, reason, now=None):
    """Change the severity (and so the display period; a published record's end date moves with it)."""
    _require(staff, "publication.manage", row)
    if severity not in SEVERITIES:
        raise PublicationError(f"严重程度只能是{'、'.join(SEVERITIES)}。")
    reason = _reason(reason, "调整理由")
    now = _now(now)
    row.severity, row.updated_at = severity, now
    if row.status == PUBLISHED and row.published_at:
        row.expires_on = add_months(row.published_at.date(), int(settings(config)["display_months"][severity]))
    row.save()
    log_event(row, "调整公示期限", now, by=staff.label, reason=f"{severity}：{reason}")
    return row


def staff_for(who):
    """The member of staff acting as `who` (name or openid), or None."""
    return Staff.find(who) or Staff.acting_as(who)


def heads():
    return [s for s in Staff.select().where((Staff.active == True) & Staff.openid.is_null(False))  # noqa: E712
            if s.role == HEAD]


def responsible(row):
    """Who answers for a record's deadline: its officers with a WeChat account (the heads when none)."""
    certs = [c for c in row.handlers.split(",") if c]
    found = []
    if certs:
        from models.disclosure import Officer
        officers = Officer.select(Officer.id).where(Officer.cert_no.in_(certs))
        found = list(Staff.select().where((Staff.active == True) & Staff.openid.is_null(False)  # noqa: E712
                                          & Staff.officer.in_(officers)))
    return found or heads()


# -- what the public reads ----------------------------------------------------------------------------

def public_query(*, q="", category="", date_from=None, date_to=None, party="", item=""):
    """Public records, newest decision first, filtered. Text matches published fields only: a withdrawn
    record is found by its decision number, never by the party's name."""
    query = Disclosure.select().where(Disclosure.listed == True)  # noqa: E712 — see Disclosure.listed
    if category:
        query = query.where(Disclosure.category == category)
    if date_from:
        query = query.where(Disclosure.decided_on >= date_from)
    if date_to:
        query = query.where(Disclosure.decided_on <= date_to)
    party, item = _like_term(party), _like_term(item)
    if party:
        query = query.where(Disclosure.search_text ** f"%{party}%{PARTY_END}%")
    if item:
        query = query.where(Disclosure.search_text ** f"%{PARTY_END}%{item}%{ITEM_END}%")
    for term in q.split():
        query = query.where(Disclosure.search_text.contains(term))
    return query.order_by(Disclosure.decided_on.desc(), Disclosure.id.desc())


# Beyond this many matches a list says "1000+" (narrow the search) rather than counting every match on
# every page view: counting is what costs, the page itself walks an index (Disclosure.listed).
COUNT_CAP = 1_000


def public_page(query, page, size):
    """(rows, total) of one page; total stops at COUNT_CAP + 1 (shown as "1000+"). A first page that is
    not full is the whole answer: no second pass over the rows to count them (a rare word's search)."""
    rows = list(query.paginate(page, size))
    if page == 1 and len(rows) < size:
        return rows, len(rows)
    # Counted without the order: sorting every match only to count them was most of the page's time.
    return rows, query.order_by().limit(COUNT_CAP + 1).count()


def public_record(value):
    """A record anyone may read: published or withdrawn (its notice); None for anything else."""
    row = Disclosure.by_id(value)
    return row if row is not None and row.is_public() else None


def categories():
    """The 执法类别 a record can have: those of the bureau's items (a small table), and 行政检查 for the
    双随机 results; not read from the records, which would scan them on every page view."""
    found = EnforcementItem.categories()
    return found + ([] if "行政检查" in found else ["行政检查"])


def shown_total(total):
    return f"{COUNT_CAP}+" if total > COUNT_CAP else str(total)


def monthly_stats(months=12, today=None):
    """Per month of the due date: due, published on time, published late, still waiting past the date,
    withheld. A month with nothing due is left out."""
    today = today or dt.date.today()
    first = add_months(today.replace(day=1), -(months - 1))
    month = fn.strftime("%Y-%m", Disclosure.due_on) if is_sqlite() else fn.to_char(Disclosure.due_on, "YYYY-MM")
    rows = (Disclosure.select(month.alias("month"), Disclosure.status, Disclosure.on_time, fn.COUNT(Disclosure.id).alias("n"))
            .where(Disclosure.due_on >= first).group_by(month, Disclosure.status, Disclosure.on_time).tuples())
    table = {}
    for key, status, on_time, n in rows:
        entry = table.setdefault(key, {"month": key, "due": 0, "on_time": 0, "late": 0, "waiting": 0, "overdue": 0,
                                       "withheld": 0})
        if status == WITHHELD:
            entry["withheld"] += n
            continue
        entry["due"] += n
        if status == PENDING:
            entry["waiting"] += n
        elif on_time:
            entry["on_time"] += n
        else:
            entry["late"] += n
    for entry in table.values():
        if entry["waiting"]:
            entry["overdue"] = Disclosure.select().where(
                (Disclosure.status == PENDING) & (Disclosure.due_on < today) & (month == entry["month"])).count()
        done = entry["on_time"] + entry["late"]
        entry["rate"] = round(100 * entry["on_time"] / done) if done else None
    return sorted(table.values(), key=lambda e: e["month"], reverse=True)


def public_proof(config, seq):
    """/ledger/proof for the public: the inclusion proof of a decision's entry only while its record is
    published, with the entry's bytes replaced by the published (de-identified) record; the leaf hash
    and the audit path still prove it is in the signed log. (None, reason) when it may not be served."""
    from models import treehead

    row = Disclosure.by_entry(seq)
    if row is None or row.status != PUBLISHED:
        return None, "只提供已公开的行政执法决定的记录证明；该记录未公开、已撤回或已到期。"
    document = treehead.inclusion_proof_document(config, seq)
    if document is None:
        return None, "该记录尚未纳入已发布的签名树头（每日发布），请明天再下载。"
    entry = document["entry"]
    document["entry"] = {"seq": entry["seq"], "case": entry["case"], "step": entry["step"], "body": None,
                         "body_withheld": PROOF_NOTE, "published": row.public_fields()}
    return document, None
