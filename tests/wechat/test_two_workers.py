"""Two workers of one server (two apps on one database and one replay record folder): what one worker was
told, the other knows, although a new message from a user in no dialogue asks the database nothing first
(models/replay.py FileReplayRecord.check_in, issue 20)."""
import copy

import pytest
from wechatpy import parse_message

import bot
from handlers.cli.chat import inbound_xml
from models import InboundMessage
from models.complaints import ComplaintDraft
from models.database import db
from models.replay import FileReplayRecord
from tests.conftest import WeChatUser


@pytest.fixture
def workers(app):
    """(worker A, worker B): two clients, each of an app with its own replay record over the same folder."""
    other = bot.create_app({"SANXIANG": copy.deepcopy(app.config["SANXIANG"]), "TESTING": True})
    for each in (app, other):
        assert isinstance(each.extensions["replay_record"], FileReplayRecord)
    assert other.extensions["replay_record"] is not app.extensions["replay_record"]
    return WeChatUser(app.test_client(), app, "o_two"), WeChatUser(other.test_client(), other, "o_two")


def test_a_retry_that_reaches_the_other_worker_gets_the_first_reply(workers):
    a, b = workers
    assert "下一页" in a.say("执法事项", msg_id=7001)
    second_page = a.post(inbound_xml("o_two", text="下一页", msg_id=7002))
    InboundMessage.batch.flush()  # written, as it is long before WeChat retries (5 s)
    retried = b.post(inbound_xml("o_two", text="下一页", msg_id=7002))  # another nonce: WeChat's retry
    assert retried.status_code == 200 and retried.data == second_page.data
    third_page = parse_message(b.post(inbound_xml("o_two", text="下一页", msg_id=7003)).data).content
    assert third_page != parse_message(second_page.data).content


def test_a_dialogue_begun_on_one_worker_takes_the_next_message_on_the_other(workers):
    a, b = workers
    listing = b.say("网吧", msg_id=7100)  # what the word answers outside a dialogue
    begun = a.say("我要投诉", msg_id=7101)
    with db.connection_context():
        draft = ComplaintDraft.open_for("o_two")
    assert draft is not None, begun
    answer = b.say("网吧", msg_id=7102)
    assert answer != listing
    with db.connection_context():
        assert ComplaintDraft.open_for("o_two").updated_at >= draft.updated_at


def test_a_dialogue_open_before_the_server_started_is_not_missed(app, workers):
    a, _ = workers
    a.say("我要投诉", msg_id=7201)
    # a server started anew: a record folder with nothing in it, seeded from the database
    config = copy.deepcopy(app.config["SANXIANG"])
    config["wechat"]["replay_record_path"] = str(app.extensions["replay_record"].folder) + "-restarted"
    restarted = bot.create_app({"SANXIANG": config, "TESTING": True})
    c = WeChatUser(restarted.test_client(), restarted, "o_two")
    listing = WeChatUser(restarted.test_client(), restarted, "o_other").say("网吧", msg_id=7202)
    assert c.say("网吧", msg_id=7203) != listing
