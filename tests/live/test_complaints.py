"""The same complaint delivered to a 2-worker server several times at once is filed once, and told once."""
import threading

from handlers.cli.chat import inbound_xml, post_message
from tests.conftest import wait_until


def live_config(live_server):
    env = live_server["env"]
    return {"wechat": {"token": env["WECHAT_TOKEN"], "aes_key": env["WECHAT_AES_KEY"], "appid": env["WECHAT_APPID"]}}


def query(live_server, sql, *args):
    return [tuple(row) for row in live_server["sql"](sql, *args)]


def test_concurrent_duplicate_deliveries_file_one_complaint(live_server):
    url, config, fake = live_server["url"] + "/wechat", live_config(live_server), live_server["fake"]
    query(live_server, "INSERT INTO staff (openid, name, role, active) VALUES (?, ?, ?, ?)",
          "o_live_clerk", "张丽", "受理员", True)
    status, _ = post_message(url, config, inbound_xml("o_live_clerk", text="#帮助"))  # opens the 48 h window
    assert status == 200

    # A one-message complaint is shown back first; "提交" files it — that is the delivery repeated.
    status, text = post_message(url, config, inbound_xml(
        "o_live_citizen", text="投诉 网吧 某网吧深夜接纳未成年人上网，不登记身份证。地点：某网吧 联系：匿名"))
    assert status == 200 and "确认无误请回复“提交”" in text
    xml = inbound_xml("o_live_citizen", text="提交", msg_id=9100000000000001)
    barrier, replies = threading.Barrier(6), []

    def deliver(encrypt):
        barrier.wait()
        replies.append(post_message(url, config, xml, encrypt=encrypt))

    threads = [threading.Thread(target=deliver, args=(i % 2 == 1,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    rows = query(live_server, "SELECT ticket FROM complaint WHERE openid = ?", "o_live_citizen")
    assert len(rows) == 1
    ticket = rows[0][0]
    assert len(replies) == 6 and all(status == 200 and ticket in text for status, text in replies), replies

    # The notice goes out after the response, from whichever worker filed it. A row is pushed only
    # while claimed and unsent, and marked sent after the fake has recorded the push: once every row
    # is sent, no further notice can follow, so there is nothing left to wait for.
    def outbox_drained():
        [(queued, sent)] = query(live_server, "SELECT count(*), count(sent_at) FROM complaint_outbox")
        return queued > 0 and queued == sent

    wait_until(outbox_drained, 10, "the complaint's notices were not all sent")
    assert query(live_server, "SELECT count(*) FROM complaint_outbox WHERE openid = ?", "o_live_clerk") == [(1,)]
    notices = [b for b in fake.sent("message/custom/send") if b["touser"] == "o_live_clerk"]
    assert len(notices) == 1 and ticket in notices[0]["text"]["content"]
    assert query(live_server, "SELECT count(*) FROM complaint_outbox WHERE sent_at IS NULL") == [(0,)]
