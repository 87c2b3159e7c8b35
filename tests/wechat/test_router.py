"""Which answers may skip their own transaction: the @read_only marks, and the hooks that overrule them."""
import pytest
from wechatpy import parse_message

from handlers.wechat import Context, router
from handlers.cli.chat import inbound_xml
from models import db
from models.database import is_sqlite

IMAGE = ("<xml><ToUserName>gh_test</ToUserName><FromUserName>o_ro</FromUserName><CreateTime>1700000000</CreateTime>"
         "<MsgType>image</MsgType><PicUrl>http://127.0.0.1:9/p.jpg</PicUrl><MediaId>m1</MediaId>"
         "<MsgId>1</MsgId></xml>")


def marked_handlers():
    """Every registered handler marked @read_only, with a message that reaches it."""
    found = []
    for word, func in router.keywords.items():
        found.append((func, inbound_xml("o_ro", text=f"{word} 包海龙")))
    for key, func in router.clicks.items():
        found.append((func, inbound_xml("o_ro", event=f"click:{key}")))
    for name, func in router.events.items():
        found.append((func, inbound_xml("o_ro", event=name)))
    for prefix, func in router.scenes.items():
        found.append((func, inbound_xml("o_ro", event=f"scan:{prefix}NM-0001")))
    for func in router.message_types.values():
        found.append((func, IMAGE))
    found.append((router.fallback, inbound_xml("o_ro", text="网吧")))
    # Intents (handlers/wechat/answers.py), each with a text that reaches it.
    samples = {"help": "？", "greeting": "你好", "thanks": "谢谢", "ask": "网吧几点关门", "complaint": "我想投诉",
               "progress": "查进度", "unanswered": "火星上的骆驼"}
    for name, func in router.intents.items():
        found.append((func, inbound_xml("o_ro", text=samples[name])))
    return [(func, xml) for func, xml in found if getattr(func, "read_only", False)]


def test_the_public_answers_are_marked_read_only():
    names = {func.__name__ for func, _ in marked_handlers()}
    assert {"help_menu", "welcome", "subject", "officers", "items", "inspections", "flows", "remedy",
            "complaint_channels", "next_page", "non_text", "ask", "greeting", "thanks", "help_text"} <= names
    # Anything that writes must not be: complaints, 核验 (counts scans), staff commands, a question kept
    # for staff because it got no good answer.
    assert not names & {"start", "query", "rate", "staff_command", "verify_chat", "verify_scene", "unanswered"}


def test_every_read_only_handler_writes_nothing(app):
    """The mark is trusted by the endpoint, so check it: run each one and count the rows changed."""
    if not is_sqlite():
        pytest.skip("total_changes is SQLite's")
    connection = db.connection()
    handlers = marked_handlers()
    assert len(handlers) >= 12  # the loop below must not pass by checking nothing
    for func, xml in handlers:
        ctx = Context(message=parse_message(xml), config=app.config["SANXIANG"])
        before = connection.total_changes
        router.dispatch_tables(ctx)
        assert connection.total_changes == before, func.__name__


def test_an_open_dialogue_overrules_the_mark(wechat_user, app):
    def ctx(text):
        return Context(message=parse_message(inbound_xml(wechat_user.openid, text=text)),
                       config=app.config["SANXIANG"])

    assert router.is_read_only(ctx("帮助"))
    wechat_user.say("投诉")  # opens the complaint dialogue, which takes every message
    assert not router.is_read_only(ctx("帮助"))
    assert not router.is_read_only(ctx("投诉"))


def test_events_and_unknown_messages():
    def ctx(xml):
        return Context(message=parse_message(xml), config={})

    assert router.is_read_only(ctx(inbound_xml("o", event="subscribe")))
    assert router.is_read_only(ctx(inbound_xml("o", event="click:NO_SUCH_KEY")))  # answered with success
    assert not router.is_read_only(ctx(inbound_xml("o", event="scan:officer:NM-0001")))  # counts the scan


def test_read_only_staff_commands_take_the_read_only_path(app, wechat_user):
    """#待办 and #查看 read only: answered without a transaction of their own, so a long list is never
    computed under SQLite's write lock (issue 19); commands that change a complaint still take one."""
    from models import Staff
    from models.complaints import Complaint

    Staff.add(wechat_user.openid, "张丽", "受理员")
    config = app.config["SANXIANG"]
    import datetime as dt

    complaint = Complaint.file(config, dt.datetime.now(), category="网吧", content="网吧晚上接纳未成年人上网，没有登记身份证。",
                               submitter="o_other", openid="o_other", check_limit=False)

    def ctx(text):
        return Context(message=parse_message(inbound_xml(wechat_user.openid, text=text)), config=config)

    for text in ("#待办", f"#查看 {complaint.ticket}"):
        assert router.is_read_only(ctx(text)), text
    for text in (f"#受理 {complaint.ticket}", f"#办结 {complaint.ticket}", "#立案 事项编码=CF-002", "#帮助"):
        assert not router.is_read_only(ctx(text)), text
    assert complaint.ticket in wechat_user.say("#待办")  # through the endpoint, on the read-only path
    if is_sqlite():
        connection = db.connection()
        before = connection.total_changes
        for text in ("#待办", f"#查看 {complaint.ticket}"):
            router.dispatch_tables(ctx(text))
        assert connection.total_changes == before
