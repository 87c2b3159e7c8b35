"""统计年报 — the year's enforcement figures, as the bureau publishes and reports them by 31 January
(config notices.annual_report, with its source).

Every figure is read from the records themselves — the case-file log (decisions, inspections, legal
review: models/ledger.py through models/review.py's reading of it), 双随机 outcomes (models/draws.py),
complaints (models/complaints.py) — so the report and the records cannot disagree. Decisions are counted
by their decision date, inspections by the day they ended, complaints by the day they were filed.
Files (charts, Excel, PDF) are made by notices/annual_report.py.
"""
import datetime as dt
from dataclasses import dataclass, field

from models import draws, ledger
from models.cases import Case
from models.complaints import Complaint, ComplaintEvent
from models.disclosure import EnforcementItem
from models.publication import WITHHELD, Disclosure
from models.review import review_report

# 双随机 results that found nothing (anything else counts as a finding: 责令改正, 立案 …).
NOTHING_FOUND = ("未发现问题", "未发现违法", "无问题", "合格")


@dataclass
class AnnualFigures:
    year: int
    decisions: list = field(default_factory=list)  # dicts from review_report, with item code/name/category
    by_category: dict = field(default_factory=dict)  # 执法行为类别 -> count
    by_item: dict = field(default_factory=dict)  # 事项名称 -> count
    by_kind: dict = field(default_factory=dict)  # 决定 / 当场处罚 / 不予处罚 -> count
    fines_yuan: int = 0
    fined: int = 0  # decisions with a fine
    confiscations: int = 0  # decisions that confiscate (没收)
    inspections: int = 0  # 现场检查 and 随机抽查 entries of cases, and 双随机 outcomes
    random_inspections: int = 0  # 双随机 outcomes recorded
    findings: int = 0  # 双随机 outcomes that found something
    major_decisions: int = 0
    reviews: dict = field(default_factory=dict)  # 通过 / 退回补充 / 不同意 -> count
    reviews_overdue: int = 0
    complaints_received: int = 0
    complaints_answered: int = 0
    complaints_answered_on_time: int = 0
    complaints_by_category: dict = field(default_factory=dict)
    disclosures: dict = None  # 事后公开 of the year's decisions: {on_time, late, pending, withheld}

    @property
    def decision_count(self):
        return len(self.decisions)

    def rows(self):
        """(label, value) of the headline figures, in the order the report prints them."""
        rows = [("行政执法决定（件）", self.decision_count),
                *((f"　其中{kind}", n) for kind, n in sorted(self.by_kind.items())),
                ("罚款（元）", self.fines_yuan), ("处以罚款（件）", self.fined), ("没收（件）", self.confiscations),
                ("行政检查（次）", self.inspections), ("　其中双随机抽查（户次）", self.random_inspections),
                ("　抽查发现问题（户次）", self.findings),
                ("重大执法决定（件）", self.major_decisions),
                *((f"法制审核{outcome}（次）", n) for outcome, n in self.reviews.items()),
                ("法制审核超期（次）", self.reviews_overdue),
                ("收到投诉举报（件）", self.complaints_received), ("已答复（件）", self.complaints_answered),
                ("按期答复（件）", self.complaints_answered_on_time)]
        if self.disclosures is None:
            rows.append(("事后公开按期/逾期", "未记录（公示模块未上线）"))
        else:
            rows += [("事后公开按期（件）", self.disclosures["on_time"]), ("事后公开逾期（件）", self.disclosures["late"]),
                     ("尚未公开（件）", self.disclosures["pending"]), ("依法不予公开（件）", self.disclosures["withheld"])]
        return rows


def disclosure_figures(year):
    """{on_time, late, pending} of 事后公开 of the decisions made in `year` (models/publication.py): published
    by the due date, after it, not yet published; withheld ones (不予公开, with reason) apart."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    rows = Disclosure.select().where((Disclosure.decided_on >= start) & (Disclosure.decided_on <= end))
    counted = {"on_time": 0, "late": 0, "pending": 0, "withheld": 0}
    for row in rows:
        if row.status == WITHHELD:
            counted["withheld"] += 1
        elif row.published_at is None:
            counted["pending"] += 1
        else:
            counted["on_time" if row.on_time else "late"] += 1
    return counted


def annual_figures(config, year, today=None):
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    figures = AnnualFigures(year)
    report = review_report(config, start, end, today=today)
    items = {item.code: item for item in EnforcementItem.select()}
    item_of = {case.number: items.get(case.item_code) for case in Case.select(Case.number, Case.item_code)}
    for decision in report.decisions:
        item = item_of.get(decision["case_no"])
        category, name = (item.category, item.name) if item else ("未登记事项", "未登记事项")
        figures.decisions.append({**decision, "item": name, "category": category})
        figures.by_category[category] = figures.by_category.get(category, 0) + 1
        figures.by_item[name] = figures.by_item.get(name, 0) + 1
        figures.by_kind[decision["kind"]] = figures.by_kind.get(decision["kind"], 0) + 1
        figures.fines_yuan += decision["fine_yuan"]
        figures.fined += decision["fine_yuan"] > 0
        figures.confiscations += "没收" in (decision["penalty"] or "")
    figures.major_decisions = len(report.major_decisions)
    figures.reviews = dict(report.outcomes)
    figures.reviews_overdue = len(report.overdue)
    _inspections(figures, start, end)
    _complaints(figures, start, end)
    figures.disclosures = disclosure_figures(year)
    return figures


def _inspections(figures, start, end):
    entry = ledger.LedgerEntry
    for row in entry.select().where((entry.kind == "step") & entry.step.in_(("现场检查", "随机抽查"))):
        if start <= dt.date.fromisoformat(row.content["at"][:10]) <= end:
            figures.inspections += 1
    for draw in draws.Draw.select():
        for outcome in draws.outcomes(draw).values():
            if start <= dt.date.fromisoformat(outcome["ended_on"]) <= end:
                figures.random_inspections += 1
                figures.findings += not any(word in outcome["result"] for word in NOTHING_FOUND)
    figures.inspections += figures.random_inspections


def _complaints(figures, start, end):
    filed = Complaint.select().where((Complaint.created_at >= dt.datetime.combine(start, dt.time.min))
                                     & (Complaint.created_at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min)))
    answered = {}
    for event in ComplaintEvent.select().where(ComplaintEvent.action == "answer").order_by(ComplaintEvent.at):
        answered.setdefault(event.complaint_id, event.at.date())
    for complaint in filed:
        figures.complaints_received += 1
        figures.complaints_by_category[complaint.category] = figures.complaints_by_category.get(complaint.category, 0) + 1
        day = answered.get(complaint.id)
        if day is not None:
            figures.complaints_answered += 1
            figures.complaints_answered_on_time += complaint.answer_due is None or day <= complaint.answer_due
