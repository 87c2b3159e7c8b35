"""Records of read-only answers, written in batches just after the reply (models.delivery.RecordBatch)."""
import subprocess
import sys
import textwrap

from peewee import OperationalError

from handlers.cli.chat import inbound_xml
from models import InboundMessage
from models.delivery import RecordBatch
from tests.conftest import ROOT, TOKEN, make_config, wait_until


def rows():
    return InboundMessage.select().count()


def test_the_writer_records_without_being_asked(wechat_user):
    reply = wechat_user.say("执法主体", msg_id=7001)
    # well inside WeChat's 5 s before its first retry
    wait_until(lambda: rows() > 0, 3, "the batch writer did not record the answer", interval=0.02)
    stored = InboundMessage.get(InboundMessage.key == f"m:{wechat_user.openid}:7001").reply
    assert reply in stored  # the stored XML is the answer given


def test_a_retry_before_the_write_gets_the_same_words(wechat_user, monkeypatch):
    batch = RecordBatch(seconds=60, size=1000)  # its writer waits: the rows stay in memory
    monkeypatch.setattr(InboundMessage, "batch", batch)
    first = wechat_user.say("执法事项", msg_id=7002)
    assert batch.reply_for(f"m:{wechat_user.openid}:7002") and rows() == 0
    assert wechat_user.say("执法事项", msg_id=7002) == first
    following = wechat_user.say("下一页", msg_id=7003)  # pages kept in memory are found too
    assert "（第2/" in following
    assert batch.flush() == 2 and rows() == 2


def test_answers_with_side_effects_are_recorded_before_the_reply(wechat_user, monkeypatch):
    monkeypatch.setattr(InboundMessage, "batch", RecordBatch(seconds=60, size=1000))
    wechat_user.say("投诉", msg_id=7004)  # opens a complaint dialogue: its own transaction
    assert InboundMessage.select().where(InboundMessage.key == f"m:{wechat_user.openid}:7004").exists()


def test_a_failed_write_keeps_the_rows(app, monkeypatch, caplog):
    batch = RecordBatch(seconds=60, size=1000)
    batch.add(InboundMessage.row("m:o_keep:1", "o_keep", "<xml/>", None))
    real = InboundMessage.record_many

    def refuse(rows):
        raise OperationalError("database or disk is full")

    monkeypatch.setattr(InboundMessage, "record_many", refuse)
    assert batch.flush() == 0 and batch.pending() == 1
    assert "will retry" in caplog.text
    monkeypatch.setattr(InboundMessage, "record_many", real)
    assert batch.flush() == 1 and batch.pending() == 0
    assert InboundMessage.get(InboundMessage.key == "m:o_keep:1").reply == "<xml/>"


def test_one_row_the_database_refuses_is_set_aside_and_the_rest_written(app, caplog):
    batch = RecordBatch(seconds=60, size=1000)
    batch.add(InboundMessage.row("m:o_good:1", "o_good", "<xml/>", None))
    bad = list(InboundMessage.row("m:o_bad:2", "o_bad", "<xml/>", None))
    bad[2] = {"not": "text"}  # no database can store this value
    batch.add(tuple(bad))
    batch.add(InboundMessage.row("m:o_good:3", "o_good", "<xml/>", None))
    assert batch.flush() == 3 and batch.pending() == 0
    assert "m:o_bad:2" in caplog.text and "set aside" in caplog.text
    assert {m.key for m in InboundMessage.select()} == {"m:o_good:1", "m:o_good:3"}
    # and the batch goes on working
    batch.add(InboundMessage.row("m:o_good:4", "o_good", "<xml/>", None))
    assert batch.flush() == 1 and rows() == 3


def test_while_the_database_is_away_the_batch_is_bounded(app, monkeypatch):
    batch = RecordBatch(seconds=60, size=1000)
    monkeypatch.setattr(RecordBatch, "MAX_PENDING", 5)

    def away(rows):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(InboundMessage, "record_many", away)
    for n in range(8):
        batch.add(InboundMessage.row(f"m:o_away:{n}", "o_away", "<xml/>", None))
    batch.flush()
    assert batch.pending() == 5 and batch.reply_for("m:o_away:7") and not batch.reply_for("m:o_away:0")


def test_a_duplicate_in_the_table_is_skipped(app):
    InboundMessage.record_many([InboundMessage.row("m:o_dup:1", "o_dup", "first", None)])
    batch = RecordBatch(seconds=60, size=1000)
    batch.add(InboundMessage.row("m:o_dup:1", "o_dup", "second", None))
    batch.add(InboundMessage.row("m:o_dup:2", "o_dup", "other", None))
    assert batch.flush() == 2
    assert [m.reply for m in InboundMessage.select().order_by(InboundMessage.key)] == ["first", "other"]


def test_a_worker_that_exits_writes_what_it_holds(tmp_path):
    """A worker stopped normally (gunicorn's SIGTERM, Ctrl-C) leaves no answered message unrecorded."""
    url = f"sqlite:///{tmp_path / 'exit.db'}"
    script = textwrap.dedent(f"""
        import bot
        from handlers.cli.chat import inbound_xml, signed_query
        from models.seed import prepare_database
        from models import InboundMessage
        from tests.conftest import make_config
        config = make_config({url!r}, record_batch_seconds=3600, record_batch_size=1000)
        app = bot.create_app({{"SANXIANG": config}})
        prepare_database(app.config["SANXIANG"])
        query = signed_query({TOKEN!r}, int(app.config["CLOCK"]()), "1")
        response = app.test_client().post("/wechat", query_string=query,
                                          data=inbound_xml("o_exit", text="帮助", msg_id=99))
        assert response.status_code == 200
        assert InboundMessage.batch.pending() == 1
    """)
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=60)
    import sqlite3
    with sqlite3.connect(tmp_path / "exit.db") as conn:
        assert conn.execute("SELECT count(*) FROM inboundmessage WHERE key = 'm:o_exit:99'").fetchone()[0] == 1


def test_zero_seconds_records_before_the_reply(database_url, fake_wechat):
    import bot
    from handlers.cli.chat import signed_query
    from models.seed import prepare_database

    config = make_config(database_url, api_base=fake_wechat.api_base, record_batch_seconds=0)
    app = bot.create_app({"SANXIANG": config})
    prepare_database(app.config["SANXIANG"])
    query = signed_query(TOKEN, int(app.config["CLOCK"]()), "1")
    app.test_client().post("/wechat", query_string=query, data=inbound_xml("o_now", text="帮助", msg_id=5))
    assert InboundMessage.batch.pending() == 0 and rows() == 1


def test_a_full_batch_is_written_by_the_request_on_sqlite_and_at_once_by_the_writer_on_postgresql(app):
    """On PostgreSQL writing a batch is a wait for the server: the writer thread waits, not a request."""
    from models import is_sqlite

    batch = RecordBatch(seconds=60, size=2)  # nothing is written because time passed
    assert batch.add(InboundMessage.row("m:o_full:1", "o_full", "<xml/>", None)) is False
    full = batch.add(InboundMessage.row("m:o_full:2", "o_full", "<xml/>", None))
    if is_sqlite():
        assert full is True and rows() == 0  # the request writes it once its reply is out
        assert batch.flush() == 2
    else:
        assert full is False
        wait_until(lambda: rows() == 2, 5, "the writer did not write the full batch")
    assert rows() == 2 and batch.pending() == 0
