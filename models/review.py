"""重大执法决定法制审核 — the catalogue of major decisions, the legal review, and the gate before a decision.

"未经法制审核或者审核未通过的，不得作出决定" (《行政处罚法》第五十八条; seed 重大执法决定法制审核制度).
The workflow is a table (`WORKFLOW`) of the case-file steps involved, what each needs before it, and who
records it; models/cases.py enforces it for every channel and the flowchart is drawn from it, so the
chart cannot say what the software does not do.

- 拟决定: the handlers' proposed decision (调查终结报告, penalty, amounts, 裁量 level and reasoning, flags);
  the catalogue (config.yaml `review.catalogue`) says whether it is major and which rule matched;
- 提请审核: the submission, with the configured 送审材料; a missing one is named;
- 审核: recorded only by a 法制审核员 who is not a handler of the case (nor recused), qualified where
  第五十八条第二款 requires; each point of the checklist answered; 通过, 退回补充 or 不同意;
- 审核异议 and 集体讨论: a handler who disagrees records it, and the heads discuss before any decision
  (第五十七条第二款); participants, opinions and conclusion are on record;
- the gate: a decision on a major case needs the latest review passed on the latest proposal with
  nothing material recorded since, and a decision that matches what was reviewed.

This module sits below models/cases.py: it reads a case file (a `CaseFile`) and raises `ReviewError`,
which cases.py reports like any other refusal.
"""
import datetime as dt
import shutil
import subprocess
from dataclasses import dataclass

from models import discretion
from models.staff import REVIEWER

OUTCOMES = ("通过", "退回补充", "不同意")
LEVELS = discretion.EXEMPT + discretion.GRADES

# The workflow of a major decision, in order: each step, the steps one of which must be on file before it
# (`after`), who records it, and where each outcome of a review leads. models/cases.py `check_order`
# refuses a step whose `after` is missing, and the flowchart (`flowchart_dot`) draws its arrows from
# the same table, so the published chart is the rule the software keeps.
WORKFLOW = {
    "拟决定": {"after": ("调查取证", "现场检查", "随机抽查"), "who": "承办人员", "note": "按目录判断是否重大，说明裁量理由",
            "refusal": "拟决定前须有调查取证或现场检查记录（调查终结）。"},
    "提请审核": {"after": ("拟决定",), "who": "承办人员", "note": "送审材料齐全",
             "refusal": "提请法制审核前须先记录拟决定（拟处理意见）。"},
    "审核": {"after": ("提请审核",), "who": "法制审核员（非本案承办人员）", "note": "逐项审核",
           "refusal": "审核前须由承办人员提请审核并附送审材料。",
           "outcomes": {"通过": "决定", "退回补充": "提请审核", "不同意": "审核异议"}},
    "审核异议": {"after": ("审核",), "who": "承办人员", "note": "对未通过的审核意见有异议",
             "refusal": "尚无审核意见，不能登记异议。", "then": ("集体讨论",)},
    "集体讨论": {"after": ("拟决定",), "who": "负责人", "note": "参加人员、意见、结论；异议和重大案件必经",
             "refusal": "集体讨论前须有拟决定（拟处理意见）。", "then": ("审核", "决定")},
    "决定": {"after": ("告知",), "who": "负责人批准", "note": "重大的：审核通过且其后无实质变化、与审核一致",
           "refusal": "作出处罚决定前须先告知当事人拟处罚的事实、理由、依据及其权利（行政处罚法第四十四条）。"},
}


class ReviewError(ValueError):
    """A review step that may not be recorded; the message is Chinese and names what is missing."""


@dataclass(frozen=True)
class Majority:
    """Whether a proposed decision is major (重大执法决定), and the catalogue rules that said so."""

    major: bool
    rules: tuple = ()  # (name, source) of every rule that matched

    def explain(self):
        if not self.major:
            return "不属于《重大执法决定目录》所列情形。"
        return "属于重大执法决定：" + "；".join(f"{name}（{source}）" for name, source in self.rules) + "。"


def _yuan(value):
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        raise ReviewError(f"金额“{value}”请写整数（元）。") from None


def flags_known(config):
    return [rule["flag"] for rule in config["review"]["catalogue"] if rule["rule"] == "flag"]


def classify(config, party_kind, proposal, hearing_held=False):
    """Hold a proposed decision against the catalogue (config.yaml `review.catalogue`)."""
    amount = _yuan(proposal.get("fine_yuan")) + _yuan(proposal.get("confiscation_yuan"))
    penalty = str(proposal.get("penalty") or "")
    flags = set(proposal.get("flags") or [])
    matched = []
    for rule in config["review"]["catalogue"]:
        kind = rule["rule"]
        if kind == "amount":
            hit = party_kind == rule["party_kind"] and amount >= int(rule["at_least_yuan"])
        elif kind == "penalty":
            hit = any(word in penalty for word in rule["words"])
        elif kind == "hearing":
            hit = bool(hearing_held)
        elif kind == "transfer":
            hit = bool(proposal.get("transfer"))
        elif kind == "flag":
            hit = rule["flag"] in flags
        else:
            raise ValueError(f"unknown catalogue rule {kind!r} in config.yaml review.catalogue")
        if hit:
            matched.append((rule["name"], rule["source"]))
    return Majority(bool(matched), tuple(matched))


# -- reading a case file -------------------------------------------------------------------------------

def last(file, step, after=-1):
    """(seq, data) of the last `step` entry recorded after entry `after`, or (None, None)."""
    found = [(seq, data) for seq, s, data in file.steps() if s == step and seq > after]
    return found[-1] if found else (None, None)


def majority_of(config, file, decision=None):
    """The case's majority now: its latest proposal (and the decision about to be made), any hearing."""
    _, proposal = last(file, "拟决定")
    merged = dict(proposal or {})
    if decision:
        merged["fine_yuan"] = max(_yuan(merged.get("fine_yuan")), _yuan(decision.get("fine_yuan")))
        merged["penalty"] = f"{merged.get('penalty', '')} {decision.get('penalty', '')}"
    return classify(config, file.party_kind, merged, hearing_held="听证" in file.done())


def needs_review(config, file, decision=None):
    return config["review"]["review_all_ordinary_cases"] or majority_of(config, file, decision).major


MATERIAL_STEPS = ("现场检查", "随机抽查", "调查取证", "证据保全", "行政强制", "拟决定", "听证", "提请审核")


def material_changes(file, since):
    """What was recorded after entry `since` that a review must see again: new facts, evidence, a new
    proposal or submission, a hearing, a correction of anything before the decision."""
    changes = []
    for seq, content in file.contents.items():
        if seq <= since:
            continue
        kind, step = content["kind"], content["step"]
        if kind == "step" and step in MATERIAL_STEPS:
            changes.append(f"第{seq}条{step}")
        elif kind == "evidence" and content["data"].get("device") != "系统生成":
            changes.append(f"第{seq}条新证据")
        elif kind == "correction" and step in MATERIAL_STEPS + ("立案",):
            changes.append(f"第{seq}条更正（{step}）")
    return changes


def review_status(config, file):
    """(passed, what is missing) for the case's review now — what the gate and `#案件` say."""
    p_seq, proposal = last(file, "拟决定")
    if proposal is None:
        return False, "尚未记录拟决定（拟处理意见）"
    r_seq, review = last(file, "审核")
    if review is None or r_seq < p_seq:
        s_seq, _ = last(file, "提请审核", after=p_seq)
        return False, "已提请审核，尚待法制审核员审核" if s_seq else "尚未提请法制审核"
    if review["result"] != "通过":
        return False, f"最近一次审核结论为“{review['result']}”：{review.get('supplement') or review.get('opinion', '')}"
    changed = material_changes(file, r_seq)
    if changed:
        return False, f"审核通过后又记录了{'、'.join(changed[:5])}，须重新提请审核"
    return True, ""


# -- checks for each step ------------------------------------------------------------------------------

def check_proposal(config, file, data):
    """拟决定: amounts are whole yuan, the level is known, flags are the catalogue's; stores the verdict."""
    # base_yuan: 违法所得或违法经营额, what a fine counted in 倍 is counted on (optional).
    given = ("base_yuan",) if data.get("base_yuan") not in (None, "") else ()
    for key in ("fine_yuan", "confiscation_yuan") + given:
        data[key] = _yuan(data.get(key))
        if data[key] < 0:
            raise ReviewError("金额不能为负数。")
    if data.get("level") not in LEVELS:
        raise ReviewError(f"裁量档次请写：{'、'.join(LEVELS)}。")
    known = flags_known(config)
    for flag in data.get("flags") or []:
        if flag not in known:
            raise ReviewError(f"“{flag}”不是目录所列的情形，可写：{'、'.join(known)}。")
    verdict = classify(config, file.party_kind, data, hearing_held="听证" in file.done())
    data["major"] = verdict.major
    data["major_rules"] = [name for name, _ in verdict.rules]
    flag = discretion_check(config, file, data)  # the item and the party as the log records them
    if flag:
        data["discretion_flag"] = flag
    return verdict


def required_materials(config, file):
    done = file.done()
    return [m["name"] for m in config["review"]["materials"] if not m.get("when") or m["when"] in done]


def check_submission(config, file, data):
    """提请审核: after a proposal, not while one is waiting, with every required material listed."""
    p_seq, _ = last(file, "拟决定")
    if p_seq is None:
        raise ReviewError("提请法制审核前须先记录拟决定（拟处理意见）。")
    s_seq, _ = last(file, "提请审核")
    r_seq, _ = last(file, "审核")
    if s_seq is not None and (r_seq is None or r_seq < s_seq) and not material_changes(file, s_seq):
        raise ReviewError("本案已提请审核，尚待法制审核员审核，不能重复提请。")
    given = data.get("materials") or []
    if isinstance(given, str):
        given = [m for m in given.replace("，", ",").replace("、", ",").split(",") if m.strip()]
    data["materials"] = [m.strip() for m in given]
    missing = [m for m in required_materials(config, file) if m not in data["materials"]]
    if missing:
        raise ReviewError(f"送审材料不全，缺少：{'、'.join(missing)}。请补齐后再提请审核。")
    data["proposal_seq"] = p_seq
    return p_seq


def qualified(config, staff, on):
    """Whether a reviewer may review 行政处罚 decisions (第五十八条第二款): a registered 法律职业资格, or
    reviewing since before the rule took effect. Returns the refusal, or ""."""
    since = getattr(staff, "reviewing_since", None)
    required_from = dt.date.fromisoformat(str(config["review"]["qualification_required_from"]))
    if getattr(staff, "legal_qualification", None):
        return ""
    if since is not None and since < required_from:
        return ""
    return (f"{staff.name}尚未登记法律职业资格：{required_from}起初次从事行政处罚决定法制审核的人员，应当取得法律职业资格"
            "（《行政处罚法》第五十八条第二款）。请管理员用 python bot.py staff qualify 登记。")


def check_review(config, file, data, actor, on):
    """审核: by a qualified 法制审核员 outside the case, on a pending submission, every point answered."""
    if actor is None or actor.role != REVIEWER:
        raise ReviewError("法制审核只能由法制审核员记录。")
    refusal = qualified(config, actor, on)
    if refusal:
        raise ReviewError(refusal)
    p_seq, proposal = last(file, "拟决定")
    s_seq, _ = last(file, "提请审核", after=p_seq if p_seq is not None else -1)
    r_seq, previous = last(file, "审核")
    d_seq, _ = last(file, "集体讨论")
    if s_seq is None:
        raise ReviewError("承办人员尚未就最新的拟决定提请审核（送审材料齐全后提请）。")
    rediscussed = previous is not None and d_seq is not None and d_seq > r_seq
    if r_seq is not None and r_seq > s_seq and not rediscussed:
        raise ReviewError("该次提请已审核；承办人员补充材料后须重新提请审核。")
    result = data.get("result")
    if result not in OUTCOMES:
        raise ReviewError(f"审核结论请写：{'、'.join(OUTCOMES)}。")
    points = data.get("points") or {}
    names = [p["name"] for p in config["review"]["points"]]
    unknown = [k for k in points if k not in names]
    if unknown:
        raise ReviewError(f"没有审核事项“{unknown[0]}”。审核事项：{'、'.join(names)}。")
    missing = [n for n in names if n not in points]
    if missing:
        raise ReviewError(f"请逐项写明审核意见，尚缺：{'、'.join(missing)}。")
    failing = [p["name"] for p in config["review"]["points"] if bool(points[p["name"]]) != p["pass"]]
    if result == "通过" and failing:
        raise ReviewError(f"以下事项未通过审核：{'、'.join(failing)}；审核结论不能为“通过”。")
    if result == "退回补充" and not str(data.get("supplement") or "").strip():
        raise ReviewError("退回补充的，请写明需要补充的材料或事项（补充内容=…）。")
    if not str(data.get("opinion") or "").strip():
        raise ReviewError("请写明审核意见（不同意的，写明理由）。")
    verdict = majority_of(config, file)
    data.update(reviewer=f"{actor.role} {actor.name}", proposal_seq=p_seq, submission_seq=s_seq,
                major=verdict.major, major_rules=[name for name, _ in verdict.rules],
                failing=failing, qualification=getattr(actor, "legal_qualification", None) or "")
    if proposal.get("discretion_flag"):
        data["discretion_flag"] = proposal["discretion_flag"]


def check_dissent(file, data):
    """审核异议: a handler disagrees with a review that did not pass; the heads discuss it next."""
    r_seq, review = last(file, "审核")
    if review is None or review["result"] == "通过":
        raise ReviewError("只有对未通过的审核意见才能登记异议。")
    data["review_seq"] = r_seq


def check_discussion(config, file, data):
    """集体讨论: at least three participants, their opinions, a conclusion (第五十七条第二款)."""
    participants = data.get("participants") or []
    if isinstance(participants, str):
        participants = [p for p in participants.replace("，", ",").replace("、", ",").split(",") if p.strip()]
    data["participants"] = participants
    if len(set(participants)) < 3:
        raise ReviewError("集体讨论须记录参加人员（至少3人）。")
    if last(file, "拟决定")[0] is None:
        raise ReviewError("集体讨论前须有拟决定（拟处理意见）。")


def check_gate(config, file, step, data):
    """决定 / 不予处罚: refuse what 第五十七条、第五十八条 forbid; the message begins “须经法制审核”."""
    p_seq, proposal = last(file, "拟决定")
    if proposal is None:
        raise ReviewError("作出决定前须先记录拟决定（拟处理意见），并按目录判断是否须经法制审核。")
    decision = data if step == "决定" else {}
    verdict = majority_of(config, file, decision)
    r_seq, review = last(file, "审核")
    dissent_seq, _ = last(file, "审核异议")
    discussion_seq, discussion = last(file, "集体讨论")
    if dissent_seq is not None and (discussion_seq is None or discussion_seq < dissent_seq):
        raise ReviewError("承办人员对审核意见有异议，须经负责人集体讨论（《行政处罚法》第五十七条第二款）后才能作出决定。")
    if verdict.major or config["review"]["review_all_ordinary_cases"]:
        passed, missing = review_status(config, file)
        if not passed:
            raise ReviewError(f"须经法制审核：{verdict.explain()}{missing}（《行政处罚法》第五十八条）。")
        if step == "决定":
            if _yuan(data.get("fine_yuan")) != _yuan(proposal.get("fine_yuan")):
                raise ReviewError(f"须经法制审核：决定的罚款{_yuan(data.get('fine_yuan'))}元与审核通过的拟决定"
                                  f"（{_yuan(proposal.get('fine_yuan'))}元）不一致；请重新记录拟决定并提请审核。")
            heavier = [r for r in verdict.rules if r not in classify(config, file.party_kind, proposal).rules
                       and r[0] != _hearing_rule(config)]
            if heavier:
                raise ReviewError(f"须经法制审核：决定含有拟决定中没有的{heavier[0][0]}；请重新记录拟决定并提请审核。")
        if verdict.major and config["review"]["discussion_for_major"] and (discussion_seq is None or discussion_seq < p_seq):
            raise ReviewError("重大执法决定须经负责人集体讨论决定（《行政处罚法》第五十七条第二款），请先记录集体讨论。")
    data["major"] = verdict.major
    if verdict.major:
        data["major_rules"] = [name for name, _ in verdict.rules]
        data["review_seq"] = r_seq
    if discussion is not None and discussion_seq > p_seq:
        data["discussion_seq"] = discussion_seq


def _hearing_rule(config):
    return next((r["name"] for r in config["review"]["catalogue"] if r["rule"] == "hearing"), None)


# -- discretion (裁量基准): models/discretion.py ----------------------------------------------------------

def discretion_check(config, file, proposal):
    """The flag a reviewer sees when a proposed fine is outside its level's range, or "". `file` is the
    CaseFile: its item and party come from the 立案 entry, not the index (issue 16)."""
    return discretion.check(config, file.item_code, file.party_kind, proposal)


# -- the flowchart ---------------------------------------------------------------------------------------

def flowchart_dot(config):
    """The 《重大执法决定法制审核流程图》 in Graphviz DOT, drawn from `WORKFLOW` and the configured catalogue."""
    def node(name, spec):
        label = f"{name}\\n（{spec['who']}）" + (f"\\n{spec['note']}" if spec.get("note") else "")
        return f'  "{name}" [label="{label}"];'

    # 18 pt: the public pages set no text under 18px in 大字 mode (tests/web/test_accessibility.py).
    lines = ['digraph review {', '  graph [rankdir=TB, fontname="WenQuanYi Micro Hei", fontsize=18, '
             'label="重大执法决定法制审核流程图"];',
             '  node [shape=box, fontname="WenQuanYi Micro Hei", fontsize=18];',
             '  edge [fontname="WenQuanYi Micro Hei", fontsize=18];',
             '  "调查终结" [shape=oval, label="调查取证 / 现场检查\\n（调查终结）"];']
    lines += [node(name, spec) for name, spec in WORKFLOW.items()]
    for name, spec in WORKFLOW.items():
        sources = ["调查终结"] if set(spec["after"]) & set(WORKFLOW["拟决定"]["after"]) else \
            [s for s in spec["after"] if s in WORKFLOW] or ["告知"]
        # an outcome arrow (审核 —不同意→ 审核异议) already shows that `after`
        lines += [f'  "{source}" -> "{name}";' for source in sources
                  if name not in WORKFLOW.get(source, {}).get("outcomes", {}).values()]
        lines += [f'  "{name}" -> "{target}" [label="{outcome}"];' for outcome, target in spec.get("outcomes", {}).items()]
        lines += [f'  "{name}" -> "{target}" [style=dashed];' for target in spec.get("then", ())]
    lines.append('  "告知" [shape=oval, label="告知、陈述申辩、听证"];')
    rules = "\\n".join(r["name"] for r in config["review"]["catalogue"])
    lines.append(f'  "目录" [shape=note, label="重大执法决定目录：\\n{rules}"];')
    lines.append('  "目录" -> "拟决定" [style=dotted];')
    lines.append("}")
    return "\n".join(lines)


_svg_cache = {}


def flowchart_svg(config):
    """The flowchart as SVG through Graphviz's `dot` (Debian: graphviz), or None where it is not installed.
    Drawn once per workflow and catalogue, then kept."""
    dot = flowchart_dot(config)
    if dot not in _svg_cache:
        if shutil.which("dot") is None:
            return None
        done = subprocess.run(["dot", "-Tsvg"], input=dot.encode(), capture_output=True, timeout=30, check=False)
        if done.returncode != 0:
            return None
        _svg_cache[dot] = done.stdout.decode("utf-8")
    return _svg_cache[dot]


# -- reports ---------------------------------------------------------------------------------------------

@dataclass
class ReviewReport:
    """法制审核统计 for a period: major decisions, reviews by outcome, review times, overdue reviews."""

    start: dt.date
    end: dt.date
    decisions: list  # dicts: case_no, decided_on, decision_no, party kind/name, fine_yuan, penalty, major, rules
    outcomes: dict  # 通过/退回补充/不同意 -> count
    times: list  # (case_no, submitted_on, reviewed_on, working days)
    overdue: list  # (case_no, due_on, reviewed_on or "", working days late)

    @property
    def major_decisions(self):
        return [d for d in self.decisions if d["major"]]

    @property
    def average_days(self):
        return round(sum(t[3] for t in self.times) / len(self.times), 1) if self.times else None

    @property
    def longest_days(self):
        return max((t[3] for t in self.times), default=None)


def review_report(config, start, end, today=None):
    """Read the case file log for decisions and reviews dated in [start, end]. Review time counts working
    days from submission to the review that answered it (models/workdays.py)."""
    from models import ledger
    from models.workdays import working_calendar

    calendar, today = working_calendar(config), today or dt.date.today()
    parties, submissions = {}, {}
    report = ReviewReport(start, end, [], dict.fromkeys(OUTCOMES, 0), [], [])
    query = ledger.LedgerEntry.select().where(ledger.LedgerEntry.kind == "step").order_by(ledger.LedgerEntry.seq)
    for entry in query:
        content = entry.content
        data, step, day = content["data"], content["step"], dt.date.fromisoformat(content["at"][:10])
        if step == "立案":
            parties[entry.case_no] = data.get("party", {})
        elif step == "提请审核":
            submissions[entry.seq] = (entry.case_no, day, data.get("due_on"))
        elif step == "审核" and start <= day <= end:
            report.outcomes[data["result"]] = report.outcomes.get(data["result"], 0) + 1
            submitted = submissions.pop(data.get("submission_seq"), None)
            if submitted:
                days = calendar.workdays_between(submitted[1], day)[0]
                report.times.append((entry.case_no, submitted[1].isoformat(), day.isoformat(), days))
                if submitted[2] and day > dt.date.fromisoformat(submitted[2]):
                    late = calendar.workdays_between(dt.date.fromisoformat(submitted[2]), day)[0]
                    report.overdue.append((entry.case_no, submitted[2], day.isoformat(), late))
        elif step in ("决定", "不予处罚", "当场处罚"):
            decided = dt.date.fromisoformat(str(data.get("decided_on", day))[:10])
            if start <= decided <= end:
                party = parties.get(entry.case_no, {})
                report.decisions.append({
                    "case_no": entry.case_no, "kind": step, "decision_no": data.get("decision_no", ""),
                    "decided_on": decided.isoformat(), "party_kind": party.get("kind", ""), "party": party.get("name", ""),
                    "fine_yuan": _yuan(data.get("fine_yuan")), "penalty": data.get("penalty", data.get("reason", "")),
                    "major": bool(data.get("major")), "rules": data.get("major_rules", [])})
    for case_no, submitted, due in submissions.values():  # still waiting for the reviewer
        if due and dt.date.fromisoformat(due) < today and submitted <= end:
            report.overdue.append((case_no, due, "", calendar.workdays_between(dt.date.fromisoformat(due), today)[0]))
    return report


def report_xlsx(report, path):
    """The report as an Excel workbook: 重大执法决定, 审核结论, 审核用时, 超期审核."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheets = [
        ("重大执法决定", ["案号", "决定类型", "决定书文号", "决定日期", "当事人类型", "当事人", "罚款（元）", "处罚内容", "目录情形"],
         [[d["case_no"], d["kind"], d["decision_no"], d["decided_on"], d["party_kind"], d["party"], d["fine_yuan"],
           d["penalty"], "；".join(d["rules"])] for d in report.major_decisions]),
        ("审核结论", ["结论", "件数"], [[k, v] for k, v in report.outcomes.items()]),
        ("审核用时", ["案号", "提请日期", "审核日期", "工作日"], [list(t) for t in report.times]
         + [["平均", "", "", report.average_days or 0], ["最长", "", "", report.longest_days or 0]]),
        ("超期审核", ["案号", "审核期限", "审核日期（空为尚未审核）", "超期工作日"], [list(o) for o in report.overdue]),
    ]
    book.remove(book.active)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title)
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
    book.save(path)
