"""The restore drill: back up a working installation, lose it, restore it, and `verify` passes —
on SQLite and on PostgreSQL (pg_dump/pg_restore), through the commands an administrator types."""
import json
import os
import shutil
import uuid

import psycopg2
import pytest
from click.testing import CliRunner

import bot


@pytest.fixture
def installation(database_url, tmp_path, monkeypatch):
    """Environment of one installation whose files all live in this test's folder."""
    env = {"DATABASE_URL": database_url, "LEDGER_KEY_PATH": str(tmp_path / "keys" / "ledger.pem"),
           "RECORDS_PATH": str(tmp_path / "records"), "COMPLAINT_EVIDENCE_PATH": str(tmp_path / "evidence"),
           "BADGE_PHOTO_DIR": str(tmp_path / "photos"), "LEDGER_FEED_PATH": str(tmp_path / "feed" / "heads.txt")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()

    def run(*args, code=0):
        result = runner.invoke(bot.cli, [str(a) for a in args])
        assert result.exit_code == code, (args, result.output, result.exception)
        return result.output

    run("init-db", "--demo")  # the bureau's lists and the demonstration cases, with evidence files and a signed head
    (tmp_path / "evidence" / "ab").mkdir(parents=True)
    (tmp_path / "evidence" / "ab" / "photo.jpg").write_bytes(b"\xff\xd8\xff complaint photo")
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "15052501001.jpg").write_bytes(b"\xff\xd8\xff officer photo")
    return {"run": run, "tmp": tmp_path, "url": database_url}


def lose_everything(installation):
    """The disaster: the database and every file of the installation are gone (the key is kept offline)."""
    tmp, url = installation["tmp"], installation["url"]
    if url.startswith("sqlite:///"):
        db_file = url[len("sqlite:///"):]
        for suffix in ("", "-wal", "-shm", ".turn"):
            if os.path.exists(db_file + suffix):
                os.unlink(db_file + suffix)
    else:
        from models import db

        if not db.is_closed():
            db.close()
        schema = url.split("search_path%3D", 1)[1]
        with psycopg2.connect(os.environ["TEST_DATABASE_URL"]) as admin:
            admin.cursor().execute(f'DROP SCHEMA "{schema}" CASCADE; CREATE SCHEMA "{schema}"')
    for folder in ("records", "evidence", "photos", "feed"):
        shutil.rmtree(tmp / folder)


def test_restore_drill(installation):
    run, tmp = installation["run"], installation["tmp"]
    before = run("verify")
    assert "核验通过" in before
    output = run("backup", tmp / "backup")
    assert "已备份到" in output and "签名私钥" in output
    manifest = json.loads((tmp / "backup" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["summary"]["ledger_entries"] > 0 and manifest["summary"]["last_head"]
    assert manifest["file_counts"]["records"] > 0 and manifest["file_counts"]["complaint-evidence"] == 1
    assert "heads.txt" in manifest["files"] and "pubkey.pem" in manifest["files"]
    assert not any("ledger.pem" in name for name in manifest["files"])  # the signing key is never in it

    lose_everything(installation)

    output = run("restore", tmp / "backup")
    assert "核验通过" in output, output
    assert run("verify").splitlines()[0] == before.splitlines()[0]  # same entries, heads, files and root
    assert (tmp / "evidence" / "ab" / "photo.jpg").read_bytes() == b"\xff\xd8\xff complaint photo"
    assert (tmp / "photos" / "15052501001.jpg").exists()
    run("ledger", "sign")  # the restored installation goes on signing


def test_restore_refuses_a_used_database_unless_replacing_and_keeps_a_safety_copy(installation):
    run, tmp = installation["run"], installation["tmp"]
    run("backup", tmp / "b1")
    output = run("restore", tmp / "b1", code=1)
    assert "--replace" in output
    output = run("restore", "--replace", tmp / "b1")
    assert "替换前的数据已备份到" in output and "核验通过" in output
    [safety] = list(tmp.glob("before-restore-*"))
    assert json.loads((safety / "manifest.json").read_text(encoding="utf-8"))["summary"]["ledger_entries"] > 0


def test_damaged_or_foreign_backups_are_refused_before_anything_changes(installation):
    run, tmp = installation["run"], installation["tmp"]
    run("backup", tmp / "b")
    assert "备份完整" in run("restore", "--check", tmp / "b")
    [name] = [n for n in json.loads((tmp / "b" / "manifest.json").read_text())["files"] if n.startswith("records/")][:1]
    path = tmp / "b" / name
    path.chmod(0o644)
    path.write_bytes(b"tampered")
    output = run("restore", "--replace", tmp / "b", code=1)
    assert "备份已损坏" in output and name in output
    assert not list(tmp.glob("before-restore-*"))  # refused before anything was touched
    assert "备份失败" in run("backup", tmp / "b", code=1)  # an existing backup is never overwritten
    (tmp / "empty").mkdir()
    assert "不是完整的备份" in run("restore", tmp / "empty", code=1)


def test_backup_is_consistent_while_the_log_grows(installation):
    """Heads are copied before the database: a head signed during the backup is never ahead of the copy."""
    run, tmp = installation["run"], installation["tmp"]
    run("ledger", "sign")
    run("backup", tmp / f"b-{uuid.uuid4().hex[:6]}")
    [backup] = [p for p in tmp.glob("b-*")]
    lose_everything(installation)
    assert "核验通过" in run("restore", backup)
