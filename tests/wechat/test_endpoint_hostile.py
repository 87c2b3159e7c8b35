"""/wechat against someone who has seen a signed URL, and against bodies WeChat would never send.

A valid signature covers token, timestamp and nonce only. These tests replay signed queries with other
bodies, send plaintext to an account in safe mode, and generate signed messages with every field gone
wrong (hypothesis): the answer is always 200, 400, 403 or 413, a bare status line, and nothing is written
for a refused request.
"""
import contextlib
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wechatpy import parse_message

import bot
from handlers.cli.chat import inbound_xml, signed_query
from models import InboundMessage, db
from models.seed import prepare_database
from tests.conftest import SERVER_BACKEND, TOKEN, make_config, postgresql_schema
from tests.wechat.test_endpoint import encrypt, inbound_count

ALLOWED = {200, 400, 403, 413}


def now_of(app):
    return int(app.config["CLOCK"]())


def test_a_signed_query_used_again_with_another_body_is_refused(client, app):
    query = signed_query(TOKEN, now_of(app), "31415")
    first = client.post("/wechat", query_string=query, data=inbound_xml("o_victim", text="帮助", msg_id=1))
    assert first.status_code == 200
    forged = inbound_xml("o_staff_head", text="#不予受理 TS-1 理由", msg_id=2)
    again = client.post("/wechat", query_string=query, data=forged)
    assert again.status_code == 403 and again.data == b"403 Forbidden"
    assert inbound_count() == 1  # only the first


def test_an_identical_retry_is_answered_the_same(client, app):
    """WeChat resends the identical request when it got no answer: not a replay."""
    query = signed_query(TOKEN, now_of(app), "27182")
    body = inbound_xml("o_retry", text="投诉", msg_id=77)
    first = client.post("/wechat", query_string=query, data=body)
    again = client.post("/wechat", query_string=query, data=body)
    assert first.status_code == again.status_code == 200
    assert parse_message(first.data).content == parse_message(again.data).content


def test_the_record_is_shared_by_workers(database_url, fake_wechat, tmp_path):
    """Two apps on one database stand for two workers: a pair used in one is used in the other."""
    if database_url.startswith("sqlite"):
        database_url = f"sqlite:///{tmp_path / 'shared.db'}"
    config = make_config(database_url)
    one = bot.create_app({"SANXIANG": config})
    prepare_database(one.config["SANXIANG"])
    two = bot.create_app({"SANXIANG": config})
    query = signed_query(TOKEN, now_of(one), uuid.uuid4().hex[:10])
    assert one.test_client().post("/wechat", query_string=query,
                                  data=inbound_xml("o_a", text="帮助", msg_id=5)).status_code == 200
    assert two.test_client().post("/wechat", query_string=query,
                                  data=inbound_xml("o_b", text="帮助", msg_id=6)).status_code == 403


def test_the_record_in_redis(database_url, fake_wechat, redis_url):
    config = make_config(database_url)
    config["redis"] = {"url": redis_url}
    app = bot.create_app({"SANXIANG": config})
    prepare_database(app.config["SANXIANG"])
    query = signed_query(TOKEN, now_of(app), uuid.uuid4().hex[:10])
    post = app.test_client().post
    body = inbound_xml("o_r", text="帮助", msg_id=8)  # built once: a retry resends the same bytes
    assert post("/wechat", query_string=query, data=body).status_code == 200
    assert post("/wechat", query_string=query, data=body).status_code == 200
    assert post("/wechat", query_string=query, data=inbound_xml("o_r", text="你好", msg_id=9)).status_code == 403


@pytest.fixture
def safe_app(database_url, fake_wechat):
    app = bot.create_app({"SANXIANG": make_config(database_url, mode="safe")})
    prepare_database(app.config["SANXIANG"])
    return app


def test_safe_mode_refuses_plaintext(safe_app):
    query = signed_query(TOKEN, now_of(safe_app), "4242")
    response = safe_app.test_client().post("/wechat", query_string=query, data=inbound_xml("o_p", text="帮助"))
    assert response.status_code == 403


def test_safe_mode_answers_encrypted(safe_app):
    now = now_of(safe_app)
    msg_signature, body = encrypt(inbound_xml("o_s", text="帮助"), "4343", now)
    query = {**signed_query(TOKEN, now, "4343"), "encrypt_type": "aes", "msg_signature": msg_signature}
    assert safe_app.test_client().post("/wechat", query_string=query, data=body).status_code == 200


def test_an_aes_key_alone_means_safe_mode(database_url, fake_wechat):
    config = make_config(database_url)
    config["wechat"].pop("mode")
    app = bot.create_app({"SANXIANG": config})
    query = signed_query(TOKEN, now_of(app), "4444")
    assert app.test_client().post("/wechat", query_string=query,
                                  data=inbound_xml("o_p", text="帮助")).status_code == 403


def test_the_handshake_always_checks_signature(client, app):
    query = {"encrypt_type": "aes", "msg_signature": "0" * 40, "timestamp": str(now_of(app)),
             "nonce": "1", "echostr": "owned"}
    response = client.get("/wechat", query_string=query)
    assert response.status_code == 403 and b"owned" not in response.data


MALFORMED = {
    "MsgId not a number": "<xml><ToUserName>gh_x</ToUserName><FromUserName>o_m</FromUserName>"
                          "<CreateTime>1700000000</CreateTime><MsgType>text</MsgType><Content>帮助</Content>"
                          "<MsgId>abc</MsgId></xml>",
    "CreateTime not a number": "<xml><ToUserName>gh_x</ToUserName><FromUserName>o_m</FromUserName>"
                               "<CreateTime>soon</CreateTime><MsgType>text</MsgType><Content>帮助</Content></xml>",
    "FromUserName with an attribute": "<xml><ToUserName>gh_x</ToUserName><FromUserName a=\"1\">o_m</FromUserName>"
                                      "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>",
    "FromUserName with a child": "<xml><ToUserName>gh_x</ToUserName><FromUserName><b>o</b></FromUserName>"
                                 "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>",
    "FromUserName twice": "<xml><ToUserName>gh_x</ToUserName><FromUserName>o_1</FromUserName>"
                          "<FromUserName>o_2</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
                          "<Content>x</Content></xml>",
    "FromUserName too long": "<xml><ToUserName>gh_x</ToUserName><FromUserName>" + "o" * 300 + "</FromUserName>"
                             "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>",
    "Content with a child": "<xml><ToUserName>gh_x</ToUserName><FromUserName>o_m</FromUserName>"
                            "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content><a/></Content></xml>",
    "MsgType with a child": "<xml><ToUserName>gh_x</ToUserName><FromUserName>o_m</FromUserName>"
                            "<CreateTime>1</CreateTime><MsgType><a/></MsgType></xml>",
    "deep nesting": "<xml>" + "<a>" * 5000 + "</a>" * 5000 + "</xml>",
    "entity declaration": "<!DOCTYPE xml [<!ENTITY e \"boom\">]><xml><ToUserName>gh_x</ToUserName>"
                          "<FromUserName>o_m</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
                          "<Content>&e;</Content></xml>",
    "MsgId negative": "<xml><ToUserName>gh_x</ToUserName><FromUserName>o_m</FromUserName>"
                      "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content>"
                      "<MsgId>-5</MsgId></xml>",
    "not UTF-8": b"<xml><FromUserName>\xff\xfe</FromUserName></xml>",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_signed_malformed_message_is_a_bad_request(name, client, wechat_user):
    body = MALFORMED[name]
    response = wechat_user.post(body.encode() if isinstance(body, str) else body)
    assert response.status_code == 400, response.data
    assert response.data == b"400 Bad Request"
    assert inbound_count() == 0


@pytest.mark.parametrize("encrypted", ["", "!!!!", "AAAA", "A" * 44, "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="])
def test_a_broken_envelope_is_a_bad_request(encrypted, client, app):
    from wechatpy.crypto import _get_signature  # WeChat's msg_signature over token, timestamp, nonce, Encrypt

    now = now_of(app)
    nonce = uuid.uuid4().hex[:10]
    query = {**signed_query(TOKEN, now, nonce), "encrypt_type": "aes",
             "msg_signature": _get_signature(TOKEN, str(now), nonce, encrypted)}
    body = f"<xml><ToUserName>gh_x</ToUserName><Encrypt>{encrypted}</Encrypt></xml>"
    assert client.post("/wechat", query_string=query, data=body).status_code in {400, 403}
    assert inbound_count() == 0


# -- generated messages ------------------------------------------------------------------------------

FIELDS = ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Event", "EventKey",
          "MediaId", "PicUrl", "Location_X", "Location_Y", "Scale", "Label", "Format", "Recognition",
          "Ticket", "Latitude", "Longitude", "Precision", "ThumbMediaId", "Title", "Description", "Url"]
TYPES = ["text", "image", "voice", "video", "shortvideo", "location", "link", "event", "TEXT", "", "unknown",
         "device_text", "miniprogrampage"]
EVENTS = ["subscribe", "unsubscribe", "SCAN", "LOCATION", "CLICK", "VIEW", "scancode_push", "pic_sysphoto",
          "location_select", "TEMPLATESENDJOBFINISH", "", "nonsense"]

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
value = st.one_of(
    text, st.integers(min_value=-2**70, max_value=2**70).map(str), st.sampled_from(TYPES + EVENTS),
    st.just("qrscene_123"), st.just("o_fuzz"), st.just("😀" * 30), st.just("]]>"), st.just("<![CDATA[x]]>"),
    st.just("&e;"), st.just("&#0;"), st.just("&#x1F600;"), st.integers(0, 6000).map(lambda n: "长" * n),
)
# What goes before <xml>: nothing, a declaration, or a DTD declaring entities (internal, external,
# the "billion laughs" kind).
PROLOGUES = ["", "<?xml version='1.0' encoding='utf-8'?>",
             '<!DOCTYPE xml [<!ENTITY e "boom">]>',
             '<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
             '<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY e "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>']
ENCODINGS = ["utf-8", "utf-8", "utf-8", "gbk", "utf-16", "latin-1"]


@st.composite
def field_xml(draw, name):
    """One field, as text, CDATA, with an attribute, a child element, or repeated."""
    content = draw(value)
    escaped = content.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    shape = draw(st.sampled_from(["text", "cdata", "attribute", "child", "twice", "empty"]))
    if shape == "cdata" and "]]>" not in content:
        return f"<{name}><![CDATA[{content}]]></{name}>"
    if shape == "attribute":
        return f'<{name} x="1">{escaped}</{name}>'
    if shape == "child":
        return f"<{name}><v>{escaped}</v></{name}>"
    if shape == "twice":
        return f"<{name}>{escaped}</{name}><{name}>{escaped}</{name}>"
    if shape == "empty":
        return f"<{name}/>"
    return f"<{name}>{escaped}</{name}>"


@st.composite
def messages(draw):
    names = draw(st.lists(st.sampled_from(FIELDS), max_size=10, unique=True))
    base = {"MsgType": draw(st.sampled_from(TYPES)), "FromUserName": "o_fuzz", "ToUserName": "gh_fuzz",
            "CreateTime": "1700000000"}
    if base["MsgType"] == "event":
        base["Event"] = draw(st.sampled_from(EVENTS))
    parts = [f"<{k}>{v}</{k}>" for k, v in base.items() if k not in names]
    parts += [draw(field_xml(name)) for name in names]
    parts = draw(st.permutations(parts))
    wrapper = draw(st.sampled_from(["<xml>{}</xml>", "{}", "<xml>{}", "<root>{}</root>"]))
    document = draw(st.sampled_from(PROLOGUES)) + wrapper.format("".join(parts))
    return document.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")


@settings(max_examples=10_000, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=messages())
def test_no_generated_message_gets_a_server_error(fuzz_app, body):
    query = signed_query(TOKEN, now_of(fuzz_app), uuid.uuid4().hex[:16])
    response = fuzz_app.test_client().post("/wechat", query_string=query, data=body)
    assert response.status_code in ALLOWED, (response.status_code, body)
    if response.status_code != 200:
        assert b"<" not in response.data  # a bare status line, no page


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    """One app for the ten thousand messages, on the backend a server of this run uses."""
    from tests.fake_wechat import FakeWeChat

    with contextlib.ExitStack() as stack:
        if SERVER_BACKEND == "postgresql":
            url = stack.enter_context(postgresql_schema())
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
        fake = FakeWeChat().start()
        stack.callback(fake.stop)
        app = bot.create_app({"SANXIANG": make_config(url, api_base=fake.api_base), "TESTING": True})
        prepare_database(app.config["SANXIANG"])
        yield app
        InboundMessage.batch.flush()
        if not db.is_closed():
            db.close()


def test_after_the_fuzzing_the_worker_still_answers_and_records(fuzz_app):
    """No odd message left the delivery records stuck: a normal one is answered and written."""
    query = signed_query(TOKEN, now_of(fuzz_app), uuid.uuid4().hex[:16])
    response = fuzz_app.test_client().post("/wechat", query_string=query,
                                           data=inbound_xml("o_after", text="帮助", msg_id=99))
    assert response.status_code == 200 and "执法事项" in parse_message(response.data).content
    InboundMessage.batch.flush()
    assert InboundMessage.batch.pending() == 0
    assert InboundMessage.select().where(InboundMessage.key == "m:o_after:99").exists()
