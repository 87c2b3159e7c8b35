"""PostgreSQL without Redis, several servers (wechat.replay_record: shared): the replay claim rides along with the delivery's first look (one statement,
models/replay.py PendingClaim); it must refuse and allow exactly as a claim of its own does."""
import os
import time

import pytest
from wechatpy import parse_message

import bot
from handlers.cli.chat import inbound_xml
from models import InboundMessage
from models.database import db
from models.replay import FIRST, REFUSED, REPEAT, PendingClaim, PostgresReplayRecord
from models.seed import prepare_database
from tests.conftest import WeChatUser, make_config, postgresql_reachable, postgresql_schema

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL") or not postgresql_reachable(),
                                reason="needs TEST_DATABASE_URL (.ci/run sets it)")


@pytest.fixture
def pg_app(fake_wechat):
    with postgresql_schema() as url:
        config = make_config(url, api_base=fake_wechat.api_base)
        config["redis"]["url"] = ""  # the claim in PostgreSQL's own table (several servers, no Redis)
        config["wechat"]["replay_record"] = "shared"
        application = bot.create_app({"SANXIANG": config, "TESTING": True})
        prepare_database(application.config["SANXIANG"])
        assert isinstance(application.extensions["replay_record"], PostgresReplayRecord)
        yield application
        InboundMessage.batch.flush()
        if not db.is_closed():
            db.close()


@pytest.fixture
def user(pg_app):
    return WeChatUser(pg_app.test_client(), pg_app)


def rows():
    return InboundMessage.select().count()


def test_first_use_answered_identical_repeat_same_words_other_body_refused(user, pg_app):
    query, xml = user.query(), inbound_xml(user.openid, text="帮助", msg_id=5001)
    first = user.post(xml, query=query)
    assert first.status_code == 200 and parse_message(first.data).content
    again = user.post(xml, query=query)
    assert again.status_code == 200 and again.data == first.data
    InboundMessage.batch.flush()
    before = rows()
    forged = user.post(inbound_xml(user.openid, text="投诉", msg_id=5002), query=query)
    assert forged.status_code == 403
    InboundMessage.batch.flush()
    assert rows() == before


def test_a_refused_replay_of_a_reply_still_in_the_batch_gets_no_reply(user, pg_app):
    """The first look finds the reply in this worker's batch without asking the database; the claim
    is then made on its own, and still refuses another body."""
    pg_app.config["SANXIANG"]["wechat"]["record_batch_seconds"] = 60
    InboundMessage.batch.configure(60, 1000)
    try:
        query, xml = user.query(), inbound_xml(user.openid, text="帮助", msg_id=5101)
        first = user.post(xml, query=query)
        assert InboundMessage.batch.reply_for(f"m:{user.openid}:5101") is not None
        # the same MsgId and user, another body (a forged field) under the same signature
        forged = xml.replace("帮助", "执法主体")
        assert user.post(forged, query=query).status_code == 403
        assert user.post(xml, query=query).data == first.data
    finally:
        InboundMessage.batch.flush()


def test_a_stale_claim_is_taken_over_and_a_concurrent_one_is_asked_again(pg_app):
    record = pg_app.extensions["replay_record"]
    with pg_app.app_context():
        db.connect(reuse_if_open=True)
        old = time.time() - record.window - 10
        db.execute_sql("INSERT INTO used_nonce VALUES (%s, %s, %s)", ("1:old", "x" * 64, old))
        claim = record.pending("1", "old", b"new body")
        InboundMessage.first_look(None, "o_x", (), claim=claim)
        assert claim.outcome == FIRST
        # A row committed by another request while the statement ran is not in its snapshot: the
        # statement then reports no row and no insert, and the claim asks again.
        racing = record.pending("2", "race", b"body")
        db.execute_sql("INSERT INTO used_nonce VALUES (%s, %s, %s)", ("2:race", racing.digest, time.time()))
        assert racing.settle(0, None) == REPEAT
        other = record.pending("2", "race", b"other body")
        assert other.settle(0, None) is REFUSED
        assert isinstance(other, PendingClaim) and record.pending("3", "", b"x") is REFUSED
