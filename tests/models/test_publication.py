"""事后公开 (models/publication.py, notices/publication.py): due dates, the record made from the case file,
publication after 送达 by the clock, withholding, corrections and withdrawals in the open, expiry, reminders
and escalation, and /ledger/proof serving only the de-identified record."""
import datetime as dt
import json
import subprocess
import sys

import pytest

import settings
from models import Officer, Staff, cases, publication
from models.complaints import Outbox
from models.publication import Disclosure
from models.workdays import working_calendar
from notices.ledger import publish_tree_head
from notices.publication import publication_pass
from tests.conftest import ROOT
from tests.models import test_cases
from tests.models.test_cases import A, B, DECISION, at, open_case, run_to_decision, with_audio

config = test_cases.config  # the same fixture: a signing key, an evidence store, a reviewer

NOW = dt.datetime(2026, 9, 15, 12, 0)
SERVED = {"document": "行政处罚决定书", "method": "直接送达", "recipient": "当事人", "served_on": "2026-09-15",
          "officers": [A, B], "av_exception": "当事人到局领取，窗口全程录像另存，附签收回证"}


def decided(config, tmp_path):
    case = open_case(config)
    run_to_decision(config, case, tmp_path)
    entry = cases.record_step(config, case.number, "决定", DECISION, by=A, at=at(14))
    return case, entry


def clerk():
    return Staff.add(None, "王公开", "受理员")


# -- due dates ---------------------------------------------------------------------------------------

def test_due_dates_by_category(app):
    config = app.config["SANXIANG"]
    calendar = working_calendar(config)
    day = dt.date(2026, 9, 14)
    assert publication.due_date(config, day, "行政处罚") == calendar.add_workdays(day, 7)
    assert publication.due_date(config, day, "行政许可") == calendar.add_workdays(day, 7)
    assert publication.due_date(config, day, "行政检查") == calendar.add_workdays(day, 20)
    assert publication.due_date(config, day, "撤回") == calendar.add_workdays(day, 3)
    assert publication.due_date(config, day, publication.DRAW_RESULTS) == calendar.add_workdays(day, 20)
    # 国庆: 2026-09-30 + 7 working days skips 10-01..07 and counts the 调休 Saturday 10-10
    assert publication.due_date(config, dt.date(2026, 9, 30), "行政处罚").due == dt.date(2026, 10, 15)


def test_a_decision_at_the_end_of_2026_gets_a_provisional_date_then_the_schedule_fixes_it(app):
    config = app.config["SANXIANG"]
    deadline = publication.due_date(config, dt.date(2026, 12, 28), "行政处罚")
    assert deadline.provisional and deadline.due == dt.date(2027, 1, 6)  # Mon–Fri guessed for 2027
    with_schedule = settings.deep_merge(config, {"workdays": {"schedules": {2027: {
        "holidays": ["2027-01-01", "2027-01-04", "2027-01-05"], "workdays": ["2027-01-09"]}}}})
    fixed = publication.due_date(with_schedule, dt.date(2026, 12, 28), "行政处罚")
    assert not fixed.provisional and fixed.due == dt.date(2027, 1, 9)  # the 调休 Saturday counts


def test_due_date_command(app):
    result = subprocess.run([sys.executable, "bot.py", "due-date", "2026-12-28", "行政处罚"], cwd=ROOT,
                            capture_output=True, timeout=120)
    out = result.stdout.decode()
    assert result.returncode == 0 and "2027-01-06" in out and "暂定" in out
    bad = subprocess.run([sys.executable, "bot.py", "due-date", "28.12.2026"], cwd=ROOT, capture_output=True, timeout=120)
    assert bad.returncode == 1 and "无效" in bad.stderr.decode() and b"Traceback" not in bad.stderr


# -- from the case file to the public ------------------------------------------------------------------

def test_a_decision_is_published_after_it_is_served_once(config, tmp_path, client):
    case, entry = decided(config, tmp_path)
    report = publication_pass(config, now=NOW)
    row = Disclosure.by_entry(entry.seq)
    assert report["新增或更新"] >= 1 and report["公开"] == 0
    assert row.status == publication.PENDING and row.due_on == working_calendar(config).add_workdays(
        dt.date(2026, 9, 14), 7).due
    assert row.party == "奈曼旗星空网吧" and row.category == "行政处罚" and "5000" in row.conclusion
    cases.record_step(config, case.number, "送达", SERVED, by=A, at=at(15))
    report = publication_pass(config, now=NOW)
    row = Disclosure.by_entry(entry.seq)
    assert report["公开"] == 1 and row.status == publication.PUBLISHED and row.on_time
    assert row.expires_on == dt.date(2027, 9, 15)  # 一般: 12 months
    events = len(row.events())
    assert set(publication_pass(config, now=NOW).values()) == {0}  # twice: nothing more to do
    assert len(Disclosure.by_entry(entry.seq).events()) == events
    page = client.get(f"/disclosures/{row.id}").get_data(as_text=True)
    assert "奈文旅罚〔2026〕1号" in page and "奈曼旗星空网吧" in page


def test_personal_data_in_a_no_penalty_reason_is_masked_everywhere_public(config, tmp_path, client):
    case = cases.open_case(config, party={"kind": "自然人", "name": "张建国", "address": "奈曼旗大沁他拉镇幸福街12号"},
                           handlers=[A, B], by=A, data={"item_code": "CF-002", "source": "巡查", "facts": "f",
                                                        "approver": "局长"}, at=at(1))
    audio = with_audio(config, case, tmp_path)
    cases.record_step(config, case.number, "现场检查", dict(SERVED_INSPECTION), by=A, attachments=[audio], at=at(1, 22))
    cases.record_step(config, case.number, "拟决定", {"report": "r", "penalty": "不予处罚", "fine_yuan": 0, "level": "轻微",
                                                   "reasoning": "首违不罚"}, by=A, at=at(3))
    reason = ("当事人张建国（身份证号150525197805061234，电话13847512345，住址奈曼旗大沁他拉镇幸福街12号）初次违法，"
              "网管李娜已协助改正，危害后果轻微")
    entry = cases.record_step(config, case.number, "不予处罚", {"decision_no": "奈文旅不罚〔2026〕3号", "reason": reason,
                                                            "basis": "《行政处罚法》第三十三条第一款",
                                                            "decided_on": "2026-09-04"}, by=A, at=at(4))
    cases.record_step(config, case.number, "送达", dict(SERVED, served_on="2026-09-05"), by=A, at=at(5))
    publication_pass(config, now=NOW)
    row = Disclosure.by_entry(entry.seq)
    assert row.status == publication.PUBLISHED and row.severity == "轻微"
    publish_tree_head(config)
    client.application.config["SANXIANG"] = config
    public = [client.get(f"/disclosures/{row.id}").get_data(as_text=True),
              client.get("/disclosures/index.json").get_data(as_text=True),
              client.get("/disclosures/feed.atom").get_data(as_text=True),
              client.get(f"/ledger/proof/{entry.seq}.json").get_data(as_text=True)]
    for text in public:
        for secret in ("150525197805061234", "13847512345", "幸福街12号", "李娜"):
            assert secret not in text
    assert "张建国" in public[0] and "李某某" in public[0]
    assert json.loads(public[3])["entry"]["body"] is None  # the raw bytes never leave


SERVED_INSPECTION = {"place": "大沁他拉镇某网吧", "started": "2026-09-01 21:10", "ended": "2026-09-01 21:50",
                     "findings": "发现问题", "officers": [A, B]}


def test_proof_only_while_published_and_it_still_checks(config, tmp_path, client):
    case, entry = decided(config, tmp_path)
    publish_tree_head(config)
    client.application.config["SANXIANG"] = config
    assert client.get(f"/ledger/proof/{entry.seq}.json").status_code == 404  # not yet published
    cases.record_step(config, case.number, "送达", SERVED, by=A, at=at(15))
    publication_pass(config, now=NOW)
    response = client.get(f"/ledger/proof/{entry.seq}.json")
    assert response.status_code == 200
    (tmp_path / "proof.json").write_bytes(response.data)
    (tmp_path / "pub.pem").write_bytes(client.get("/ledger/pubkey.pem").data)
    (tmp_path / "verify_proof.py").write_bytes(client.get("/ledger/verify_proof.py").data)
    ok = subprocess.run([sys.executable, "-I", "verify_proof.py", "proof.json", "pub.pem"], cwd=tmp_path,
                        capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.splitlines()[-1].startswith("通过："), ok.stdout
    proof = json.loads(response.data)
    proof["leaf_hash"] = "00" * 32
    (tmp_path / "proof.json").write_text(json.dumps(proof))
    assert subprocess.run([sys.executable, "-I", "verify_proof.py", "proof.json", "pub.pem"], cwd=tmp_path,
                          capture_output=True, text=True).returncode == 1
    assert "下载证明" in client.get("/ledger/").get_data(as_text=True)
    row = Disclosure.by_entry(entry.seq)
    publication.withdraw(config, row, clerk(), "该决定已被行政复议决定撤销", revoked_on="2026-09-15", now=NOW)
    assert client.get(f"/ledger/proof/{entry.seq}.json").status_code == 404


def test_a_minor_party_is_never_published(config, tmp_path):
    case = cases.open_case(config, party={"kind": "自然人", "name": "王小明", "address": "奈曼旗某村",
                                          "birth_date": "2010-03-01"}, handlers=[A, B], by=A,
                           data={"item_code": "CF-002", "source": "巡查", "facts": "f", "approver": "局长"}, at=at(1))
    audio = with_audio(config, case, tmp_path)
    cases.record_step(config, case.number, "现场检查", dict(SERVED_INSPECTION), by=A, attachments=[audio], at=at(1, 22))
    cases.record_step(config, case.number, "拟决定", {"report": "r", "penalty": "不予处罚", "fine_yuan": 0, "level": "轻微",
                                                   "reasoning": "未满十四周岁"}, by=A, at=at(3))
    entry = cases.record_step(config, case.number, "不予处罚", {"decision_no": "奈文旅不罚〔2026〕4号", "reason": "r",
                                                            "basis": "b", "decided_on": "2026-09-04"}, by=A, at=at(4))
    cases.record_step(config, case.number, "送达", dict(SERVED, served_on="2026-09-05"), by=A, at=at(5))
    publication_pass(config, now=NOW)
    row = Disclosure.by_entry(entry.seq)
    assert row.status == publication.WITHHELD and row.withheld_reason == "当事人为未成年人"
    assert publication.public_record(row.id) is None


def test_staff_correct_the_masking_on_record_and_withdraw_in_the_open(config, tmp_path, client):
    case, entry = decided(config, tmp_path)
    cases.record_step(config, case.number, "送达", SERVED, by=A, at=at(15))
    publication_pass(config, now=NOW)
    row = Disclosure.by_entry(entry.seq)
    staff = clerk()
    with pytest.raises(publication.PublicationError, match="原文中没有"):
        publication.correct_masking(config, row, staff, extra=["不存在的字"], reason="测试更正理由")
    publication.correct_masking(config, row, staff, extra=["现场检查笔录及录音"], reason="证据名称涉及个人，隐去")
    row = Disclosure.by_id(row.id)
    assert "现场检查笔录及录音" not in row.masked and row.version == 2 and row.public_note.startswith("已更新")
    assert any(e.action == "人工更正" and e.by == staff.label for e in row.events())
    with pytest.raises(publication.PublicationError, match="理由"):
        publication.withdraw(config, row, staff, "撤", revoked_on="2026-09-15")
    publication.withdraw(config, row, staff, "该决定已被行政复议决定撤销", revoked_on="2026-09-15", now=NOW)
    page = client.get(f"/disclosures/{row.id}").get_data(as_text=True)
    assert "已撤回" in page and "行政复议决定撤销" in page and "奈曼旗星空网吧" not in page
    assert "奈曼旗星空网吧" not in client.get("/disclosures/?q=星空").get_data(as_text=True)
    outsider = Staff.add(None, "局外人", "承办人", Officer.by_cert_no(B))
    with pytest.raises(publication.PublicationError, match="权限"):
        publication.withhold(config, Disclosure.by_id(row.id), outsider, "涉及商业秘密")


def test_a_correction_of_the_decision_goes_out_as_an_update(config, tmp_path):
    case, entry = decided(config, tmp_path)
    cases.record_step(config, case.number, "送达", SERVED, by=A, at=at(15))
    publication_pass(config, now=NOW)
    cases.correct(config, case.number, entry.seq, {"facts": "接纳未成年人2名"}, "违法事实表述不完整，补正", by=A, at=at(16))
    publication_pass(config, now=dt.datetime(2026, 9, 16, 12))
    row = Disclosure.by_entry(entry.seq)
    assert "接纳未成年人2名" in row.masked and row.version == 2 and "补正" in row.public_note
    assert row.change == "" and row.change_due is not None


def test_reminders_escalation_and_expiry_catch_up_after_downtime(config, tmp_path):
    case, entry = decided(config, tmp_path)
    officer_a = Staff.add("o_officer_a", "甲", "承办人", Officer.by_cert_no(A))
    head = Staff.add("o_head", "局长", "负责人")
    publication_pass(config, now=NOW)
    row = Disclosure.by_entry(entry.seq)
    soon = row.due_on - dt.timedelta(days=1)
    publication_pass(config, today=soon, now=dt.datetime.combine(soon, dt.time(9)))
    keys = [o.key for o in Outbox.select()]
    assert any(k.startswith(f"publication:{row.id}:soon") and k.endswith(officer_a.openid) for k in keys)
    late = row.due_on + dt.timedelta(days=3)  # the clock was down for days: the next pass catches up
    publication_pass(config, today=late, now=dt.datetime.combine(late, dt.time(9)))
    publication_pass(config, today=late, now=dt.datetime.combine(late, dt.time(9, 10)))
    overdue = [o for o in Outbox.select() if ":overdue:" in o.key]
    assert [o.openid for o in overdue] == [head.openid]  # once, to the head
    cases.record_step(config, case.number, "送达", SERVED, by=A, at=at(15))
    publication_pass(config, today=late, now=dt.datetime.combine(late, dt.time(10)))
    row = Disclosure.by_entry(entry.seq)
    assert row.status == publication.PUBLISHED and row.on_time is False
    month = [m for m in publication.monthly_stats(12, today=late) if m["month"] == f"{row.due_on:%Y-%m}"][0]
    assert (month["due"], month["on_time"], month["late"], month["rate"]) == (1, 0, 1, 0)
    after = row.expires_on + dt.timedelta(days=1)
    publication_pass(config, today=after, now=dt.datetime.combine(after, dt.time(9)))
    assert Disclosure.by_entry(entry.seq).status == publication.EXPIRED
    assert publication.public_record(row.id) is None


def test_provisional_due_dates_are_recomputed_once_the_schedule_is_entered(config, tmp_path):
    case = open_case(config)
    run_to_decision(config, case, tmp_path)
    Disclosure.create(key="case:x", source="case", case_no=case.number, decision_kind="决定", category="行政处罚",
                      authority="局", party="p", decided_on=dt.date(2026, 12, 28), due_on=dt.date(2027, 1, 6),
                      due_provisional=True)
    entered = settings.deep_merge(config, {"workdays": {"schedules": {2027: {"holidays": ["2027-01-01", "2027-01-04"]}}}})
    assert publication.recompute_provisional(entered) == 1
    row = Disclosure.get(Disclosure.key == "case:x")
    assert row.due_on == dt.date(2027, 1, 8) and not row.due_provisional  # two days off: two days later
    assert any(e.action == "期限重算" for e in row.events())


def test_two_passes_at_once_publish_once(config, tmp_path):
    """Two clocks (two processes, or a retry overlapping a slow run): the lock in the database lets one
    pass do the work; the other waits and finds nothing left (SQLite) or steps aside (PostgreSQL)."""
    import threading

    from models.database import connection, db

    case, entry = decided(config, tmp_path)
    cases.record_step(config, case.number, "送达", SERVED, by=A, at=at(15))
    if not db.is_closed():
        db.close()  # each thread opens its own connection, as two processes would
    start, results, errors = threading.Barrier(2), [], []

    def run():
        try:
            start.wait()
            with connection():
                results.append(publication_pass(config, now=NOW))
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.connect(reuse_if_open=True)
    assert errors == []
    assert sum((r or {}).get("公开", 0) for r in results) == 1
    row = Disclosure.by_entry(entry.seq)
    assert [e.action for e in row.events()].count("公开") == 1


def test_draw_results_are_published_once_every_target_has_its_result(app):
    from models import draws
    from models.database import db
    from tests.models.test_draws import CST, full_draw, set_up_pools

    config = app.config["SANXIANG"]
    with app.app_context():
        db.connect(reuse_if_open=True)
        head = set_up_pools(config)
        draw = full_draw(config, head)
        later = dt.datetime(2026, 12, 9, 17, 0, tzinfo=CST)
        selected = draw.result_document()["selected"]
        draws.record_outcome(config, draw.id, selected[0]["uscc"], head, result="发现问题，已责令改正", ended_on="2026-12-03",
                             at=later)
        publication_pass(config, now=later.replace(tzinfo=None))
        row = Disclosure.get(Disclosure.key == f"draw:{draw.id}")
        assert row.status == publication.PENDING and row.served_on is None  # results still missing
        for target in selected[1:]:
            draws.record_outcome(config, draw.id, target["uscc"], head, result="未发现问题", ended_on="2026-12-04", at=later)
        publication_pass(config, now=later.replace(tzinfo=None))
        row = Disclosure.get(Disclosure.key == f"draw:{draw.id}")
        assert row.status == publication.PUBLISHED and row.category == "行政检查"
        assert row.due_on == draw.publication_due(config).due and "发现问题，已责令改正" in row.masked


def test_a_catch_up_runs_in_short_rounds(config, tmp_path):
    """More ready records than one round takes: the pass goes round until all are out, each round its own
    transaction (no long hold on SQLite's write lock)."""
    case, entry = decided(config, tmp_path)
    for n in range(5):
        Disclosure.create(key=f"case:bulk{n}", source="case", case_no=case.number, decision_kind="决定",
                          category="行政处罚", authority="局", party=f"p{n}", decided_on=dt.date(2026, 9, 10),
                          due_on=dt.date(2026, 9, 21), served_on=dt.date(2026, 9, 11))
    report = publication_pass(config, now=NOW, batch=2)
    assert report["公开"] == 5
    assert Disclosure.select().where(Disclosure.status == publication.PUBLISHED).count() == 5
