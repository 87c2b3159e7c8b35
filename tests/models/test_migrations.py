"""Schema migrations: a database made by the code of 2026-11-27 (before migrations; its dumps are in
tests/fixtures/legacy_2026_11/, with the data a bureau would have — the seeded lists, the demonstration
case files with signed heads, staff and complaints) is upgraded in place: nothing is lost, the case
file still verifies, and what the migrations build is what the models describe."""
import datetime as dt
import shutil
import sqlite3
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

import bot
from models import ALL_MODELS, Staff, db, migrations
from models.complaints import Complaint, ComplaintEvent
from models.delivery import InboundMessage
from models.ledger import LedgerEntry
from models.seed import prepare_database
from tests.conftest import ROOT, make_config

LEGACY = ROOT / "tests" / "fixtures" / "legacy_2026_11"
# The legacy database had none of them: an upgrade applies every one, in order.
ALL_MIGRATIONS = sorted(p.stem for p in (ROOT / "models" / "migrations").glob("[0-9][0-9][0-9][0-9]_*.py"))
COUNTED = ("officer", "enforcementitem", "flowstep", "complaint", "complaint_event", "ledger_entry",
           "enforcement_case", "tree_head", "complaint_outbox")


def load_legacy(database_url, drop_before_migrations=False):
    """Fill the empty database behind `database_url` with the legacy dump."""
    if database_url.startswith("sqlite:///"):
        path = database_url[len("sqlite:///"):]
        with sqlite3.connect(path) as conn:
            conn.executescript((LEGACY / "sqlite.sql").read_text(encoding="utf-8"))
            if drop_before_migrations:
                make_older(conn)
        return
    schema = parse_qs(urlsplit(database_url).query)["options"][0].split("=")[1]
    dump = (LEGACY / "postgresql.sql").read_text(encoding="utf-8")
    dump = dump.replace("CREATE SCHEMA legacy;", "").replace("legacy.", f"{schema}.")
    base = database_url.split("?")[0]
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", base], input=dump, text=True, check=True,
                   capture_output=True, timeout=120)


def make_older(conn):
    """As a database from before 亮证 and before "下一页" was kept: officer without its photo and badge
    columns, delivery records without openid and pages (which used to make the code drop that table)."""
    conn.executescript("""
        DROP INDEX officer_badge_nonce;
        ALTER TABLE officer DROP COLUMN badge_nonce;
        ALTER TABLE officer DROP COLUMN photo;
        DROP INDEX inboundmessage_paged_by_user;
        ALTER TABLE inboundmessage DROP COLUMN pages;
        ALTER TABLE inboundmessage DROP COLUMN openid;
        INSERT INTO inboundmessage ("key", reply, received_at) VALUES ('m:o_old:1', '', '2026-11-26 10:00:00');
    """)


def counts():
    return {table: db.execute_sql(f"SELECT count(*) FROM {table}").fetchone()[0] for table in COUNTED}


@pytest.fixture
def legacy_app(database_url, fake_wechat, tmp_path):
    load_legacy(database_url)
    return upgraded_app(database_url, fake_wechat, tmp_path)


def upgraded_app(database_url, fake_wechat, tmp_path):
    shutil.copytree(LEGACY / "records", tmp_path / "records")
    config = make_config(database_url, api_base=fake_wechat.api_base)
    config.update(ledger={"feed_path": str(tmp_path / "heads.txt"), "private_key_path": str(tmp_path / "no.pem"),
                          "create_key_if_missing": False},
                  evidence={"store_path": str(tmp_path / "records")})
    return bot.create_app({"SANXIANG": config, "TESTING": True})


def test_legacy_database_is_upgraded_in_place(legacy_app, database_url, tmp_path, monkeypatch):
    config = legacy_app.config["SANXIANG"]
    db.connect(reuse_if_open=True)
    before = counts()
    leaves = [bytes(e.leaf_hash) for e in LedgerEntry.select().order_by(LedgerEntry.seq)]
    assert before["complaint"] == 2 and before["ledger_entry"] == 27 and "complaint_staff" in db.get_tables()
    assert migrations.pending() == ALL_MIGRATIONS

    applied, seeded, _ = prepare_database(config)
    assert applied == ALL_MIGRATIONS and not seeded  # the bureau's data is left as it was
    assert counts() == before
    # As `serve` does next: the open 网吧 complaint now follows the 文化市场举报 rules (config
    # complaints.rules); its deadlines are recomputed, and the change goes into its history.
    assert Complaint.recompute_deadlines(config, dt.datetime(2026, 11, 29, 8, 0)) == 1
    assert counts() == {**before, "complaint_event": before["complaint_event"] + 1}
    [moved] = ComplaintEvent.select().where(ComplaintEvent.action == "recompute")
    assert "文化市场举报" in moved.detail and "《信访工作条例》" in moved.detail
    assert [bytes(e.leaf_hash) for e in LedgerEntry.select().order_by(LedgerEntry.seq)] == leaves
    tables = set(db.get_tables())
    assert "staff" in tables and "complaint_staff" not in tables
    assert {s.name: s.role for s in Staff.select()} == {"其木格": "负责人", "乌兰": "受理员", "包海龙": "承办人"}
    # The staff list still works for what was recorded and what comes next.
    assert {e.staff.name for e in ComplaintEvent.select() if e.staff_id} == {"乌兰"}
    head = Staff.by_openid("o_head")
    assert sorted(c.content for c in Complaint.todo(head)) == ["网吧晚上接纳未成年人上网", "黑导游强迫购物很严重"]
    reviewer = Staff.add(None, "白斯琴", "法制审核员")  # no WeChat yet: openid may now be empty
    assert Staff.get_by_id(reviewer.id).openid is None
    # 0016: the cases still running and each year's last case number, built from the log and the index.
    from models.cases import ENDINGS, Case, CaseCounter, CaseOpen

    running = {c.number for c in Case.select() if c.file().status() not in ENDINGS}
    assert {o.number for o in CaseOpen.select()} == running and {c.number for c, _ in Case.open_with_status()} == running
    assert {k.year: k.last for k in CaseCounter.select()} == {
        year: Case.select().where(Case.opened_on.startswith(str(year))).count()
        for year in {int(c.opened_on[:4]) for c in Case.select()}}
    assert migrations.pending() == [] and prepare_database(config)[0] == []  # a second run changes nothing

    # `bot.py verify`, as an auditor runs it, with the key the legacy heads were signed with.
    db.close()
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("RECORDS_PATH", str(tmp_path / "records"))
    monkeypatch.setenv("LEDGER_KEY_PATH", str(tmp_path / "no.pem"))
    monkeypatch.setenv("LEDGER_FEED_PATH", str(tmp_path / "heads.txt"))  # the app's, not the project's var/
    result = CliRunner().invoke(bot.cli, ["verify", "--pubkey", str(LEGACY / "pubkey.pem")])
    assert result.exit_code == 0, result.output
    assert "核验通过" in result.output and f"共{before['ledger_entry']}条记录" in result.output
    assert "复核文件8个" in result.output


def test_older_columns_are_added_not_dropped(database_url, fake_wechat, tmp_path):
    if not database_url.startswith("sqlite"):
        pytest.skip("the older variants are made from the SQLite dump")
    load_legacy(database_url, drop_before_migrations=True)
    app = upgraded_app(database_url, fake_wechat, tmp_path)
    db.connect(reuse_if_open=True)
    assert "photo" not in {c.name for c in db.get_columns("officer")}
    prepare_database(app.config["SANXIANG"])
    assert {"photo", "badge_nonce"} <= {c.name for c in db.get_columns("officer")}
    assert {"openid", "pages"} <= {c.name for c in db.get_columns("inboundmessage")}
    # The delivery record made before the columns existed is still there (it used to be dropped).
    assert [(m.key, m.openid) for m in InboundMessage.select()] == [("m:o_old:1", "")]
    from models import Officer

    Officer.update(badge_nonce="ab").where(Officer.cert_no == "15052501001").execute()
    with pytest.raises(Exception, match="(?i)unique"):  # the badge token's uniqueness came back too
        Officer.update(badge_nonce="ab").where(Officer.cert_no == "15052501002").execute()
    db.close()


def test_migrations_build_what_the_models_describe(app):
    """A model changed without a migration fails here: every column the models name exists, with the
    same nullability, and no table has a column the models do not know."""
    db.connect(reuse_if_open=True)
    for model in ALL_MODELS:
        table = model._meta.table_name
        in_db = {c.name: c.null for c in db.get_columns(table)}
        in_model = {f.column_name: f.null for f in model._meta.sorted_fields}
        assert set(in_db) == set(in_model), table
        for column, null in in_model.items():
            if not model._meta.columns[column].primary_key:
                assert in_db[column] == null, (table, column, "null" if null else "not null")
    assert migrations.applied() == ALL_MIGRATIONS


def test_migrate_command(database_url, fake_wechat, tmp_path, monkeypatch):
    load_legacy(database_url)
    upgraded_app(database_url, fake_wechat, tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    listed = runner.invoke(bot.cli, ["migrate", "--list"])
    assert listed.exit_code == 0 and "、".join(ALL_MIGRATIONS) in listed.output
    done = runner.invoke(bot.cli, ["migrate"])
    assert done.exit_code == 0 and "已执行迁移：" + "、".join(ALL_MIGRATIONS) in done.output, done.output
    again = runner.invoke(bot.cli, ["migrate"])
    assert again.exit_code == 0 and "无需迁移" in again.output
    db.connect(reuse_if_open=True)
    assert db.execute_sql("SELECT count(*) FROM complaint").fetchone()[0] == 2
    db.close()


def test_nothing_is_stamped_that_did_not_run(app):
    """A fresh database gets its schema from the migrations themselves, recorded once each."""
    db.connect(reuse_if_open=True)
    rows = db.execute_sql("SELECT name FROM schema_migration ORDER BY id").fetchall()
    assert [r[0] for r in rows] == ALL_MIGRATIONS
