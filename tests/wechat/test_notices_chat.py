"""公告 and 订阅公示 in the chat: a staff announcement previewed masked, confirmed, published, pushed to
subscribers and withdrawn with a reason; citizens subscribing by category; the weekly digest within
the mass-send quota of the account type."""
import datetime as dt

from models import db
from models.announcements import Announcement
from models.outbox import Outbox, SentMessage
from models.subscriptions import Subscription
from notices.outbox import drain_outbox
from notices.subscriptions import send_weekly_digest
from tests.conftest import WeChatUser
from tests.wechat.test_complaints import make_staff

BODY = "因系统维护，12月1日暂停网上投诉。急事请联系王建国，电话13812345678，身份证150525198001011234。"


def test_an_announcement_is_previewed_masked_confirmed_pushed_and_withdrawn(app, client, fake_wechat):
    head, clerk = WeChatUser(client, app, "o_head"), WeChatUser(client, app, "o_clerk")
    citizen, fan = WeChatUser(client, app, "o_citizen_1"), WeChatUser(client, app, "o_fan")
    make_staff("o_head", "其木格", "负责人")
    make_staff("o_clerk", "乌兰", "受理员")
    assert "已为您订阅全部公示" in fan.say("订阅公示")
    fan.say("你好")

    # Not staff: the ordinary public answer, nothing drafted.
    assert "公告预览" not in citizen.say(f"#公告 停止服务\n{BODY}")
    preview = clerk.say(f"#公告 网上投诉暂停\n{BODY}")
    assert "公告预览" in preview and "#确认公告" in preview
    assert "13812345678" not in preview and "150525198001011234" not in preview and "138" in preview
    with db.connection_context():
        assert Announcement.select().count() == 1 and Outbox.select().where(Outbox.key.startswith("announce")).count() == 0
    assert client.get("/announcements").get_data(as_text=True).count("网上投诉暂停") == 0  # not before confirmation
    assert "没有待确认的公告" in head.say("#确认公告")  # the head has no draft of their own
    done = clerk.say("#确认公告")
    assert "已发布" in done and "/announcements/" in done
    page = client.get("/announcements").get_data(as_text=True)
    assert "网上投诉暂停" in page and "13812345678" not in page and "150525198001011234" not in page

    # The next weekly digest carries it to subscribers.
    with db.connection_context():
        assert send_weekly_digest(app.config["SANXIANG"], now=dt.datetime.now() + dt.timedelta(days=2)) == 1
        assert drain_outbox(app.config["SANXIANG"]) >= 1
    pushed = [b["text"]["content"] for b in fake_wechat.sent("/custom/send") if b["touser"] == "o_fan"]
    assert len(pushed) == 1 and "【公告】网上投诉暂停" in pushed[0] and "/announcements" in pushed[0]

    with db.connection_context():
        number = Announcement.get().id
    assert "需要" in clerk.say(f"#撤回公告 {number} 日期有误")  # withdrawing is the head's
    assert "撤回理由" in head.say(f"#撤回公告 {number}")
    assert "已撤回" in head.say(f"#撤回公告 {number} 维护日期改为12月8日")
    page = client.get(f"/announcements/{number}").get_data(as_text=True)
    assert "已撤回" in page and "维护日期改为12月8日" in page and "暂停网上投诉" not in page
    assert client.get("/announcements/99999999999999999999").status_code == 404
    assert client.get("/announcements/0").status_code == 404


def test_subscribing_by_category_and_leaving(app, client):
    citizen = WeChatUser(client, app, "o_sub")
    assert "“网吧”类公示" in citizen.say("订阅公示 网咖")
    assert "“旅游”类公示" in citizen.say("订阅 旅行社")
    assert "没有“火星”这一类" in citizen.say("订阅公示 火星")
    with db.connection_context():
        assert sorted(Subscription.of("o_sub")) == ["旅游", "网吧"]
    assert "已取消“网吧”类订阅" in citizen.say("取消订阅 网吧")
    assert "已取消全部订阅" in citizen.say("取消订阅")
    assert "无需退订" in citizen.say("取消订阅")
    with db.connection_context():
        assert Subscription.of("o_sub") == []


def subscribe(openid, category, now):
    with db.connection_context():
        Subscription.subscribe(openid, category, now)


def test_weekly_digest_by_category_within_the_monthly_quota(app, fake_wechat):
    config = app.config["SANXIANG"]
    config["complaints"]["notify"]["template_id"] = "TPL"  # a lone recipient cannot be mass-sent to (2 at least)
    now = dt.datetime(2026, 12, 7, 9, 0)
    for openid, category in (("o_a", ""), ("o_b", ""), ("o_c", "网吧"), ("o_d", "网吧"), ("o_e", "旅游")):
        subscribe(openid, category, now)
    items = [{"category": "网吧", "title": "某网吧接纳未成年人案行政处罚决定"},
             {"category": "演出", "title": "某演出场所抽查结果"}]
    with db.connection_context():
        # o_b already had four mass messages this month: left out this week.
        SentMessage.insert_many([{"openid": "o_b", "channel": "mass", "sent_at": now - dt.timedelta(days=d)}
                                 for d in range(1, 5)]).execute()
        assert send_weekly_digest(config, now=now, disclosures=items) == 3  # o_a; o_c and o_d; o_e has no news
        assert send_weekly_digest(config, now=now, disclosures=items) == 3  # the same week again: nothing new queued
        rows = list(Outbox.select().order_by(Outbox.id))
        assert sorted(r.kind for r in rows) == ["mass", "text"]
        assert drain_outbox(config, now=now) == 2
    arrived = fake_wechat.arrivals()
    to = {openid for (_, openid, _) in arrived}
    assert to == {"o_a", "o_c", "o_d"} and all(n == 1 for n in arrived.values())
    texts = {openid: text for (_, openid, text) in arrived}
    assert "演出" in texts["o_a"] and "演出" not in texts["o_c"] and "网吧" in texts["o_c"]


def test_a_subscription_account_mass_sends_once_a_day(app, fake_wechat):
    config = app.config["SANXIANG"]
    config["notices"]["mass"]["account_type"] = "subscription"
    now = dt.datetime(2026, 12, 7, 9, 0)
    for openid, category in (("o_a", ""), ("o_c", "网吧"), ("o_e", "旅游")):
        subscribe(openid, category, now)
    items = [{"category": "网吧", "title": "网吧案"}, {"category": "旅游", "title": "旅行社案"}]
    with db.connection_context():
        assert send_weekly_digest(config, now=now, disclosures=items) == 3
        [row] = Outbox.select()
        assert row.kind == "mass" and len(row.recipients) == 3  # one digest of everything, one send
        assert send_weekly_digest(config, now=now, disclosures=[{"category": "网吧", "title": "又一案"}]) == 0
