"""双随机、一公开 — random inspections that anyone can re-run and check.

Two pools: targets (市场主体: name, 统一社会信用代码, category, address, risk flags) kept here, and
inspectors, who are the officers of models/disclosure.py whose certificate is valid on the draw day.
Conflicts (回避) are recorded per inspector and target with a reason. A plan names items of the
《随机抽查事项清单》, a ratio per category (config.yaml `draws.default_ratios`), a higher ratio for
risk-flagged targets if wanted, inspectors per target (at least 2) and the period.

A draw is committed, then revealed, then run (the rule itself, and the checker anyone can download,
is models/draw_rule.py):
1. commit: the pools and the plan are frozen as files, a fresh 32-byte secret is drawn, and the
   commitment (hashes of the files and of the secret, the name of a public value not yet known and the
   draw day) is published and written to the case-file log;
2. reveal: once that value is public (a 双色球 draw, an index close), staff enter it; the seed is
   SHA-256(secret ‖ value), so neither the bureau (who cannot know the value) nor anyone who learns the
   value (who lacks the secret) could choose it;
3. run: the rule draws from the frozen files; the seed, pools and result are published together.
Every step, and each inspection's outcome, is an entry of the append-only log (models/ledger.py).
"""
import datetime as dt
import hashlib
import json
import secrets

from peewee import CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from models import draw_rule, ledger
from models.catalogue import RowError, duplicate_errors, refuse_unless_valid
from models.database import BaseModel, db
from models.disclosure import InspectionItem, Officer
from models.excel import read_rows, write_rows
from models.staff import NotAllowed, Staff, authorize
from models.workdays import working_calendar

# GB 32100-2015《法人和其他组织统一社会信用代码编码规则》: 18 characters from this set (no I, O, S, V, Z);
# the 18th is a check character computed with these weights, modulo 31.
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
COMMITTED, REVEALED, DRAWN = "已承诺", "已揭示", "已抽取"
KIND = "draw"  # the log's kind for every entry of a draw
CONFLICTS_CASE = "双随机抽查回避"  # where conflicts are logged as they are recorded or withdrawn
MAX_LENGTH = 255


class DrawError(ValueError):
    """Something a draw may not do; the message is Chinese and says what to do instead."""


def uscc_check_char(first17):
    """The check character of the first 17 characters of a 统一社会信用代码 (GB 32100-2015 §5)."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_CHARS[(31 - total % 31) % 31]


def uscc_problem(code):
    """Why `code` is not a valid 统一社会信用代码, or None when it is."""
    code = (code or "").strip().upper()
    if len(code) != 18:
        return f"统一社会信用代码应为18位，“{code}”是{len(code)}位"
    bad = sorted({c for c in code if c not in USCC_CHARS})
    if bad:
        return f"统一社会信用代码“{code}”含有不允许的字符：{''.join(bad)}（不使用 I、O、S、V、Z）"
    if uscc_check_char(code[:17]) != code[17]:
        return f"统一社会信用代码“{code}”校验位不对（应为 {uscc_check_char(code[:17])}），请核对营业执照"
    return None


def draw_settings(config):
    return config["draws"]


# -- pools ------------------------------------------------------------------------------------------

class DrawTarget(BaseModel):
    """抽查对象 — a market entity in the pool of targets."""

    uscc = CharField(unique=True, max_length=18)
    name = CharField()
    category = CharField()
    address = CharField(default="")
    risk_flags = CharField(default="")  # e.g. 有违法记录、被投诉; joined with "、"; empty = none
    active = IntegerField(default=1)  # 0: closed or moved away; kept so past draws still read

    class Meta:
        table_name = "draw_target"

    @property
    def risky(self):
        return bool(self.risk_flags.strip())

    @classmethod
    def by_uscc(cls, uscc):
        return cls.get_or_none(cls.uscc == (uscc or "").strip().upper())


class DrawConflict(BaseModel):
    """回避 — an inspector who may not inspect a target, and why (kept internal; the pair is published)."""

    cert_no = CharField()
    uscc = CharField(max_length=18)
    reason = CharField()
    recorded_by = CharField()
    recorded_at = DateTimeField()

    class Meta:
        table_name = "draw_conflict"
        indexes = ((("cert_no", "uscc"), True),)


TARGET_COLUMNS = [("uscc", "统一社会信用代码"), ("name", "名称"), ("category", "类别"), ("address", "地址"),
                  ("risk_flags", "风险标记")]
TARGET_REQUIRED = ("uscc", "name", "category")


def validate_target(config, row, number):
    labels = dict(TARGET_COLUMNS)
    errors = [RowError(number, f"“{labels[f]}”不能为空") for f in TARGET_REQUIRED if not row.get(f)]
    for field, label in TARGET_COLUMNS:
        if len(str(row.get(field) or "")) > MAX_LENGTH:
            errors.append(RowError(number, f"“{label}”超过{MAX_LENGTH}字"))
    if row.get("uscc"):
        row["uscc"] = str(row["uscc"]).strip().upper()
        problem = uscc_problem(row["uscc"])
        if problem:
            errors.append(RowError(number, problem))
    categories = draw_settings(config)["categories"]
    if row.get("category") and row["category"] not in categories:
        errors.append(RowError(number, f"类别“{row['category']}”无效，应为：{'、'.join(categories)}"))
    return errors


def import_targets(config, rows):
    """Add or update targets by 统一社会信用代码, all rows or none; returns (created, updated)."""
    rows = list(rows)
    errors = [e for number, row in rows for e in validate_target(config, row, number)]
    refuse_unless_valid(rows, errors + duplicate_errors(rows, "uscc", "统一社会信用代码"), "表格中没有抽查对象")
    created = updated = 0
    with db.atomic():
        for _, row in rows:
            values = {f: str(row.get(f) or "").strip() for f, _ in TARGET_COLUMNS}
            values["risk_flags"] = "、".join(p for p in values["risk_flags"].replace(",", "、").replace("，", "、")
                                            .split("、") if p.strip())
            existing = DrawTarget.by_uscc(values["uscc"])
            if existing is None:
                DrawTarget.create(**values)
                created += 1
            else:
                DrawTarget.update(**values, active=1).where(DrawTarget.id == existing.id).execute()
                updated += 1
    return created, updated


def add_target(config, **values):
    """One target from the command line, checked as an Excel row would be."""
    row = {k: v for k, v in values.items() if v}
    errors = validate_target(config, row, 1)
    if not errors and DrawTarget.by_uscc(row["uscc"]):
        errors.append(RowError(1, f"统一社会信用代码“{row['uscc']}”已在对象库中"))
    if errors:
        raise DrawError("；".join(e.reason for e in errors))
    return import_targets(config, [(1, row)])


def read_target_rows(path):
    return read_rows(path, TARGET_COLUMNS, TARGET_REQUIRED)


def write_targets(path):
    rows = [[t.uscc, t.name, t.category, t.address, t.risk_flags] for t in
            DrawTarget.select().where(DrawTarget.active == 1).order_by(DrawTarget.category, DrawTarget.uscc)]
    return write_rows(path, "抽查对象名录库", TARGET_COLUMNS, rows, (22, 30, 12, 36, 24))


def deactivate_target(uscc):
    target = DrawTarget.by_uscc(uscc)
    if target is None:
        raise DrawError(f"对象库中没有统一社会信用代码为“{uscc}”的对象。")
    DrawTarget.update(active=0).where(DrawTarget.id == target.id).execute()
    return target


def add_conflict(cert_no, uscc, reason, by):
    """Record that inspector `cert_no` stays out of inspecting `uscc`, and why."""
    officer, target = Officer.by_cert_no(cert_no), DrawTarget.by_uscc(uscc)
    if officer is None:
        raise DrawError(f"执法证号“{cert_no}”不存在，请核对。")
    if target is None:
        raise DrawError(f"对象库中没有统一社会信用代码为“{uscc}”的对象。")
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise DrawError("请写明回避理由（如：近亲属在该单位任职）。")
    if DrawConflict.get_or_none(DrawConflict.cert_no == officer.cert_no, DrawConflict.uscc == target.uscc):
        raise DrawError(f"{officer.name}与{target.name}的回避已登记。")
    at = ledger.now()
    with ledger.writing():
        conflict = DrawConflict.create(cert_no=officer.cert_no, uscc=target.uscc, reason=reason, recorded_by=by,
                                       recorded_at=at.replace(tzinfo=None))
        # On the record, like every step of a draw; kept out of the draws' own entries, whose inclusion
        # proofs are public, because a reason may concern an officer's family.
        ledger.append(KIND, {"cert_no": officer.cert_no, "uscc": target.uscc, "reason": reason},
                      case_no=CONFLICTS_CASE, step="回避", by=by, at=at)
    return conflict


def remove_conflict(cert_no, uscc, by):
    cert_no, uscc = (cert_no or "").strip(), (uscc or "").strip().upper()
    with ledger.writing():
        count = DrawConflict.delete().where(DrawConflict.cert_no == cert_no, DrawConflict.uscc == uscc).execute()
        if not count:
            raise DrawError("没有这条回避记录。")
        ledger.append(KIND, {"cert_no": cert_no, "uscc": uscc}, case_no=CONFLICTS_CASE, step="撤销回避", by=by)


def eligible_inspectors(day):
    """Officers whose certificate may be used on `day` (the inspector pool of a draw that day)."""
    return [o for o in Officer.select().order_by(Officer.cert_no) if o.verdict(day) == "有效"]


# -- plans ------------------------------------------------------------------------------------------

class DrawPlan(BaseModel):
    """抽查计划 — what is inspected, how many of each category, by how many inspectors, when."""

    name = CharField(unique=True)
    items = TextField()  # JSON list of 随机抽查事项 names
    ratios = TextField()  # JSON {category: percent}
    risk_ratio = IntegerField(null=True)  # percent for risk-flagged targets; None: no separate stratum
    inspectors_per_target = IntegerField(default=2)
    period_start = DateField()
    period_end = DateField()
    created_by = CharField()
    created_at = DateTimeField()

    class Meta:
        table_name = "draw_plan"

    @classmethod
    def by_name(cls, name):
        return cls.get_or_none(cls.name == (name or "").strip())

    def document(self):
        """plan.json: what the commitment covers."""
        return {"plan": self.name, "items": json.loads(self.items), "ratios": json.loads(self.ratios),
                "risk_ratio": self.risk_ratio, "inspectors_per_target": self.inspectors_per_target,
                "period": [self.period_start.isoformat(), self.period_end.isoformat()]}


def _percent(value, label):
    try:
        number = int(str(value).strip().rstrip("%"))
    except ValueError:
        raise DrawError(f"{label}“{value}”应为1到100的整数百分比。") from None
    if not 1 <= number <= 100:
        raise DrawError(f"{label}“{value}”应为1到100的整数百分比。")
    return number


def create_plan(config, staff, *, name, items, ratios=None, risk_ratio=None, inspectors=None, start, end):
    """Create a plan after checking it; ratios not given come from config `draws.default_ratios`."""
    require(staff, "draw.manage")
    settings = draw_settings(config)
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise DrawError("请写明计划名称（60字以内），如“2026年第四季度文化市场双随机抽查”。")
    if DrawPlan.by_name(name):
        raise DrawError(f"计划“{name}”已存在，请换一个名称。")
    known = {i.name for i in InspectionItem.published()}
    items = [i.strip() for i in items if i and i.strip()]
    unknown = [i for i in items if i not in known]
    if not items or unknown:
        raise DrawError(f"抽查事项须出自《随机抽查事项清单》{('，没有：' + '、'.join(unknown)) if unknown else ''}。"
                        f"可选：{'、'.join(sorted(known))}")
    chosen = {}
    for category, value in (ratios or {}).items():
        if category not in settings["categories"]:
            raise DrawError(f"类别“{category}”无效，应为：{'、'.join(settings['categories'])}")
        chosen[category] = _percent(value, f"{category}的抽查比例")
    if not chosen:
        chosen = {c: int(p) for c, p in settings["default_ratios"].items()}
    risk = _percent(risk_ratio, "风险对象的抽查比例") if risk_ratio not in (None, "") else None
    k = int(inspectors or settings["min_inspectors"])
    if k < settings["min_inspectors"]:
        raise DrawError(f"每个检查对象的执法人员不得少于{settings['min_inspectors']}人（{settings['min_inspectors_source']}）。")
    try:
        start, end = dt.date.fromisoformat(str(start)), dt.date.fromisoformat(str(end))
    except ValueError:
        raise DrawError("检查期间的日期应写成 2026-12-01 的形式。") from None
    if end < start:
        raise DrawError("检查期间的结束日期早于开始日期。")
    return DrawPlan.create(name=name, items=json.dumps(items, ensure_ascii=False),
                           ratios=json.dumps(chosen, ensure_ascii=False, sort_keys=True), risk_ratio=risk,
                           inspectors_per_target=k, period_start=start, period_end=end, created_by=staff.label,
                           created_at=ledger.now().replace(tzinfo=None))


# -- draws ------------------------------------------------------------------------------------------

class Draw(BaseModel):
    """一次抽取 — a draw of a plan: its frozen files, the secret until revealed, and the result."""

    plan = ForeignKeyField(DrawPlan, backref="draws", on_delete="RESTRICT")
    status = CharField(default=COMMITTED)
    files = TextField()  # JSON {plan, targets, inspectors, conflicts, commitment}, frozen at commit
    commitment = CharField(max_length=64)
    secret = CharField(max_length=64)  # hex; published only at reveal
    public_value_source = CharField()
    draw_on = DateField()
    committed_by = CharField()
    committed_at = DateTimeField()
    public_value = CharField(null=True)
    seed = CharField(null=True, max_length=64)
    revealed_at = DateTimeField(null=True)
    result = TextField(null=True)  # result.json
    ran_at = DateTimeField(null=True)

    class Meta:
        table_name = "draw"

    @property
    def case_no(self):
        """The draw's name in the case-file log."""
        return f"双随机抽查第{self.id}号"

    def frozen(self):
        return json.loads(self.files)

    def published_files(self):
        """name -> document of what is public now: plan and commitment from the commit; everything
        (with the secret and seed) once the draw has run."""
        files = self.frozen()
        public = {"plan": files["plan"], "commitment": files["commitment"]}
        if self.status == DRAWN:
            public.update(files)
            public["reveal"] = {"secret": self.secret, "public_value": self.public_value, "seed": self.seed}
            public["result"] = json.loads(self.result)
        return public

    def result_document(self):
        return json.loads(self.result) if self.result else None

    def inspection_end(self):
        """The day the inspection ended: the last outcome's day when every drawn target has one, else the
        plan's last day."""
        result, found = self.result_document(), outcomes(self)
        if result and result["selected"] and all(t["uscc"] in found for t in result["selected"]):
            return max(dt.date.fromisoformat(o["ended_on"]) for o in found.values())
        return self.plan.period_end

    def publication_due(self, config):
        """公开期限: the Deadline by which the results must be public (config `draws.publish_within`)."""
        days = draw_settings(config)["publish_within_working_days"]
        return working_calendar(config).add_workdays(self.inspection_end(), days)

    @classmethod
    def latest_drawn(cls):
        return cls.select().where(cls.status == DRAWN).order_by(cls.ran_at.desc(), cls.id.desc()).first()


def require(staff, act, subject=None):
    """Raise DrawError (Chinese, naming the role needed) unless `staff` may do `act`."""
    try:
        authorize(staff, act, subject)
    except NotAllowed as exc:
        raise DrawError(str(exc)) from None


def snapshot(plan, config):
    """The pools as files: active targets of the plan's categories, all officers (eligibility on the draw
    day is the rule's business, so anyone can check it), and the conflict pairs (reasons stay internal)."""
    categories = sorted(json.loads(plan.ratios))
    # Only what the rule needs and a business shows on its licence anyway: no address (a 个体工商户's may be
    # a home), and whether a target carries a risk flag, never which one.
    targets = [{"uscc": t.uscc, "name": t.name, "category": t.category, "risk": t.risky}
               for t in DrawTarget.select().where(DrawTarget.active == 1, DrawTarget.category.in_(categories))
               .order_by(DrawTarget.uscc)]
    inspectors = [{"cert_no": o.cert_no, "name": o.name, "status": o.status, "valid_from": o.valid_from.isoformat(),
                   "valid_to": o.valid_to.isoformat()} for o in Officer.select().order_by(Officer.cert_no)]
    conflicts = sorted([c.cert_no, c.uscc] for c in DrawConflict.select())
    return targets, inspectors, conflicts


def commit(config, plan_name, staff, *, public_value_source, draw_on, secret=None, at=None):
    """承诺: freeze the pools and the plan, draw a secret, publish and log the commitment. Returns the Draw.

    `secret` (hex) is for tests only; a real draw always takes a fresh one."""
    require(staff, "draw.manage")
    at = at or ledger.now()
    plan = DrawPlan.by_name(plan_name)
    if plan is None:
        raise DrawError(f"没有名为“{plan_name}”的抽查计划，请先用 draw plan 制定。")
    earlier = Draw.select().where(Draw.plan == plan).first()
    if earlier is not None:
        # One commitment per plan: with several, whoever holds the secrets could pick, once the public
        # value is out, the draw whose result suits them.
        raise DrawError(f"计划“{plan.name}”已于{earlier.committed_at:%Y-%m-%d}承诺（第{earlier.id}号抽取），不能再次承诺；"
                        "如需重新抽取，请另定计划并说明理由。")
    source = " ".join((public_value_source or "").split())
    if len(source) < 6:
        raise DrawError("请写明用哪一个尚未公布的公开数值生成种子，如“中国福利彩票双色球2026140期开奖号码”。")
    try:
        draw_on = dt.date.fromisoformat(str(draw_on))
    except ValueError:
        raise DrawError("抽取日期应写成 2026-12-02 的形式。") from None
    if draw_on <= at.date():
        raise DrawError("公开数值须在承诺之后才公布：抽取日期应晚于今天。")
    secret = secret or secrets.token_hex(32)
    targets, inspectors, conflicts = snapshot(plan, config)
    if not targets:
        raise DrawError("对象库中没有本计划所列类别的对象，请先导入抽查对象。")
    plan_doc = plan.document()
    commitment_doc = draw_rule.commitment_document(
        None, plan_doc, targets, inspectors, conflicts, hashlib.sha256(bytes.fromhex(secret)).hexdigest(),
        source, draw_on.isoformat())
    with ledger.writing():
        draw = Draw.create(plan=plan, files="{}", commitment="", secret=secret, public_value_source=source,
                           draw_on=draw_on, committed_by=staff.label, committed_at=at.replace(tzinfo=None))
        commitment_doc["draw"] = draw.id
        files = {"plan": plan_doc, "targets": targets, "inspectors": inspectors, "conflicts": conflicts,
                 "commitment": commitment_doc}
        draw.files, draw.commitment = json.dumps(files, ensure_ascii=False), draw_rule.digest(commitment_doc)
        draw.save()
        ledger.append(KIND, {"draw": draw.id, "plan": plan.name, "commitment": draw.commitment,
                             "commitment_document": commitment_doc},
                      case_no=draw.case_no, step="承诺", by=staff.label, at=at)
    return draw


def draw_by_id(draw_id):
    """The draw numbered `draw_id`, or None (also for anything not a number an id column can hold)."""
    try:
        number = int(str(draw_id).strip())
    except ValueError:
        return None
    return Draw.get_or_none(Draw.id == number) if 0 < number < 2**31 else None


def get_draw(draw_id):
    draw = draw_by_id(draw_id)
    if draw is None:
        raise DrawError(f"没有编号为“{draw_id}”的抽取。")
    return draw


def latest_of_plan(plan_name):
    plan = DrawPlan.by_name(plan_name)
    if plan is None:
        raise DrawError(f"没有名为“{plan_name}”的抽查计划。")
    draw = Draw.select().where(Draw.plan == plan).order_by(Draw.id.desc()).first()
    if draw is None:
        raise DrawError(f"计划“{plan_name}”尚未承诺，请先运行 draw commit。")
    return draw


def reveal(config, draw_id, staff, public_value, at=None):
    """揭示: enter the public value once it is published; the seed follows. Logged."""
    require(staff, "draw.manage")
    at = at or ledger.now()
    value = draw_rule.normalize_public_value(public_value)
    if not value:
        raise DrawError("请录入公布的数值（如双色球开奖号码“03 07 12 19 25 31 + 08”）。")
    with ledger.writing():
        draw = get_draw(draw_id)
        if draw.status != COMMITTED:
            raise DrawError(f"第{draw.id}号抽取已录入公开数值（{draw.public_value}），不能更改。")
        if at.date() < draw.draw_on:
            raise DrawError(f"承诺的公开数值在{draw.draw_on}公布，今天还不能录入。")
        seed = draw_rule.derive_seed(draw.secret, value)
        Draw.update(status=REVEALED, public_value=value, seed=seed, revealed_at=at.replace(tzinfo=None)) \
            .where(Draw.id == draw.id).execute()
        ledger.append(KIND, {"draw": draw.id, "public_value_source": draw.public_value_source, "public_value": value,
                             "secret": draw.secret, "seed": seed}, case_no=draw.case_no, step="揭示",
                      by=staff.label, at=at)
    return get_draw(draw.id)


def run(config, draw_id, staff, at=None):
    """抽取: apply the rule to the frozen files and the seed; publish and log the result."""
    require(staff, "draw.manage")
    at = at or ledger.now()
    with ledger.writing():
        draw = get_draw(draw_id)
        if draw.status == COMMITTED:
            raise DrawError(f"第{draw.id}号抽取尚未录入公开数值，请先运行 draw reveal。")
        if draw.status == DRAWN:
            raise DrawError(f"第{draw.id}号抽取已完成，结果不能重抽。")
        result = compute(draw)
        Draw.update(status=DRAWN, result=json.dumps(result, ensure_ascii=False), ran_at=at.replace(tzinfo=None)) \
            .where(Draw.id == draw.id).execute()
        ledger.append(KIND, {"draw": draw.id, "result_sha256": draw_rule.digest(result),
                             "selected": [[t["uscc"], t["inspectors"]] for t in result["selected"]],
                             "unassigned": [[t["uscc"], t["reason"]] for t in result["unassigned"]]},
                      case_no=draw.case_no, step="抽取", by=staff.label, at=at)
    return get_draw(draw.id)


def unavailable_now(draw, today):
    """Assigned inspectors whose certificate is no longer valid `today` (suspended or expired since the
    draw day): the draw stands as published, but they may not be sent; staff arrange a replacement."""
    result = draw.result_document() or {"selected": []}
    certs = sorted({c for t in result["selected"] for c in t["inspectors"]})
    officers = {o.cert_no: o for o in Officer.select().where(Officer.cert_no.in_(certs))} if certs else {}
    return [(cert, officers[cert].name, officers[cert].verdict(today)) for cert in certs
            if cert in officers and officers[cert].verdict(today) != "有效"]


def compute(draw):
    files = draw.frozen()
    return draw_rule.result_document(draw.seed, files["plan"], files["targets"], files["inspectors"],
                                     files["conflicts"], files["commitment"]["draw_on"])


def verify(draw_id):
    """[(ok, message)]: the published files by the rule, and against what the log recorded at each step."""
    draw = get_draw(draw_id)
    if draw.status != DRAWN:
        return [(False, f"第{draw.id}号抽取尚未完成（{draw.status}），完成后才能核验。")]
    files = draw.published_files()
    logged = {e.step: e.content for e in ledger.entries(draw.case_no) if e.kind == KIND}
    lines = draw_rule.check(files, logged.get("承诺", {}).get("data", {}).get("commitment"))
    committed = logged.get("承诺")
    lines.append((committed is not None and committed["data"]["commitment_document"] == files["commitment"],
                  f"记录库第{committed['seq']}条（{committed['at']}）记下的承诺与公布的一致" if committed else
                  "记录库中没有本次抽取的承诺记录"))
    ran = logged.get("抽取")
    ok = ran is not None and ran["data"]["result_sha256"] == draw_rule.digest(files["result"])
    lines.append((ok, "记录库记下的抽取结果与公布的一致" if ok else "记录库记下的抽取结果与公布的不一致"))
    if committed and logged.get("揭示"):
        ok = committed["seq"] < logged["揭示"]["seq"]
        lines.append((ok, "承诺在录入公开数值之前记录" if ok else "承诺记录晚于公开数值：种子可能被选择过"))
    return lines


# -- outcomes ---------------------------------------------------------------------------------------

def record_outcome(config, draw_id, uscc, staff, *, result, ended_on, case_no="", at=None):
    """检查结果 of one drawn target, by one of its inspectors or a 负责人; logged, then public."""
    at = at or ledger.now()
    draw = get_draw(draw_id)
    if draw.status != DRAWN:
        raise DrawError(f"第{draw.id}号抽取尚未完成，不能登记检查结果。")
    uscc = (uscc or "").strip().upper()
    drawn = {t["uscc"]: t for t in draw.result_document()["selected"]}
    if uscc not in drawn:
        raise DrawError(f"“{uscc}”不是第{draw.id}号抽取抽中的对象。")
    require(staff, "draw.outcome", drawn[uscc]["inspectors"])
    result = " ".join((result or "").split())
    if len(result) < 2:
        raise DrawError("请写明检查结果（如：未发现问题；发现问题，已责令改正；已立案查处）。")
    try:
        ended = dt.date.fromisoformat(str(ended_on))
    except ValueError:
        raise DrawError("检查日期应写成 2026-12-10 的形式。") from None
    if ended > at.date() or ended < draw.draw_on:
        raise DrawError(f"检查日期应在{draw.draw_on}到今天之间。")
    data = {"draw": draw.id, "uscc": uscc, "name": drawn[uscc]["name"], "result": result,
            "ended_on": ended.isoformat(), "inspectors": drawn[uscc]["inspectors"], "case": case_no or ""}
    return ledger.append(KIND, data, case_no=draw.case_no, step="检查结果", by=staff.label, at=at)


def outcomes(draw):
    """uscc -> the latest outcome recorded for it (a later entry supersedes, both stay in the log)."""
    found = {}
    for entry in ledger.entries(draw.case_no):
        if entry.kind == KIND and entry.step == "检查结果":
            data = entry.content["data"]
            found[data["uscc"]] = {**data, "seq": entry.seq}
    return found


def staff_for(who):
    """The member of staff acting as `who`: a name or openid on the staff list, else an officer's 执法证号."""
    return Staff.find(who) or Staff.acting_as(who)


DRAW_MODELS = [DrawTarget, DrawConflict, DrawPlan, Draw]
