"""The /wechat endpoint: handshake, the three message modes, every refusal, failures and retries."""
import json
import logging
import time
import uuid

import pytest
import xmltodict
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto

import bot
from models.seed import prepare_database  # noqa: E402
from handlers.wechat import router
from handlers.cli.chat import inbound_xml, signed_query
from models import InboundMessage
from tests.conftest import AES_KEY, APPID, SAMPLES, TOKEN, make_config


def inbound_count():
    InboundMessage.batch.flush()  # read-only answers are recorded in batches, just after the reply
    return InboundMessage.select().count()


def encrypt(xml, nonce, timestamp, token=TOKEN, key=AES_KEY, appid=APPID):
    """Return (msg_signature, body) of a safe-mode envelope as WeChat sends it."""
    envelope = xmltodict.parse(WeChatCrypto(token, key, appid).encrypt_message(xml, nonce, timestamp))["xml"]
    body = xmltodict.unparse({"xml": {"ToUserName": "gh_test", "Encrypt": envelope["Encrypt"]}}, full_document=False)
    return envelope["MsgSignature"], body


def decrypt_reply(data, token=TOKEN, key=AES_KEY, appid=APPID):
    reply = xmltodict.parse(data)["xml"]
    plain = WeChatCrypto(token, key, appid).decrypt_message(data, reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"])
    return parse_message(plain)


# -- handshake -------------------------------------------------------------------------------------

def test_handshake_echoes_when_signed(client, wechat_user):
    response = client.get("/wechat", query_string={**wechat_user.query(), "echostr": "hello123"})
    assert response.status_code == 200 and response.data == b"hello123"


def test_handshake_refuses_bad_signature(client, wechat_user):
    query = {**wechat_user.query(), "echostr": "hello123"}
    query["signature"] = "0" * 40
    assert client.get("/wechat", query_string=query).status_code == 403


# -- the three modes ------------------------------------------------------------------------------

def test_plaintext_text_message(wechat_user):
    reply = wechat_user.say("假唱")
    assert "营业性演出管理条例" in reply and "第四十七条" in reply


def test_safe_mode_round_trip(client, app):
    now = int(app.config["CLOCK"]())
    msg_signature, body = encrypt(inbound_xml("o_safe", text="执法主体"), "777", now)
    query = {**signed_query(TOKEN, now, "777"), "encrypt_type": "aes", "msg_signature": msg_signature}
    response = client.post("/wechat", query_string=query, data=body)
    assert response.status_code == 200
    assert "奈曼旗文化和旅游局" in decrypt_reply(response.data).content


def test_compatible_mode_round_trip(client, app):
    now = int(app.config["CLOCK"]())
    xml = inbound_xml("o_compat", text="救济")
    msg_signature, envelope = encrypt(xml, "778", now)
    # Compatible mode carries the plaintext fields beside Encrypt, and both signatures.
    fields = xmltodict.parse(xml)["xml"]
    fields["Encrypt"] = xmltodict.parse(envelope)["xml"]["Encrypt"]
    body = xmltodict.unparse({"xml": fields}, full_document=False)
    query = {**signed_query(TOKEN, now, "778"), "encrypt_type": "aes", "msg_signature": msg_signature}
    response = client.post("/wechat", query_string=query, data=body)
    assert response.status_code == 200
    assert "行政复议" in decrypt_reply(response.data).content


# -- refusals: status code, no traceback, nothing written -----------------------------------------

def bad_requests(app):
    now = int(app.config["CLOCK"]())
    app.config["CLOCK"] = lambda: now  # the window's edges are tested to the second
    good_xml = inbound_xml("o_bad", text="帮助")
    signed = Fresh(now)  # a new nonce each time it is used: a used pair is refused whatever the body
    stale = signed_query(TOKEN, now - 301, "1")
    future = signed_query(TOKEN, now + 301, "1")
    wrong = dict(signed_query(TOKEN, now, "1"), signature="f" * 40)
    msg_signature, envelope = encrypt(good_xml, "2", now)
    aes_query = {**signed_query(TOKEN, now, "2"), "encrypt_type": "aes", "msg_signature": msg_signature}
    return [
        ("no signature", {}, good_xml, 403),
        ("wrong signature", wrong, good_xml, 403),
        ("stale timestamp", stale, good_xml, 403),
        ("future timestamp", future, good_xml, 403),
        ("timestamp not a number", dict(signed_query(TOKEN, "abc", "1")), good_xml, 403),
        ("encrypted, msg_signature only", {k: v for k, v in aes_query.items() if k != "signature"}, envelope, 403),
        ("wrong msg_signature", dict(aes_query, msg_signature="0" * 40), envelope, 403),
        ("ciphertext altered", aes_query, envelope.replace("<Encrypt>", "<Encrypt>AAAA"), 403),
        ("body over 64 KiB", signed, "<xml>" + "x" * 70000 + "</xml>", 413),
        ("malformed XML", signed, "<xml><MsgType>text</MsgType>", 400),
        ("not XML at all", signed, "hello", 400),
        ("missing MsgType", signed, "<xml><FromUserName>o</FromUserName><CreateTime>1</CreateTime></xml>", 400),
        ("empty body", signed, "", 400),
        ("encrypted without Encrypt", aes_query, "<xml><ToUserName>x</ToUserName></xml>", 400),
    ]


class Fresh:
    """A signed query with a new nonce each time it is read."""

    def __init__(self, now):
        self.now = now

    def query(self):
        return signed_query(TOKEN, self.now, uuid.uuid4().hex[:10])


def test_every_bad_request_is_refused_and_writes_nothing(client, app):
    for name, query, body, status in bad_requests(app):
        query = query.query() if isinstance(query, Fresh) else query
        response = client.post("/wechat", query_string=query, data=body.encode() if isinstance(body, str) else body)
        assert response.status_code == status, name
        assert b"Traceback" not in response.data and b"<title>" not in response.data.lower(), name
    assert inbound_count() == 0


def test_replay_window_is_configurable(database_url, fake_wechat):
    app = bot.create_app({"SANXIANG": make_config(database_url, replay_window_seconds=3600)})
    prepare_database(app.config["SANXIANG"])
    query = signed_query(TOKEN, int(time.time()) - 1800, "5")
    response = app.test_client().post("/wechat", query_string=query, data=inbound_xml("o", text="帮助"))
    assert response.status_code == 200 and "执法事项" in parse_message(response.data).content
    # The configured window, not an absent one: past it the same request is refused.
    stale = signed_query(TOKEN, int(time.time()) - 3700, "5")
    assert app.test_client().post("/wechat", query_string=stale, data=inbound_xml("o", text="帮助")).status_code == 403


# -- failures and retries ---------------------------------------------------------------------------

def test_failing_handler_gets_apology_and_log(wechat_user, monkeypatch, caplog):
    def explode(ctx, arg):
        raise RuntimeError("boom")

    monkeypatch.setitem(router.keywords, "帮助", explode)
    with caplog.at_level(logging.ERROR):
        reply = wechat_user.say("帮助", msg_id=4242424242)
    assert "抱歉" in reply
    assert any("4242424242" in r.getMessage() for r in caplog.records)
    # The retry gets the same apology, not a second attempt.
    assert wechat_user.say("帮助", msg_id=4242424242) == reply


def test_retry_gets_same_reply_and_no_second_side_effect(wechat_user):
    first_page = wechat_user.say("网吧", msg_id=1001)
    assert "下一页" in first_page
    second = wechat_user.say("下一页", msg_id=1002)
    # WeChat retries 1002 twice: same words, and the stored pages advance only once.
    assert wechat_user.say("下一页", msg_id=1002) == second
    assert wechat_user.say("下一页", msg_id=1002) == second
    third = wechat_user.say("下一页", msg_id=1003)
    assert third != second and ("（第3/" in third or "完整内容" in third)  # page 3, not page 2 again
    assert inbound_count() == 3


def test_a_cached_long_answer_keeps_its_place_not_its_pages(wechat_user):
    first = wechat_user.say("执法事项", msg_id=2001)
    InboundMessage.batch.flush()
    kept = InboundMessage.get(InboundMessage.key == f"m:{wechat_user.openid}:2001").pages
    assert json.loads(kept) == {"answer": "handlers.wechat.disclosure.items", "arg": "", "page": 1}
    second = wechat_user.say("下一页", msg_id=2002)
    assert "（第2/" in second and second != first
    assert "（第3/" in wechat_user.say("下一页", msg_id=2003)


def test_a_rewrapped_answer_keeps_its_pages(wechat_user):
    """An answer changed on its way out (a notice put in front) is kept page by page."""
    import datetime as dt

    from models.complaints import ComplaintDraft

    wechat_user.say("投诉")
    ComplaintDraft.update(updated_at=dt.datetime(2020, 1, 1)).execute()  # the dialogue has lapsed
    reply = wechat_user.say("执法事项", msg_id=2101)  # answered with the lapse notice in front
    InboundMessage.batch.flush()
    kept = json.loads(InboundMessage.get(InboundMessage.key == f"m:{wechat_user.openid}:2101").pages)
    assert isinstance(kept, list) and kept and "下一页" in reply


def test_an_identical_repeat_waits_for_the_first_reply_another_worker_holds(wechat_user, monkeypatch):
    """WeChat's repeat of a request whose read-only answer still waits in another worker's batch gets
    that answer once it is written, not an answer computed anew (which could differ: 下一页 moves on)."""
    import threading

    from handlers.wechat import endpoint

    query, xml = wechat_user.query(), inbound_xml(wechat_user.openid, text="帮助", msg_id=3001)
    first = wechat_user.post(xml, query=query)
    key = f"m:{wechat_user.openid}:3001"
    row = InboundMessage.batch._rows.pop(key)  # noqa: SLF001 — as if another worker held it
    assert InboundMessage.stored_reply(key) is None
    monkeypatch.setattr(endpoint, "render_reply", lambda ctx, dispatch: ("<xml>computed again</xml>", None))
    writer = threading.Timer(0.3, InboundMessage.record_many, ([row],))
    writer.start()
    again = wechat_user.post(xml, query=query)
    writer.join()
    assert again.status_code == 200 and again.data == first.data


def test_event_retry_deduplicated_by_sender_and_time(wechat_user):
    xml = inbound_xml("o_evt", event="click:ITEMS", now=1_700_000_000)
    first = wechat_user.post(xml)
    again = wechat_user.post(xml)
    assert first.status_code == again.status_code == 200
    assert parse_message(first.data).content == parse_message(again.data).content
    assert inbound_count() == 1


# -- every real sample ------------------------------------------------------------------------------

PLAIN_SAMPLES = sorted(p for p in SAMPLES.glob("*.xml") if not p.name.startswith("encrypted_"))
ENCRYPTED_SAMPLES = sorted(SAMPLES.glob("encrypted_*.xml"))


def test_samples_are_there():
    """The sample tests below must not pass by finding nothing: ../shared/wechat-samples is required."""
    assert len(PLAIN_SAMPLES) >= 80 and len(ENCRYPTED_SAMPLES) >= 5, SAMPLES


def assert_valid_reply(data, decrypt=None):
    if data == b"success":
        return
    reply = parse_message(decrypt(data)) if decrypt else parse_message(data)
    assert reply.type == "text" and reply.content


@pytest.mark.parametrize("sample", PLAIN_SAMPLES, ids=lambda p: p.stem)
def test_plain_sample_is_answered(sample, wechat_user):
    response = wechat_user.post(sample.read_bytes())
    assert response.status_code == 200
    assert_valid_reply(response.data)


@pytest.mark.parametrize("sample", ENCRYPTED_SAMPLES, ids=lambda p: p.stem)
def test_encrypted_sample_is_answered(sample, database_url, fake_wechat):
    meta = json.loads(sample.with_suffix(".json").read_text())
    config = make_config(database_url)
    config["wechat"].update(token=meta["token"], aes_key=meta["EncodingAESKey"], appid=meta["appid"])
    # The samples are years old: freeze the clock at their timestamp instead of widening the window.
    app = bot.create_app({"SANXIANG": config, "CLOCK": lambda: int(meta["timestamp"])})
    prepare_database(app.config["SANXIANG"])
    query = {**signed_query(meta["token"], meta["timestamp"], meta["nonce"]), "encrypt_type": "aes",
             "msg_signature": meta["msg_signature"]}
    response = app.test_client().post("/wechat", query_string=query, data=sample.read_bytes())
    assert response.status_code == 200

    def decrypt(data):
        reply = xmltodict.parse(data)["xml"]
        return WeChatCrypto(meta["token"], meta["EncodingAESKey"], meta["appid"]).decrypt_message(
            data, reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"])

    assert_valid_reply(response.data, decrypt)
    # The same sample's signature does not pass once the clock has moved on.
    app.config["CLOCK"] = lambda: int(meta["timestamp"]) + 301
    assert app.test_client().post("/wechat", query_string=query, data=sample.read_bytes()).status_code == 403


def test_two_different_events_of_one_user_in_the_same_second_get_their_own_replies(wechat_user):
    """Events are deduplicated by sender and time (DOMAIN.md §7) — and by what they are: a subscribe and a menu
    click in the same second are two deliveries; the retry of each gets its own reply."""
    subscribe = inbound_xml("o_evt2", event="subscribe", now=1_700_000_100)
    click = inbound_xml("o_evt2", event="click:OFFICERS", now=1_700_000_100)
    first = parse_message(wechat_user.post(subscribe).data).content
    second = parse_message(wechat_user.post(click).data).content
    assert first != second and "执法人员" in second
    assert parse_message(wechat_user.post(subscribe).data).content == first
    assert parse_message(wechat_user.post(click).data).content == second


@pytest.mark.parametrize("content", ["你好", "<a href='x'>&amp;</a>", "{0} %s ]]>", "第1/3页\n下一页"])
@pytest.mark.parametrize("to_user", ["<ToUserName>gh_test</ToUserName>", ""])
def test_a_text_reply_is_the_xml_wechatpy_renders(content, to_user, monkeypatch):
    """The endpoint builds TextReply's XML itself (make bench): byte for byte what wechatpy would send."""
    from wechatpy.replies import TextReply

    from handlers.wechat.endpoint import text_reply

    monkeypatch.setattr(time, "time", lambda: 1764460000.7)
    message = parse_message(f"<xml>{to_user}<FromUserName>o_reply</FromUserName><CreateTime>1</CreateTime>"
                            "<MsgType>text</MsgType><Content>hi</Content><MsgId>5</MsgId></xml>")
    assert text_reply(message, content) == TextReply(message=message, content=content).render()


ODD_BODIES = [
    "<xml><MsgType>text</MsgType><Content>  两边有空格  </Content><FromUserName>o</FromUserName></xml>",
    "<xml><MsgType>text</MsgType><Content></Content><FromUserName>o</FromUserName></xml>",
    "<xml><MsgType>text</MsgType><Content>a<![CDATA[<b>&]]>c &amp; &#x4e2d;</Content></xml>",
    "<xml>\n  <MsgType>TEXT</MsgType>\n  <Content>x</Content>\n</xml>",
    "<xml><MsgType>event</MsgType><Event>subscribe</Event><EventKey>qrscene_badge_7</EventKey></xml>",
    "<xml><MsgType>event</MsgType><Event>subscribe</Event><EventKey>scanbarcode|x</EventKey></xml>",
    "<xml><MsgType>event</MsgType><Event>CLICK</Event><EventKey>ITEMS</EventKey></xml>",
    "<xml><MsgType>event</MsgType><Event>no_such_event</Event></xml>",
    "<xml><MsgType>event</MsgType></xml>",
    "<xml><MsgType>no_such_type</MsgType></xml>",
]


@pytest.mark.parametrize("body", [p.read_bytes() for p in PLAIN_SAMPLES] + [b.encode() for b in ODD_BODIES])
def test_a_flat_message_is_parsed_as_wechatpy_parses_it(body):
    """The endpoint parses what WeChat sends with ElementTree (make bench); anything else is left to wechatpy."""
    from handlers.wechat.endpoint import flat_message

    fast = flat_message(body)
    if fast is not None:
        slow = parse_message(body)
        assert type(fast) is type(slow) and fast._data == dict(slow._data)


@pytest.mark.parametrize("body", [
    "<?xml version='1.0' encoding='GBK'?><xml><MsgType>text</MsgType></xml>",
    "<!DOCTYPE xml [<!ENTITY e 'x'>]><xml><MsgType>text</MsgType><Content>&e;</Content></xml>",
    "<xml><!-- c --><MsgType>text</MsgType></xml>",
    "<xml a='1'><MsgType>text</MsgType></xml>",
    "<xml><MsgType>text</MsgType><Content a='1'>x</Content></xml>",
    "<xml><MsgType>text</MsgType><Content><b>x</b></Content></xml>",
    "<xml><MsgType>text</MsgType><Content>x</Content><Content>y</Content></xml>",
    "<xml>text<MsgType>text</MsgType></xml>",
    "<xml><MsgType>text</MsgType>tail</xml>",
    "<xml xmlns='urn:x'><MsgType>text</MsgType></xml>",
    "<notxml><MsgType>text</MsgType></notxml>",
    "<xml></xml>",
    "<xml><Content>x</Content></xml>",
    "<xml><MsgType>event</MsgType><Event></Event></xml>",
    "<xml><MsgType>device_text</MsgType></xml>",
    "<xml><MsgType>text</MsgType>",
])
def test_anything_else_is_left_to_wechatpy(body):
    from handlers.wechat.endpoint import flat_message

    assert flat_message(body.encode()) is None
