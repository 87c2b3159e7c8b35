"""The live server (gunicorn, 2 workers) answers WeChat and serves pages."""
import json

import requests

from handlers.cli.chat import post_message, inbound_xml
from tests.conftest import wait_until


def test_live_server_answers_wechat(live_server):
    config = {"wechat": {"token": live_server["env"]["WECHAT_TOKEN"], "aes_key": live_server["env"]["WECHAT_AES_KEY"],
                         "appid": live_server["env"]["WECHAT_APPID"]}}
    url = live_server["url"] + "/wechat"
    status, reply = post_message(url, config, inbound_xml("o_live", text="假唱"))
    assert status == 200 and "营业性演出管理条例" in reply
    status, reply = post_message(url, config, inbound_xml("o_live", text="帮助"), encrypt=True)
    assert status == 200 and "执法事项" in reply


def test_live_server_refuses_unsigned(live_server):
    response = requests.post(live_server["url"] + "/wechat", data=b"<xml/>", timeout=5)
    assert response.status_code == 403


def test_concurrent_duplicate_deliveries_answered_once(live_server):
    """WeChat's retry racing the first delivery on two workers: one record, one answer for all."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from handlers.cli.chat import signed_query

    env = live_server["env"]
    xml = inbound_xml("o_race", text="执法事项", msg_id=987654321012345)
    query = signed_query(env["WECHAT_TOKEN"], int(time.time()), "42")

    def deliver(_):
        return requests.post(live_server["url"] + "/wechat", params=query, data=xml.encode(), timeout=10)

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(deliver, range(8)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.text for r in responses}) == 1
    # A read-only answer is recorded just after the reply, in a batch: the record must be there
    # well before WeChat's first retry (5 s), with no one asking for it. No need to wait for the other
    # worker's batch too: its row for the same key would be skipped (unique key, ON CONFLICT DO
    # NOTHING), so the first row to land is final.
    def recorded():
        return live_server["sql"]("SELECT count(*) FROM inboundmessage WHERE key LIKE '%987654321012345'")[0][0]

    wait_until(recorded, 3, "the answer was not recorded")
    rows = recorded()
    pages = live_server["sql"]("SELECT pages FROM inboundmessage WHERE openid = 'o_race'")[0][0]
    assert rows == 1
    # The paging state was written once: page 2 (index 1) is next, not page 3.
    assert json.loads(pages)["page"] == 1


def test_the_access_log_keeps_no_signed_query(live_server):
    """Anyone reading the log must not find a signed query they could use within the replay window."""
    config = {"wechat": {"token": live_server["env"]["WECHAT_TOKEN"], "aes_key": live_server["env"]["WECHAT_AES_KEY"],
                         "appid": live_server["env"]["WECHAT_APPID"]}}
    status, _ = post_message(live_server["url"] + "/wechat", config, inbound_xml("o_log", text="帮助"), encrypt=True)
    assert status == 200
    log = live_server["log"]
    wait_until(lambda: "POST /wechat " in log.read_text(), 5, "the access log has no line for the message")
    text = log.read_text()
    for secret in ("signature=", "msg_signature", "nonce=", "echostr", "timestamp="):
        assert secret not in text
