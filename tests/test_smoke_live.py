"""The live server (gunicorn, 2 workers) answers WeChat and serves pages."""
import requests

from handlers.terminal import post_message, inbound_xml


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
