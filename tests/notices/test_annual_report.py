"""统计年报: a year of records (cases with decisions and a legal review, complaints answered on time and
late), the report made from them, and its totals checked against the database itself; the files (PNG
charts, Excel, PDF), the public page, the January job and the reminder before 31 January."""
import datetime as dt
import json

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

import bot
import settings
from models import Officer, Staff, cases, db, ledger, publication
from models.complaints import Complaint
from models.outbox import Outbox
from models.publication import Disclosure
from notices.annual_report import produce, produce_annual_report, remind_annual_report
from tests.models.test_review import (
    A,
    at,
    decision,
    discuss,
    investigated,
    notify,
    propose,
    review_it,
    submit,
)

C, D = "15052501003", "15052501008"


@pytest.fixture
def config(app, tmp_path):
    overrides = {"ledger": {"private_key_path": str(tmp_path / "k.pem"), "feed_path": str(tmp_path / "heads.txt")},
                 "evidence": {"store_path": str(tmp_path / "records")},
                 "notices": {"annual_report": {"output_dir": str(tmp_path / "reports")}}}
    db.connect(reuse_if_open=True)
    Staff.add(None, "白斯琴", "法制审核员", Officer.by_cert_no(C)).qualify("A2021150525", dt.date(2023, 6, 15))
    Staff.add("o_head", "其木格", "负责人", Officer.by_cert_no(D))
    merged = settings.deep_merge(app.config["SANXIANG"], overrides)
    app.config["SANXIANG"].update(merged)  # the pages read the same output folder
    yield merged
    if not db.is_closed():
        db.close()


def a_year_of_records(config):
    """Three ordinary decisions (one confiscating, one a warning only), one major decision after a review
    sent back once, and complaints: four filed in the year (two answered, one late), one the year before."""
    fines = [(5000, "警告，罚款人民币{fine}元"), (8000, "没收违法所得，罚款人民币{fine}元"), (0, "警告")]
    for n, (fine, penalty) in enumerate(fines):
        case = investigated(config)
        propose(config, case, fine=fine, penalty=penalty)
        notify(config, case)
        cases.record_step(config, case.number, "决定", dict(decision(fine, day=16 + n, penalty=penalty),
                                                           decision_no=f"罚决〔2026〕{n + 1}号"), by=A, at=at(9, 16 + n))
    case = investigated(config)
    propose(config, case, fine=150000, level="严重")
    submit(config, case)
    review_it(config, case, result="退回补充", supplement="补充询问笔录", day=4)
    submit(config, case, day=7)
    review_it(config, case, day=9)
    discuss(config, case, day=10)
    notify(config, case, day=10)
    cases.record_step(config, case.number, "决定", dict(decision(150000), decided_on="2026-10-12",
                                                       decision_no="罚决〔2026〕9号"), by=A, at=at(10, 12))
    clerk = Staff.add("o_clerk", "乌兰", "受理员")
    handler = Staff.add("o_handler", "包海龙", "负责人")
    filed = []
    for month, category in ((1, "网吧"), (3, "旅行社"), (6, "网吧"), (11, "演出"), (12, "网吧")):
        when = dt.datetime(2025 if month == 12 else 2026, month, 10, 9)
        filed.append(Complaint.file(config, when, category=category, content=f"{category}的问题，请查处。",
                                    submitter=f"cli:{month}", check_limit=False))
    for complaint, answer_after in ((filed[0], 10), (filed[1], 90)):  # one answered in time, one late
        complaint.accept(clerk, complaint.created_at + dt.timedelta(days=1), config)
        complaint.assign(clerk, complaint.created_at + dt.timedelta(days=1), config, Officer.by_cert_no(A))
        complaint.reply(handler, complaint.created_at + dt.timedelta(days=answer_after), config, "已核查并责令整改。")


def test_the_totals_are_the_databases(config, client):
    a_year_of_records(config)
    publication.sync(config, now=dt.datetime(2026, 10, 20, 9))
    first, second = Disclosure.select().order_by(Disclosure.decided_on)[:2]
    publication.publish(config, first, now=dt.datetime.combine(first.due_on, dt.time(9)))
    publication.publish(config, second, now=dt.datetime.combine(second.due_on + dt.timedelta(days=3), dt.time(9)))
    figures, folder = produce(config, 2026, today=dt.date(2027, 1, 5))

    # What the database says, read here without the report's code.
    decided = [e.content["data"] for e in ledger.LedgerEntry.select().where(
        (ledger.LedgerEntry.kind == "step") & ledger.LedgerEntry.step.in_(("决定", "当场处罚", "不予处罚")))]
    in_2026 = [d for d in decided if d["decided_on"].startswith("2026")]
    assert figures.decision_count == len(in_2026) == 4
    assert figures.fines_yuan == sum(int(d["fine_yuan"]) for d in in_2026) == 163000
    assert figures.fined == 3 and figures.confiscations == 1 and figures.major_decisions == 1
    assert figures.reviews == {"通过": 1, "退回补充": 1, "不同意": 0}
    assert figures.by_category == {"行政处罚": 4}
    filed_2026 = Complaint.select().where(Complaint.created_at.year == 2026).count()
    assert figures.complaints_received == filed_2026 == 4
    assert (figures.complaints_answered, figures.complaints_answered_on_time) == (2, 1)
    # 事后公开 of the year's decisions, as models/publication.py recorded them: two published (one late), two waiting.
    assert figures.disclosures == {"on_time": 1, "late": 1, "pending": 2, "withheld": 0}
    assert Disclosure.select().where(Disclosure.on_time == False).count() == 1

    # The files: charts are PNG, the workbook and the PDF carry the same totals.
    for name in ("decisions_by_category", "decisions_by_item", "inspections", "complaints"):
        assert (folder / f"{name}.png").read_bytes().startswith(b"\x89PNG")
    sheet = load_workbook(folder / "统计年报.xlsx")["总体情况"]
    values = {row[0]: row[1] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert values["罚款（元）"] == 163000 and values["行政执法决定（件）"] == 4 and values["按期答复（件）"] == 1
    assert values["事后公开逾期（件）"] == 1
    assert (folder / "统计年报.pdf").read_bytes().startswith(b"%PDF")
    data = json.loads((folder / "figures.json").read_text(encoding="utf-8"))
    assert ["罚款（元）", 163000] in data["rows"]

    page = client.get("/reports/annual/2026").get_data(as_text=True)
    assert "2026年度行政执法统计年报" in page and "163000" in page and "decisions_by_item.png" in page
    with client.get("/reports/annual/2026/inspections.png") as png:
        assert png.data.startswith(b"\x89PNG")
    with client.get("/reports/annual/2026/统计年报.pdf") as pdf:
        assert pdf.status_code == 200 and "attachment" in pdf.headers["Content-Disposition"]
    for hostile in ("/reports/annual/2026/figures.json/../../x", "/reports/annual/2026/..%2F..%2Fconfig.yaml",
                    "/reports/annual/2025", "/reports/annual/99999999999999999999", "/reports/annual/2026/secret.png"):
        assert client.get(hostile).status_code == 404, hostile


def test_january_job_and_reminders_before_31_january(config):
    produce_annual_report(config, today=dt.date(2027, 1, 5))
    [made] = [row.text for row in Outbox.select() if row.key.startswith("annual:2026:made")]
    assert "01月31日前公开并报送" in made and "/reports/annual/2026" in made
    assert remind_annual_report(config, today=dt.date(2027, 1, 20)) == 0  # not a reminder day
    assert remind_annual_report(config, today=dt.date(2027, 1, 28)) == 1  # three days before
    assert remind_annual_report(config, today=dt.date(2027, 1, 28)) == 1
    reminders = [row.text for row in Outbox.select() if ":remind:" in row.key]
    assert len(reminders) == 1 and "还有3天" in reminders[0] and "已生成" in reminders[0]


def test_the_command(config, database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_KEY_PATH", str(tmp_path / "k.pem"))
    monkeypatch.setenv("RECORDS_PATH", str(tmp_path / "records"))
    db.close()
    # The output folder comes from config.yaml (var/reports): point the command's app at the test's.
    monkeypatch.setattr("notices.annual_report.settings_of",
                        lambda c: {**c["notices"]["annual_report"], "output_dir": str(tmp_path / "cli")})
    result = CliRunner().invoke(bot.cli, ["annual-report", "2026"])
    assert result.exit_code == 0, result.output
    assert "行政执法决定（件）：0" in result.output and (tmp_path / "cli" / "2026" / "统计年报.pdf").exists()
    refused = CliRunner().invoke(bot.cli, ["annual-report", "1999"])
    assert refused.exit_code == 1 and "年份应在" in refused.output
