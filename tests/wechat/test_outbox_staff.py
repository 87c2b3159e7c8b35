"""Staff are told the truth about what reached the citizen: never 已发送 before WeChat accepted it; a
message that finally failed is in #待办 and `bot.py outbox`, and #重发 sends it again — once."""
import datetime as dt

from click.testing import CliRunner

import bot
from models import InboundMessage, db
from models.complaints import Complaint
from models.outbox import Outbox
from notices.outbox import drain_outbox
from tests.conftest import WeChatUser
from tests.wechat.test_complaints import make_staff


def drain(app):
    with db.connection_context():
        return drain_outbox(app.config["SANXIANG"])


def file_complaint(app, openid):
    InboundMessage.batch.flush()  # the citizen's greeting, answered read-only, is recorded in a batch
    with db.connection_context():
        return Complaint.file(app.config["SANXIANG"], dt.datetime.now(), category="网吧",
                              content="网吧夜里接纳未成年人上网", submitter=f"wx:{openid}", openid=openid)


def test_staff_hear_sent_only_after_wechat_accepted(app, client, fake_wechat):
    citizen, clerk = WeChatUser(client, app, "o_citizen_9"), WeChatUser(client, app, "o_clerk")
    make_staff("o_clerk", "张丽", "受理员")
    citizen.say("你好")  # opens the citizen's 48-hour window
    clerk.say("#帮助")
    ticket = file_complaint(app, "o_citizen_9").ticket
    fake_wechat.down = True  # WeChat is unreachable
    reply = clerk.say(f"#受理 {ticket}")
    assert "已受理" in reply and "正在通知投诉人" in reply and "已发送" not in reply
    drain(app)
    view = clerk.say(f"#查看 {ticket}")
    assert "通知投诉人：待发送（已试1次" in view and "已发送" not in view
    fake_wechat.down = False
    with db.connection_context():
        Outbox.update(next_attempt_at=None).execute()  # its retry time has come
    drain(app)
    assert "通知投诉人：已发送" in clerk.say(f"#查看 {ticket}")
    told = [b for b in fake_wechat.sent("/custom/send") if b["touser"] == "o_citizen_9"]
    assert len(told) == 1 and ticket in told[0]["text"]["content"]


def test_a_failed_notice_is_in_todo_and_resent_by_hand(app, client, fake_wechat, monkeypatch):
    clerk, handler = WeChatUser(client, app, "o_clerk"), WeChatUser(client, app, "o_handler")
    make_staff("o_clerk", "张丽", "受理员")
    make_staff("o_handler", "包海龙", "承办人", "15052501001")
    WeChatUser(client, app, "o_citizen_8").say("你好")
    clerk.say("#帮助")
    ticket = file_complaint(app, "o_citizen_8").ticket
    drain(app)  # the clerk hears of the new complaint
    fake_wechat.responses["/message/custom/send"] = {"errcode": 40003, "errmsg": "invalid openid"}
    clerk.say(f"#受理 {ticket}")
    drain(app)
    with db.connection_context():
        [failed] = Outbox.failed()
    # The clerk is told at once (someone can call the citizen instead), once.
    with db.connection_context():
        [alert] = Outbox.select().where(Outbox.key.startswith("failed-notice:"))
    assert alert.openid == "o_clerk" and f"#重发 {failed.id}" in alert.text and ticket in alert.text
    todo = clerk.say("#待办")
    assert "发送失败的通知1条" in todo and f"【发送失败】第{failed.id}条" in todo and "openid无效" in todo
    assert "发送失败" not in handler.say("#待办")  # a handler's list is their own complaints
    assert "需要" in handler.say(f"#重发 {failed.id}")
    assert "编号见" in clerk.say("#重发 99999")

    # `bot.py outbox` shows the same, and nothing is written by looking.
    monkeypatch.setenv("DATABASE_URL", app.config["SANXIANG"]["database"]["url"])
    monkeypatch.setenv("WECHAT_API_BASE", fake_wechat.api_base)
    listed = CliRunner().invoke(bot.cli, ["outbox"])
    assert listed.exit_code == 0, listed.output
    assert "发送失败1条" in listed.output and f"{failed.id}\t发送失败" in listed.output
    refused = CliRunner().invoke(bot.cli, ["outbox", "retry", "99999"])
    assert refused.exit_code == 1 and "不是发送失败的消息" in refused.output

    del fake_wechat.responses["/message/custom/send"]
    assert "已重新排队" in clerk.say(f"#重发 {failed.id}")
    drain(app)
    assert "通知投诉人：已发送" in clerk.say(f"#查看 {ticket}")
    assert "发送失败" not in clerk.say("#待办")
    told = [b for b in fake_wechat.sent("/custom/send") if b["touser"] == "o_citizen_8"]
    assert len(told) == 2  # the refused try and the one WeChat accepted
    assert [item for item in fake_wechat.delivered if item[1] == "o_citizen_8"].__len__() == 1
