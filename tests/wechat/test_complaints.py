"""投诉举报 in the chat: whole dialogues as signed XML through the real endpoint, against the fake WeChat API."""
import hashlib
import logging
import random

import pytest
import xmltodict

import bot
from models import db
from models.complaints import (Complaint, ComplaintDraft, ComplaintEvent, Evidence, Outbox)
from models.staff import Staff
from models.disclosure import Officer
from notices.outbox import drain_outbox
from tests.conftest import WeChatUser

JPEG = b"\xff\xd8\xff\xe0" + b"fake jpeg of a netbar at night" * 10
AMR = b"#!AMR\n" + b"voice" * 40


@pytest.fixture
def evidence_dir(app, tmp_path):
    path = tmp_path / "evidence"
    app.config["SANXIANG"]["complaints"]["evidence_dir"] = str(path)
    return path


@pytest.fixture
def citizen(client, app, evidence_dir):
    return Citizen(client, app, "o_citizen_1")


class Citizen(WeChatUser):
    """A WeChat user who can also send photos, voice and locations."""

    def send(self, msg_type, msg_id=None, **fields):
        xml = xmltodict.unparse({"xml": {
            "ToUserName": "gh_sanxiang", "FromUserName": self.openid, "CreateTime": int(self.app.config["CLOCK"]()),
            "MsgType": msg_type, **fields, "MsgId": msg_id or random.randrange(10**15, 10**16)}},
            full_document=False)
        response = self.post(xml)
        assert response.status_code == 200, response.data
        from wechatpy import parse_message

        return parse_message(response.data).content

    def image(self, media_id):
        return self.send("image", PicUrl="http://mmbiz.example/pic.jpg", MediaId=media_id)

    def voice(self, media_id):
        return self.send("voice", MediaId=media_id, Format="amr")

    def location(self, x, y, label):
        return self.send("location", Location_X=x, Location_Y=y, Scale=15, Label=label)


def make_staff(openid, name, role, cert_no=None):
    with db.connection_context():
        officer = Officer.get(Officer.cert_no == cert_no) if cert_no else None
        return Staff.add(openid, name, role, officer)


def sent_texts(fake_wechat, openid):
    return [body["text"]["content"] for body in fake_wechat.sent("message/custom/send") if body["touser"] == openid]


def complaints():
    with db.connection_context():
        return list(Complaint.select().order_by(Complaint.id))


def test_guided_dialogue_with_photo_voice_and_location(citizen, fake_wechat, evidence_dir, app, client):
    clerk = WeChatUser(client, app, "o_clerk")
    make_staff("o_clerk", "张丽", "受理员")
    clerk.say("#帮助")  # opens the clerk's 48-hour window
    fake_wechat.media["MEDIA_PHOTO_1"] = (JPEG, "image/jpeg")
    fake_wechat.media["MEDIA_VOICE_1"] = (AMR, "audio/amr")

    assert "请选择投诉类别" in citizen.say("投诉")
    assert "发生了什么" in citizen.say("1")
    assert "在哪里" in citizen.say("昨晚11点，某某网吧让几个初中生进去上网，没有登记身份证。")
    assert "照片、语音或视频" in citizen.location("42.845", "120.662", "大沁他拉镇团结路某某网吧")
    assert "共1件证据" in citizen.image("MEDIA_PHOTO_1")
    assert "共2件证据" in citizen.voice("MEDIA_VOICE_1")
    assert "姓名和电话" in citizen.say("好了")
    summary = citizen.say("王先生 13812345678")
    assert "类别：网吧" in summary and "证据：2件" in summary and "团结路" in summary and "提交" in summary
    reply = citizen.say("提交")
    assert "提交成功" in reply and "投诉编号：TS" in reply

    [complaint] = complaints()
    assert complaint.ticket in reply
    assert (complaint.category, complaint.status, complaint.contact) == ("网吧", "待受理", "王先生 13812345678")
    assert complaint.lat == pytest.approx(42.845) and complaint.location == "大沁他拉镇团结路某某网吧"
    with db.connection_context():
        stored = sorted((e.kind, e.sha256, e.complaint_id) for e in Evidence.select())
        assert ComplaintDraft.select().count() == 0
    assert stored == sorted([("image", hashlib.sha256(JPEG).hexdigest(), complaint.id),
                             ("voice", hashlib.sha256(AMR).hexdigest(), complaint.id)])
    for _, digest, _ in stored:
        path = evidence_dir / digest[:2] / digest
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    media_gets = [query["media_id"] for path, query, _ in fake_wechat.requests if path.endswith("media/get")]
    assert media_gets == ["MEDIA_PHOTO_1", "MEDIA_VOICE_1"]

    drain(app)
    [notice] = sent_texts(fake_wechat, "o_clerk")
    assert complaint.ticket in notice and "13812345678" not in notice and "王先生" not in notice


def drain(app):
    with db.connection_context():
        return drain_outbox(app.config["SANXIANG"])


def test_cancel_at_any_step_leaves_nothing(citizen, fake_wechat):
    fake_wechat.media["M1"] = (JPEG, "image/jpeg")
    citizen.say("投诉")
    citizen.say("旅行社")
    citizen.image("M1")
    assert "已取消" in citizen.say("取消")
    assert complaints() == []
    with db.connection_context():
        assert Evidence.select().count() == 0 and ComplaintDraft.select().count() == 0
    assert "互联网上网服务营业场所管理条例" in citizen.say("网吧")  # ordinary answers again


def test_idle_dialogue_expires_and_says_so(citizen, app):
    start = app.config["CLOCK"]()
    citizen.say("投诉")
    citizen.say("演出")
    app.config["CLOCK"] = lambda: start + 31 * 60
    reply = citizen.say("假唱")
    assert "超过30分钟" in reply and "已自动取消" in reply
    assert "营业性演出管理条例" in reply  # the message itself is answered as usual
    with db.connection_context():
        assert ComplaintDraft.select().count() == 0


def test_dialogue_state_survives_a_new_app(citizen, app, database_url, fake_wechat, evidence_dir):
    citizen.say("投诉")
    citizen.say("导游")
    # A restart (or another worker): a fresh app on the same database carries on.
    config = dict(app.config["SANXIANG"])
    fresh = bot.create_app({"SANXIANG": config, "TESTING": True})
    other = Citizen(fresh.test_client(), fresh, "o_citizen_1")
    assert "行程是哪天结束" in other.say("导游在景区强迫游客购物，不买就不让上车。")  # a 旅游投诉
    assert "在哪里" in other.say("跳过")
    other.say("跳过")
    other.say("跳过")
    other.say("匿名")
    assert "提交成功" in other.say("提交")
    [complaint] = complaints()
    assert complaint.category == "导游" and complaint.contact == "" and complaint.location == ""


def file_quick(citizen, text, **kwargs):
    """A one-message complaint: answer what it asks for (跳过 the trip and place, 匿名), then 提交."""
    reply = citizen.say(text)
    for _ in range(4):
        if "确认无误请回复“提交”" in reply:
            break
        reply = citizen.say("跳过" if ("行程" in reply or "在哪里发生" in reply) else "匿名")
    return citizen.say("提交", **kwargs)


def test_one_message_complaint_shows_what_was_understood_and_asks_for_what_is_missing(citizen):
    reply = citizen.say("投诉 旅行社 组织199元低价游，到了以后强迫购物。地点：大沁他拉镇某旅行社 联系：李女士 13900001111")
    assert "还没有提交" in reply and "类别：旅行社" in reply and "经过：组织199元低价游，到了以后强迫购物。" in reply
    assert "地点：大沁他拉镇某旅行社" in reply and "行程是哪天结束" in reply and complaints() == []
    reply = citizen.say("11月20日")
    assert "确认无误请回复“提交”" in reply and "联系方式：李女士 13900001111" in reply
    assert "提交成功" in citizen.say("提交")
    [complaint] = complaints()
    assert complaint.category == "旅行社" and complaint.content == "组织199元低价游，到了以后强迫购物。"
    assert complaint.location == "大沁他拉镇某旅行社" and complaint.contact == "李女士 13900001111"

    reply = citizen.say("投诉 那家KTV凌晨三点还在营业，音乐很吵")
    assert "类别：娱乐场所" in reply and "在哪里发生" in reply
    reply = citizen.say("大沁他拉镇某KTV。")
    assert "请留下姓名和电话" in reply
    reply = citizen.say("匿名")
    assert "地点：大沁他拉镇某KTV。" in reply and "联系方式：匿名" in reply
    assert "提交成功" in citizen.say("提交")
    assert complaints()[-1].category == "娱乐场所" and complaints()[-1].contact == ""
    assert "投诉举报渠道" in citizen.say("投诉方式")
    assert "提交成功" in file_quick(citizen, "投诉 执法人员 证号15052501002的执法人员检查时索要好处费")
    assert complaints()[-1].officer.name == "王雅琴"


def test_help_inside_the_dialogue_says_where_one_is_and_how_to_go_on(citizen):
    citizen.say("投诉")
    citizen.say("网吧")
    reply = citizen.say("帮助")
    assert "说明经过" in reply and "取消" in reply and "请描述发生了什么" in reply
    assert "请描述发生了什么" not in citizen.say("网吧晚上让小学生进去玩游戏。")


def test_retried_delivery_files_one_complaint(citizen):
    citizen.say("投诉 网吧 网吧接纳未成年人上网 地点：某网吧 联系：匿名")
    first = citizen.say("提交", msg_id=777001)
    again = citizen.say("提交", msg_id=777001)
    assert "提交成功" in first and first == again and len(complaints()) == 1


def test_daily_limit(citizen, app):
    for i in range(5):
        assert "提交成功" in file_quick(citizen, f"投诉 网吧 第{i + 1}次反映网吧接纳未成年人")
    reply = citizen.say("投诉 网吧 第6次反映网吧接纳未成年人")
    assert "今天已提交5件" in reply and "12318" in reply
    assert "今天已提交5件" in citizen.say("投诉")
    assert len(complaints()) == 5
    with db.connection_context():
        assert ComplaintDraft.select().count() == 0


def test_officer_complaint_lifecycle_with_staff_commands(citizen, app, client, fake_wechat):
    clerk, head = WeChatUser(client, app, "o_clerk"), WeChatUser(client, app, "o_head")
    accused, handler = WeChatUser(client, app, "o_accused"), WeChatUser(client, app, "o_handler")
    make_staff("o_clerk", "张丽", "受理员")
    make_staff("o_head", "吴局长", "负责人")
    make_staff("o_accused", "包海龙", "承办人", "15052501001")
    make_staff("o_handler", "白斯琴", "承办人", "15052501003")
    for user in (clerk, head, accused, handler):
        user.say("#帮助")

    assert "您要投诉执法人员包海龙" in citizen.say("投诉 15052501001")
    citizen.say("检查时没有出示执法证，态度粗暴，还让店主删除手机录像。")
    citizen.say("大沁他拉镇某网吧")
    citizen.say("跳过")
    citizen.say("赵女士 13600002222")
    assert "提交成功" in citizen.say("确认")
    [complaint] = complaints()
    ticket = complaint.ticket
    assert complaint.officer.cert_no == "15052501001"

    # The accused never sees it, nor is told of it.
    assert ticket not in accused.say("#待办")
    assert "回避" in accused.say(f"#查看 {ticket}")
    assert "回避" in accused.say(f"#受理 {ticket}")
    assert ticket in clerk.say("#待办")
    view = clerk.say(f"#查看 {ticket}")
    assert "赵*" in view and "136****2222" in view and "13600002222" not in view

    assert "权限" in handler.say(f"#受理 {ticket}")
    assert "已受理" in clerk.say(f"#受理 {ticket}")
    assert "不能受理" in clerk.say(f"#受理 {ticket}")
    assert "被投诉的执法人员本人" in clerk.say(f"#转办 {ticket} 15052501001")
    assert "暂扣" in clerk.say(f"#转办 {ticket} 15052501006")
    assert "白斯琴" in clerk.say(f"#转办 {ticket} 15052501003")
    assert ticket in handler.say("#待办")
    assert "回避" in accused.say(f"#答复 {ticket} 经核实，本人没有违规。")
    assert "已答复" in handler.say(f"#答复 {ticket} 经调查，执法人员确未主动出示执法证，已批评教育并责令整改。")
    assert "已办结" in clerk.say(f"#办结 {ticket}")

    drain(app)
    told = sent_texts(fake_wechat, citizen.openid)
    assert len(told) == 4
    assert "已受理" in told[0] and "已转承办人员" in told[1] and "已批评教育" in told[2] and "已办结" in told[3]
    assert any(ticket in text and "转您办理" in text for text in sent_texts(fake_wechat, "o_handler"))
    assert not any(ticket in text for text in sent_texts(fake_wechat, "o_accused"))
    assert all("13600002222" not in body["text"]["content"] for body in fake_wechat.sent("message/custom/send"))

    status = citizen.say(f"查询 {ticket}")
    assert "办结" in status and "已批评教育" in status
    assert "不是用本微信提交" in WeChatUser(client, app, "o_stranger").say(f"查询 {ticket}")
    assert "感谢您的评价" in citizen.say(f"评价 {ticket} 满意")
    with db.connection_context():
        actions = [(e.action, e.actor) for e in ComplaintEvent.select().order_by(ComplaintEvent.id)]
    assert actions == [("file", "投诉人"), ("accept", "受理员 张丽"), ("assign", "受理员 张丽"),
                       ("answer", "承办人 白斯琴"), ("close", "受理员 张丽"), ("visit", "投诉人")]


def test_non_staff_hash_commands_get_the_public_answer_and_are_logged(wechat_user, caplog):
    with caplog.at_level(logging.WARNING, logger="handlers.wechat.staff"):
        reply = wechat_user.say("#待办")
    assert "没有找到" in reply and "待办投诉" not in reply
    assert any("o_citizen_1" in r.getMessage() for r in caplog.records)


def test_rejection_with_reason_outside_the_window_uses_a_template(citizen, app, client, fake_wechat):
    app.config["SANXIANG"]["complaints"]["notify"]["template_id"] = "TPL_STATUS"
    make_staff("o_clerk", "张丽", "受理员")
    file_quick(citizen, "投诉 其他 三年前的一次演出票价太贵")
    ticket = complaints()[0].ticket
    clerk = WeChatUser(client, app, "o_clerk")
    assert "理由" in clerk.say(f"#不予受理 {ticket}")
    assert "已对" in clerk.say(f"#不予受理 {ticket} 超过两年投诉时效")
    with db.connection_context():
        # The citizen's last message is older than 48 h: no customer-service message is allowed.
        from models.delivery import InboundMessage, utcnow
        import datetime as dt

        InboundMessage.update(received_at=utcnow() - dt.timedelta(hours=49)).where(
            InboundMessage.key.startswith(f"m:{citizen.openid}:")).execute()
    drain(app)
    assert sent_texts(fake_wechat, citizen.openid) == []
    [template] = [b for b in fake_wechat.sent("message/template/send") if b["touser"] == citizen.openid]
    assert template["template_id"] == "TPL_STATUS" and "超过两年投诉时效" in template["data"]["first"]["value"]
    assert "不予受理" in citizen.say(f"查询 {ticket}")


def test_outbox_is_sent_once(citizen, app, client, fake_wechat):
    make_staff("o_clerk", "张丽", "受理员")
    WeChatUser(client, app, "o_clerk").say("#帮助")
    file_quick(citizen, "投诉 网吧 网吧接纳未成年人上网")
    drain(app)
    drain(app)
    assert len(sent_texts(fake_wechat, "o_clerk")) == 1
    with db.connection_context():
        assert Outbox.select().where(Outbox.sent_at.is_null()).count() == 0


def test_queued_messages_go_out_after_the_response(citizen, app, client, fake_wechat):
    make_staff("o_clerk", "张丽", "受理员")
    WeChatUser(client, app, "o_clerk").say("#帮助")
    citizen.say("投诉 网吧 网吧接纳未成年人上网 地点：某网吧 联系：匿名")
    response = citizen.post(xmltodict.unparse({"xml": {
        "ToUserName": "gh_sanxiang", "FromUserName": citizen.openid, "CreateTime": int(app.config["CLOCK"]()),
        "MsgType": "text", "Content": "提交", "MsgId": 5550001}}, full_document=False))
    assert response.status_code == 200 and sent_texts(fake_wechat, "o_clerk") == []
    response.close()  # the server closes the response once it is sent; then the outbox drains
    [notice] = sent_texts(fake_wechat, "o_clerk")
    assert complaints()[0].ticket in notice


def test_slow_media_download_gives_up_in_time_and_saves_nothing(citizen, fake_wechat):
    """WeChat waits 5 s for the reply: a photo that cannot be fetched in time is asked for again."""
    import time

    fake_wechat.media["SLOW1"] = (JPEG, "image/jpeg")
    fake_wechat.delays["/media/get"] = 4
    citizen.say("投诉")
    citizen.say("旅行社")
    started = time.monotonic()
    reply = citizen.image("SLOW1")
    assert time.monotonic() - started < 4.5
    assert "没有保存成功" in reply and "重新发送" in reply
    with db.connection_context():
        assert Evidence.select().count() == 0


def test_punctuation_is_kept_and_each_one_is_told_only_the_steps_they_may_take(citizen, app, client, fake_wechat):
    clerk, handler = WeChatUser(client, app, "o_clerk"), WeChatUser(client, app, "o_handler")
    make_staff("o_clerk", "张丽", "受理员")
    make_staff("o_handler", "白斯琴", "承办人", "15052501003")
    for user in (clerk, handler):
        user.say("#帮助")
    file_quick(citizen, "投诉 网吧 晚上十点，网吧里有三个初中生！地点：某网吧 联系：匿名")
    [complaint] = complaints()
    assert complaint.content == "晚上十点，网吧里有三个初中生！"
    ticket = complaint.ticket
    assert "下一步：“#转办" in clerk.say(f"#受理 {ticket}")
    clerk.say(f"#转办 {ticket} 15052501003")
    drain(app)
    [assigned] = [t for t in sent_texts(fake_wechat, "o_handler") if "已转您办理" in t]
    assert f"#答复 {ticket} 内容" in assigned and f"#查看 {ticket}" in assigned
    assert "#办结" not in assigned and "#转办" not in assigned
    reply = handler.say(f"#答复　{ticket}　经核查，该网吧确有接纳未成年人行为，已立案处理。")
    assert "#办结" not in reply  # a 承办人 cannot close; the clerk is told instead
    assert complaints()[0].answer == "经核查，该网吧确有接纳未成年人行为，已立案处理。"
    drain(app)
    assert any("经核查，该网吧确有接纳未成年人行为，已立案处理。" in t for t in sent_texts(fake_wechat, citizen.openid))
    assert "已办结" in clerk.say(f"#办结 {ticket}")
    assert "感谢您的评价" in citizen.say(f"评价 {ticket} 满意。")
    assert "已评价过" in citizen.say(f"评价 {ticket} 不满意")
    assert complaints()[0].satisfaction == "满意"
