"""The case file: step order, officers, AV rules, append-only at three levels, verify, proofs."""
import datetime as dt
import json
import shutil
import sqlite3
import subprocess
import sys
import wave
from pathlib import Path

import pytest
from peewee import DatabaseError

import settings
from models import Officer, Staff, cases, ledger, treehead
from models.database import db, is_sqlite
from models.evidence import EvidenceError, EvidenceStore
from models.audit import verify_log
from notices.ledger import RefusedToSign, publish_tree_head
from notices.publication import publication_pass
from tests.conftest import ROOT

A, B, C = "15052501001", "15052501002", "15052501003"
SUSPENDED, EXPIRED = "15052501006", "15052501007"
TZ = ledger.CHINA_TZ


def at(day, hour=10):
    return dt.datetime(2026, 9, day, hour, 0, tzinfo=TZ)


@pytest.fixture
def config(app, tmp_path):
    overrides = {"ledger": {"private_key_path": str(tmp_path / "keys" / "k.pem"), "feed_path": str(tmp_path / "heads.txt")},
                 "evidence": {"store_path": str(tmp_path / "records"), "max_file_bytes": 100_000}}
    db.connect(reuse_if_open=True)
    Staff.add(None, "白斯琴", "法制审核员", Officer.by_cert_no(C))  # records 审核 on cases she does not handle
    yield settings.deep_merge(app.config["SANXIANG"], overrides)
    if not db.is_closed():
        db.close()


def wav(path, frames=800):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x01\x00" * frames)
    return path


INSPECTION = {"place": "大沁他拉镇某网吧", "started": "2026-09-01 21:10", "ended": "2026-09-01 21:50",
              "findings": "发现3名未成年人上网", "officers": [A, B]}


def open_case(config, day=1):
    return cases.open_case(config, party={"kind": "法人或其他组织", "name": "奈曼旗星空网吧", "address": "大沁他拉镇某街1号"},
                           handlers=[A, B], by=A,
                           data={"item_code": "CF-002", "source": "投诉举报", "facts": "群众举报接纳未成年人",
                                 "approver": "局长 张某"}, at=at(day))


def with_audio(config, case, tmp_path, step="现场检查", day=1):
    ev = cases.add_evidence(config, case.number, wav(tmp_path / "rec.wav"), filename="rec.wav", step=step,
                            device="执法记录仪 03", recorded_by=A, recorded_at="2026-09-01 21:10", by=A, at=at(day))
    return ev.seq


def run_to_decision(config, case, tmp_path):
    audio = with_audio(config, case, tmp_path)
    cases.record_step(config, case.number, "现场检查", INSPECTION, by=A, attachments=[audio], at=at(1, 22))
    cases.record_step(config, case.number, "拟决定", {"report": "调查终结", "penalty": "警告，罚款5000元", "fine_yuan": 5000,
                                                   "level": "一般", "reasoning": "按裁量基准一般档次"}, by=A, at=at(3))
    cases.record_step(config, case.number, "告知", {"notice_no": "奈文旅告〔2026〕1号", "facts": "接纳未成年人",
                                                  "basis": "第三十一条", "proposed": "警告，罚款5000元",
                                                  "served_on": "2026-09-04"}, by=A, at=at(4))


DECISION = {"decision_no": "奈文旅罚〔2026〕1号", "facts": "接纳未成年人", "evidence": "现场检查笔录及录音",
            "statement": "当事人未提出陈述申辩", "basis": "第三十一条", "penalty": "警告，罚款5000元",
            "fine_yuan": 5000, "decided_on": "2026-09-14"}


def test_a_case_runs_its_steps_in_order(config, tmp_path):
    case = open_case(config)
    assert case.number == "奈文旅立字〔2026〕第1号"
    with pytest.raises(cases.CaseError, match="先告知当事人"):
        cases.record_step(config, case.number, "决定", DECISION, by=A, at=at(2))
    with pytest.raises(cases.CaseError, match="拟决定前须有调查取证"):
        cases.record_step(config, case.number, "拟决定", {}, by=A, at=at(2))
    run_to_decision(config, case, tmp_path)
    early = dict(DECISION, decided_on="2026-09-08")
    with pytest.raises(cases.CaseError, match="5个工作日"):
        cases.record_step(config, case.number, "决定", early, by=A, at=at(8))
    with pytest.raises(cases.CaseError, match="结案前须已送达"):
        cases.record_step(config, case.number, "结案", {"summary": "x", "approver": "y", "closed_on": "2026-09-20"}, by=A)
    cases.record_step(config, case.number, "决定", DECISION, by=A, at=at(14))
    with pytest.raises(cases.CaseError, match="已作出决定"):
        cases.record_step(config, case.number, "调查取证", {"method": "询问", "content": "x", "officers": [A, B]}, by=A)
    cases.record_step(config, case.number, "送达", {"document": "行政处罚决定书", "method": "邮寄送达", "recipient": "法定代表人",
                                                  "served_on": "2026-09-15", "officers": [A, B],
                                                  "av_exception": "邮寄送达，无现场送达过程，附EMS回执单号"}, by=A, at=at(15))
    with pytest.raises(cases.CaseError, match="执行记录"):
        cases.record_step(config, case.number, "结案", {"summary": "x", "approver": "y", "closed_on": "2026-09-20"}, by=A)
    cases.record_step(config, case.number, "执行", {"method": "自动履行", "result": "已缴纳罚款5000元", "executed_on": "2026-09-18"},
                      by=A, at=at(18))
    cases.record_step(config, case.number, "结案", {"summary": "已执行完毕", "approver": "局长", "closed_on": "2026-09-20"},
                      by=A, at=at(20))
    file = case.file()
    assert file.status() == "结案" and file.allowed_next(config) == []
    with pytest.raises(cases.CaseError, match="已结案"):
        cases.record_step(config, case.number, "执行", {}, by=A)
    assert [e.step for e, _ in cases.av_exceptions()] == ["送达"]


@pytest.mark.parametrize("mutate,message", [
    (lambda d: d.update(officers=[A]), "不得少于2人"),
    (lambda d: d.update(officers=[A, SUSPENDED]), "已暂扣"),
    (lambda d: d.update(officers=[A, EXPIRED]), "已注销"),
    (lambda d: d.pop("findings"), "缺少：检查情况"),
])
def test_bad_steps_are_refused_and_nothing_is_written(config, tmp_path, mutate, message):
    case = open_case(config)
    audio = with_audio(config, case, tmp_path)
    before = ledger.size()
    data = dict(INSPECTION)
    mutate(data)
    with pytest.raises(cases.CaseError, match=message):
        cases.record_step(config, case.number, "现场检查", data, by=A, attachments=[audio], at=at(1, 22))
    assert ledger.size() == before


def test_unknown_case_unknown_item_and_uncertified_recorder(config):
    with pytest.raises(cases.CaseError, match="不存在"):
        cases.record_step(config, "奈文旅立字〔2026〕第99号", "审核", {}, by=A)
    with pytest.raises(cases.CaseError, match="不在《行政执法事项清单》"):
        cases.open_case(config, party={"kind": "自然人", "name": "张某"}, handlers=[A, B], by=A,
                        data={"item_code": "NOPE", "source": "s", "facts": "f", "approver": "a"})
    with pytest.raises(cases.CaseError, match="已暂扣"):
        cases.open_case(config, party={"kind": "自然人", "name": "张某"}, handlers=[A, B], by=SUSPENDED,
                        data={"item_code": "CF-015", "source": "s", "facts": "f", "approver": "a"})
    assert ledger.size() == 0


def test_av_is_required_unless_a_written_reason_is_given(config, tmp_path):
    case = open_case(config)
    with pytest.raises(cases.CaseError, match="音像记录事项清单"):
        cases.record_step(config, case.number, "现场检查", INSPECTION, by=A, at=at(1, 22))
    with pytest.raises(cases.CaseError, match="理由过短"):
        cases.record_step(config, case.number, "现场检查", dict(INSPECTION, av_exception="坏了"), by=A, at=at(1, 22))
    entry = cases.record_step(config, case.number, "现场检查",
                              dict(INSPECTION, av_exception="执法记录仪电池耗尽，备用设备未到，已制作现场笔录并由当事人签字"),
                              by=A, at=at(1, 22))
    assert entry.content["data"]["av_exception"].startswith("执法记录仪")


def test_whole_process_measures_need_whole_process_video(config, tmp_path):
    case = open_case(config)
    photo = cases.add_evidence(config, case.number, _jpeg(tmp_path), filename="p.jpg", step="行政强制", device="相机",
                               recorded_by=A, recorded_at="t", by=A, at=at(1))
    data = {"measure": "扣押", "items": "电脑主机20台", "place": "网吧", "officers": [A, B]}
    with pytest.raises(cases.CaseError, match="录像"):
        cases.record_step(config, case.number, "行政强制", data, by=A, attachments=[photo.seq], at=at(1, 23))


def _jpeg(tmp_path):
    from PIL import Image

    path = tmp_path / "p.jpg"
    Image.new("RGB", (8, 8), (200, 30, 30)).save(path)
    return path


def test_evidence_store_refuses_bad_files(config, tmp_path):
    case = open_case(config)
    exe = tmp_path / "x.exe"
    exe.write_bytes(b"MZ" + b"\0" * 10)
    with pytest.raises(EvidenceError, match="不支持的文件类型"):
        cases.add_evidence(config, case.number, exe, filename="x.exe", step="现场检查", device="d", recorded_by=A,
                           recorded_at="t", by=A)
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(b"not a video at all")
    with pytest.raises(EvidenceError, match="不是mp4格式"):
        cases.add_evidence(config, case.number, fake, filename="fake.mp4", step="现场检查", device="d", recorded_by=A,
                           recorded_at="t", by=A)
    big = wav(tmp_path / "big.wav", frames=60_000)
    with pytest.raises(EvidenceError, match="超过上限"):
        cases.add_evidence(config, case.number, big, filename="big.wav", step="现场检查", device="d", recorded_by=A,
                           recorded_at="t", by=A)
    assert ledger.size() == 1
    assert not list((tmp_path / "records").rglob("*")) or all(p.is_dir() for p in (tmp_path / "records").rglob("*"))


def test_corrections_are_new_entries_shown_beside_the_original(config, tmp_path):
    case = open_case(config)
    audio = with_audio(config, case, tmp_path)
    entry = cases.record_step(config, case.number, "现场检查", INSPECTION, by=A, attachments=[audio], at=at(1, 22))
    fix = cases.correct(config, case.number, entry.seq, {"ended": "2026-09-01 22:05"}, "笔录结束时间笔误，依执法记录仪时间更正", by=B)
    file = case.file()
    assert file.contents[entry.seq]["data"]["ended"] == "2026-09-01 21:50"
    assert file.effective(entry.seq)["ended"] == "2026-09-01 22:05"
    assert fix.content["corrects"] == entry.seq


@pytest.mark.parametrize("sql", ["UPDATE ledger_entry SET step = 'x' WHERE seq = 0", "DELETE FROM ledger_entry",
                                 "UPDATE enforcement_case SET party_name = 'x'", "DELETE FROM enforcement_case",
                                 "DELETE FROM tree_head", "UPDATE tree_head SET size = 0"])
def test_database_refuses_update_and_delete(config, sql):
    open_case(config)
    treehead.sign_head(config)
    with pytest.raises(DatabaseError, match="append-only"):
        with db.atomic():
            db.execute_sql(sql)
    assert ledger.size() == 1


def test_postgresql_refuses_truncate(config):
    if is_sqlite():
        pytest.skip("SQLite has no TRUNCATE")
    open_case(config)
    with pytest.raises(DatabaseError, match="append-only"):
        with db.atomic():
            db.execute_sql("TRUNCATE ledger_entry CASCADE")
    assert ledger.size() == 1


def test_canonical_bytes_and_stored_algorithm(config):
    case = open_case(config)
    entry = ledger.LedgerEntry.get_by_id(case.opened_seq)
    body = bytes(entry.body)
    assert body == ledger.canonical_bytes(json.loads(body))
    assert entry.alg == "sha256" and json.loads(body)["alg"] == "sha256"
    with pytest.raises(ledger.LedgerError, match="小数"):
        ledger.append("step", {"fine": 1.5})
    sm3 = ledger.append("note", {"x": 1}, alg="sm3")
    assert sm3.alg == "sm3"


def test_heads_are_signed_published_and_checked(config, tmp_path):
    case = open_case(config)
    first = publish_tree_head(config, at=at(1, 23))
    run_to_decision(config, case, tmp_path)
    second = publish_tree_head(config, at=at(5, 23))
    assert (tmp_path / "heads.txt").read_text().splitlines() == [first.feed_line(), second.feed_line()]
    key = treehead.load_public_key(config)
    report = verify_log(treehead.published_heads(config), key, EvidenceStore.from_config(config))
    assert report.ok, report.problems
    assert report.heads_checked == 2 and report.files_checked == 1
    from models.audit import fast_scan

    assert fast_scan(batch=2) == ledger.leaf_hashes()  # the fast path reads this backend's rows (memoryviews on PG)


def test_forged_head_is_reported(config, tmp_path):
    open_case(config)
    head = treehead.sign_head(config)
    forged = tmp_path / "forged.txt"
    forged.write_text(f"1 {'00' * 32} {head.timestamp} sha256 {head.key_id} {head.signature}\n")
    report = verify_log(treehead.published_heads(config, [forged]), treehead.load_public_key(config))
    assert any("签名无效" in p.message for p in report.problems)


def test_changed_evidence_file_is_reported(config, tmp_path):
    case = open_case(config)
    seq = with_audio(config, case, tmp_path)
    digest = ledger.LedgerEntry.get_by_id(seq).content["data"]["sha256"]
    path = EvidenceStore.from_config(config).path_for(digest)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes()[:-1] + b"\x07")
    report = verify_log([], treehead.load_public_key(config, None) if False else _key(config),
                        EvidenceStore.from_config(config))
    assert [p.seq for p in report.problems] == [seq] and "内容已改变" in report.problems[0].message


def _key(config):
    return treehead.load_private_key(config, create=True).public_key()


# -- tampering with a copy of the SQLite file, triggers dropped -------------------------------------------

@pytest.fixture
def signed_copy(config, tmp_path):
    """A SQLite case file of 3 cases with a published head, copied; yields (config for the copy, path)."""
    if not is_sqlite():
        pytest.skip("file-level tampering is a SQLite test")
    for day in (1, 2, 3):
        open_case(config, day)
    case = cases.Case.get(cases.Case.number == "奈文旅立字〔2026〕第1号")
    run_to_decision(config, case, tmp_path)
    publish_tree_head(config, at=at(6))
    db.close()
    original = config["database"]["url"][len("sqlite:///"):]
    copy = tmp_path / "tampered.db"
    shutil.copy(original, copy)
    conn = sqlite3.connect(copy)
    for table in ledger.APPEND_ONLY_TABLES:
        for op in ("update", "delete"):
            conn.execute(f"DROP TRIGGER {table}_no_{op}")
    conn.commit()
    yield conn, copy, settings.deep_merge(config, {"database": {"url": f"sqlite:///{copy}"}})
    conn.close()


def run_verify(copy_config, tmp_path, restore_triggers=True):
    """`bot.py verify` on the tampered copy; by default after putting the triggers back, as a careful
    tamperer would (their absence is itself reported: test_missing_triggers_are_named)."""
    if restore_triggers:
        with sqlite3.connect(copy_config["database"]["url"][len("sqlite:///"):]) as conn:
            for table in ledger.APPEND_ONLY_TABLES:
                for statement in ledger._sqlite_triggers(table):
                    conn.execute(statement)
    cfg = tmp_path / "copy.yaml"
    import yaml

    cfg.write_text(yaml.safe_dump(copy_config, allow_unicode=True))
    env = {"DATABASE_URL": copy_config["database"]["url"], "LEDGER_KEY_PATH": copy_config["ledger"]["private_key_path"],
           "PATH": "/usr/bin:/bin"}
    code = (f"import settings, sys; settings.DEFAULT_CONFIG_PATH = {str(cfg)!r}; sys.argv = ['bot.py', 'verify']; "
            "import bot; bot.cli()")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert "Traceback" not in result.stderr, result.stderr  # a finding is reported, never a crash
    return result


def test_untouched_copy_verifies(signed_copy, tmp_path):
    _, _, copy_config = signed_copy
    result = run_verify(copy_config, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "核验通过" in result.stdout


def test_one_changed_byte_is_named(signed_copy, tmp_path):
    conn, _, copy_config = signed_copy
    body = conn.execute("SELECT body FROM ledger_entry WHERE seq = 4").fetchone()[0]
    changed = body.replace("5000".encode(), "500".encode() + b"1") if b"5000" in body else body[:-3] + b"X" + body[-2:]
    assert len(changed) == len(body) and changed != body
    conn.execute("UPDATE ledger_entry SET body = ? WHERE seq = 4", (changed,))
    conn.commit()
    result = run_verify(copy_config, tmp_path)
    assert result.returncode == 1
    assert "第4条记录起" in result.stderr and "第4条记录内容与记录时的哈希不符" in result.stderr


def test_a_forged_hash_column_still_fails_against_the_head(signed_copy, tmp_path):
    conn, _, copy_config = signed_copy
    body = conn.execute("SELECT body FROM ledger_entry WHERE seq = 5").fetchone()[0]
    changed = body.replace("一般".encode(), "严重".encode())
    assert changed != body
    from models import merkle

    conn.execute("UPDATE ledger_entry SET body = ?, leaf_hash = ? WHERE seq = 5", (changed, merkle.leaf_hash(changed)))
    conn.commit()
    result = run_verify(copy_config, tmp_path)
    assert result.returncode == 1
    assert "与数据库不符" in result.stderr
    # Named at its own entry (issue 16): the leaf hash copy written with the entry gives it away.
    assert "第5条记录起" in result.stderr and "第5条记录内容与记录时的哈希不符" in result.stderr
    assert "哈希列也被改写" in result.stderr


def test_a_forged_hash_column_alone_is_told_apart_from_changed_content(signed_copy, tmp_path):
    conn, _, copy_config = signed_copy
    conn.execute("UPDATE ledger_entry SET leaf_hash = zeroblob(32) WHERE seq = 3")
    conn.commit()
    result = run_verify(copy_config, tmp_path)
    assert result.returncode == 1
    assert "第3条记录的哈希列被改动（记录内容未变" in result.stderr and "第3条记录内容与" not in result.stderr


def test_missing_triggers_are_named(signed_copy, tmp_path):
    conn, _, copy_config = signed_copy
    result = run_verify(copy_config, tmp_path, restore_triggers=False)
    assert result.returncode == 1
    assert "表 ledger_entry 缺少防删改触发器 ledger_entry_no_update" in result.stderr
    assert "表 enforcement_case 缺少防删改触发器 enforcement_case_no_delete" in result.stderr
    run_verify(copy_config, tmp_path)  # put back
    conn.execute("DROP TRIGGER tree_head_no_delete")
    conn.execute("CREATE TRIGGER tree_head_no_delete BEFORE DELETE ON tree_head BEGIN SELECT 1; END")
    conn.commit()
    with sqlite3.connect(copy_config["database"]["url"][len("sqlite:///"):]) as other:
        assert other.execute("SELECT sql FROM sqlite_master WHERE name = 'tree_head_no_delete'").fetchone()[0].endswith("SELECT 1; END")
    result = run_verify(copy_config, tmp_path, restore_triggers=False)
    assert result.returncode == 1 and "tree_head_no_delete 被改动或停用" in result.stderr


def test_an_index_edited_behind_the_triggers_is_named_and_documents_follow_the_log(signed_copy, tmp_path):
    """The reported bug: party_name edited in enforcement_case, `verify` passed and the 决定书 named
    someone else. Now verify names the row and the documents print the log's party."""
    from models import documents
    from models.database import open_database

    conn, _, copy_config = signed_copy
    conn.execute("UPDATE enforcement_case SET party_name = '张三' WHERE number = '奈文旅立字〔2026〕第1号'")
    conn.execute("DELETE FROM enforcement_case WHERE number = '奈文旅立字〔2026〕第3号'")
    conn.commit()
    result = run_verify(copy_config, tmp_path)
    assert result.returncode == 1
    assert "案件“奈文旅立字〔2026〕第1号”的当事人名称“张三”与第0条立案记录“奈曼旗星空网吧”不符" in result.stderr
    assert "立案记录（案件“奈文旅立字〔2026〕第3号”）在案件索引中没有对应行" in result.stderr
    open_database(copy_config["database"]["url"])
    db.connect(reuse_if_open=True)
    case = cases.Case.by_number("奈文旅立字〔2026〕第1号")
    rows, paragraphs, _ = documents.form_content(copy_config, case, "行政处罚事先告知书")
    text = str(rows) + "".join(paragraphs)
    assert "奈曼旗星空网吧" in text and "张三" not in text


def test_a_case_limit_edited_behind_the_software_is_named_and_computed_again(signed_copy, tmp_path):
    """case_limit is what #待办 and the reminders read (issue 19): a due date moved in it is named by verify,
    which still holds the log sound, and `case refresh-limits` computes the rows again from the files."""
    from models.database import open_database

    conn, _, copy_config = signed_copy
    conn.execute("UPDATE case_limit SET due = '2030-01-01' WHERE case_no = '奈文旅立字〔2026〕第2号'")
    conn.commit()
    result = run_verify(copy_config, tmp_path)
    assert result.returncode == 1
    assert "案件“奈文旅立字〔2026〕第2号”保存的办案期限（case_limit）与案卷记录算出的不符" in result.stderr
    assert "第" not in result.stderr.split("核验失败：")[1].split("发现")[0]  # no log entry is blamed
    open_database(copy_config["database"]["url"])
    db.connect(reuse_if_open=True)
    assert cases.refresh_limits(copy_config, every=True) == 3  # every case still open
    assert cases.limit_problems(copy_config) == []
    db.close()
    assert run_verify(copy_config, tmp_path).returncode == 0


@pytest.mark.parametrize("sql", ["UPDATE ledger_entry SET body = CAST(body AS TEXT) WHERE seq = 2",
                                 "UPDATE ledger_entry SET leaf_hash = hex(leaf_hash) WHERE seq = 2",
                                 "UPDATE ledger_entry SET body = 42 WHERE seq = 2",
                                 "UPDATE ledger_entry SET body = CAST(body AS TEXT) WHERE kind = 'evidence'"])
def test_values_of_unexpected_type_are_named_not_a_crash(signed_copy, tmp_path, sql):
    conn, _, copy_config = signed_copy
    conn.execute(sql)
    conn.commit()
    result = run_verify(copy_config, tmp_path)  # asserts no traceback
    assert result.returncode == 1
    assert "核验失败：第" in result.stderr


def test_one_deleted_entry_is_named(signed_copy, tmp_path):
    conn, _, copy_config = signed_copy
    conn.execute("DELETE FROM ledger_entry WHERE seq = 2")
    conn.commit()
    result = run_verify(copy_config, tmp_path)
    assert result.returncode == 1
    assert "第2条记录缺失" in result.stderr and "第2条记录起" in result.stderr


def test_the_last_entry_deleted_is_named(signed_copy, tmp_path):
    conn, _, copy_config = signed_copy
    last = conn.execute("SELECT MAX(seq) FROM ledger_entry").fetchone()[0]
    conn.execute("DELETE FROM ledger_entry WHERE seq = ?", (last,))
    conn.commit()
    result = run_verify(copy_config, tmp_path)
    assert result.returncode == 1
    assert f"第{last}条起的记录缺失" in result.stderr


def test_two_swapped_entries_are_named(signed_copy, tmp_path):
    conn, _, copy_config = signed_copy
    rows = {seq: (body, leaf) for seq, body, leaf in conn.execute("SELECT seq, body, leaf_hash FROM ledger_entry WHERE seq IN (1, 3)")}
    for seq, other in ((1, 3), (3, 1)):
        conn.execute("UPDATE ledger_entry SET body = ?, leaf_hash = ? WHERE seq = ?", (*rows[other], seq))
    conn.commit()
    result = run_verify(copy_config, tmp_path)
    assert result.returncode == 1
    assert "第1条记录起" in result.stderr and "第1条位置上的记录内容自称第3条" in result.stderr


def test_signing_refuses_a_tampered_log(signed_copy, tmp_path):
    conn, _, copy_config = signed_copy
    conn.execute("DELETE FROM ledger_entry WHERE seq = 0")
    conn.commit()
    from models.database import open_database

    open_database(copy_config["database"]["url"])
    with pytest.raises(RefusedToSign, match="第0条记录缺失"):
        publish_tree_head(copy_config)


def test_the_fast_path_agrees_with_the_row_by_row_scan(signed_copy):
    """`verify` reads an untouched log in batches; anything out of the ordinary goes to the full scan."""
    from models import audit as verify
    from models.database import open_database

    conn, _, copy_config = signed_copy
    open_database(copy_config["database"]["url"])
    db.connect(reuse_if_open=True)
    rows = db.execute_sql("SELECT seq, body, leaf_hash, alg FROM ledger_entry ORDER BY seq").fetchall()
    assert verify.fast_scan(batch=3) == verify.scan(rows, verify.Report()) and len(rows) > 6
    key = treehead.load_public_key(copy_config)
    # An entry of another algorithm is not SHA-256: the full scan takes it, and the log still verifies.
    ledger.append("note", {"x": 1}, alg="sm3")
    assert verify.fast_scan(batch=3) is None
    report = verify_log(treehead.published_heads(copy_config), key)
    assert all("触发器" in p.message for p in report.problems)  # this copy's triggers were dropped: nothing else
    # Two entries after the last head swapped, hash columns too: no head covers them, the bodies' own
    # indexes give them away.
    ledger.append("note", {"x": 2})
    ledger.append("note", {"x": 3})
    last = ledger.size() - 1
    db.close()
    swapped = {seq: (body, leaf) for seq, body, leaf in
               conn.execute("SELECT seq, body, leaf_hash FROM ledger_entry WHERE seq IN (?, ?)", (last - 1, last))}
    for seq, other in ((last - 1, last), (last, last - 1)):
        conn.execute("UPDATE ledger_entry SET body = ?, leaf_hash = ? WHERE seq = ?", (*swapped[other], seq))
    conn.commit()
    db.connect()
    assert verify.fast_scan() is None
    report = verify_log(treehead.published_heads(copy_config), key)
    assert report.first_bad_entry() == last - 1


# -- proofs for the public ----------------------------------------------------------------------------------

def test_decision_proof_downloads_and_checks_with_the_stdlib_script(config, client, tmp_path):
    case = open_case(config)
    run_to_decision(config, case, tmp_path)
    decision = cases.record_step(config, case.number, "决定", DECISION, by=A, at=at(14))
    cases.record_step(config, case.number, "送达", {"document": "行政处罚决定书", "method": "直接送达", "recipient": "当事人",
                                                  "served_on": "2026-09-15", "officers": [A, B],
                                                  "av_exception": "当事人到局领取，窗口录像另存"}, by=A, at=at(15))
    publication_pass(config, now=dt.datetime(2026, 9, 15, 12))  # proofs are served for published decisions only
    assert client.get(f"/ledger/proof/{decision.seq}.json").status_code == 404  # not under a head yet
    publish_tree_head(config)
    client.application.config["SANXIANG"] = config
    response = client.get(f"/ledger/proof/{decision.seq}.json")
    assert response.status_code == 200
    assert client.get(f"/ledger/proof/{case.opened_seq}.json").status_code == 404  # 立案 is not public
    (tmp_path / "proof.json").write_bytes(response.data)
    (tmp_path / "pub.pem").write_bytes(client.get("/ledger/pubkey.pem").data)
    feed = client.get("/ledger/heads.txt").get_data(as_text=True)
    assert feed.splitlines()[-1] == treehead.TreeHead.latest().feed_line()
    assert "执法全过程记录" in client.get("/ledger/").get_data(as_text=True)
    script = [sys.executable, "-I", str(ROOT / "tools" / "verify_proof.py"), "proof.json", "pub.pem"]
    ok = subprocess.run(script, cwd=tmp_path, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "通过：该记录包含在本局签名发布的执法全过程记录中" in ok.stdout
    proof = json.loads(response.data)
    assert proof["entry"]["body"] is None and "5000" in proof["entry"]["published"]["conclusion"]
    proof["leaf_hash"] = proof["leaf_hash"][::-1]  # another entry's hash is not under the signed root
    (tmp_path / "proof.json").write_text(json.dumps(proof, ensure_ascii=False))
    bad = subprocess.run(script, cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode == 1 and "未通过" in bad.stdout


def test_consistency_route(config, client):
    for day in (1, 2, 3):
        open_case(config, day)
    response = client.get("/ledger/consistency?first=1&second=3")
    assert response.status_code == 200
    document = response.get_json()
    from models import merkle

    entries = ledger.LedgerEntry.select().order_by(ledger.LedgerEntry.seq)
    leaves = [merkle.leaf_hash(bytes(entry.body)) for entry in entries]  # recomputed from the bodies
    assert len(leaves) == 3 and (document["first"], document["second"]) == (1, 3)
    # The roots served are the log's own, not merely two roots the proof happens to join.
    assert document["first_root"] == merkle.root_from_hashes(leaves[:1]).hex()
    assert document["second_root"] == merkle.root_from_hashes(leaves).hex()
    first_root, second_root = bytes.fromhex(document["first_root"]), bytes.fromhex(document["second_root"])
    proof = [bytes.fromhex(h) for h in document["proof"]]
    assert proof == merkle.consistency_proof(1, leaves)
    merkle.verify_consistency(1, 3, first_root, second_root, proof)  # raises ProofError if they do not join
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(1, 3, first_root, merkle.root_from_hashes(leaves[:2]), proof)
    assert client.get("/ledger/consistency?first=1&second=4").status_code == 404  # no tree of 4 yet


def test_standard_documents_carry_the_entry_hash(config, tmp_path):
    from docx import Document

    from models import documents

    case = open_case(config)
    run_to_decision(config, case, tmp_path)
    cases.record_step(config, case.number, "决定", DECISION, by=A, at=at(14))
    assert documents.available_forms(case) == ["立案审批表", "现场检查（勘验）笔录", "行政处罚事先告知书", "行政处罚决定书"]
    with pytest.raises(cases.CaseError, match="尚无“送达”记录"):
        documents.generate(config, case.number, "送达回证", by=A)
    docx_entry, pdf_entry = documents.generate(config, case.number, "行政处罚决定书", by=A)
    decision = case.file().last("决定")[0]
    leaf = ledger.LedgerEntry.get_by_id(decision).leaf_hash_hex
    store = EvidenceStore.from_config(config)
    docx_path = store.path_for(docx_entry.content["data"]["sha256"])
    doc = Document(str(docx_path))
    assert leaf in doc.sections[0].footer.paragraphs[0].text
    text = "\n".join(p.text for p in doc.paragraphs) + "".join(c.text for r in doc.tables[0].rows for c in r.cells)
    assert "行政处罚决定书" in text and "奈文旅罚〔2026〕1号" in text and "行政复议" in text
    # 第五十九条's elements, the payment, the 第七十二条 cap and the 陈述申辩 outcome
    for element in ("大沁他拉镇某街1号", "现场检查笔录及录音", "15日内", "不得超出罚款的数额", "当事人未提出陈述申辩",
                    "行政诉讼", "6个月内"):
        assert element in text, element
    assert "应当先申请行政复议" not in text  # 复议前置 is for 当场处罚 (复议法 第二十三条)
    assert round(doc.sections[0].page_width.mm) == 210 and round(doc.sections[0].page_height.mm) == 297  # A4
    pdf = store.path_for(pdf_entry.content["data"]["sha256"]).read_bytes()
    assert pdf.startswith(b"%PDF-")
    if Path(config["documents"]["font_path"]).exists():  # `make test` installs it (fonts-wqy-microhei)
        assert b"/FontFile2" in pdf and b"STSong-Light" not in pdf  # the subset is embedded
    assert pdf_entry.content["data"]["mime"] == "application/pdf"
    report = verify_log([], _key(config), store)
    assert report.ok and report.files_checked == 3
