"""The local stand-in for WeChat's API: media go up and come back, messages are recorded, and a taken
port means no stand-in rather than a dead server."""
import socket

import requests

from notices.wechat_standin import WeChatStandIn, standin_base, start_for, wanted
from tests.conftest import free_port


def test_upload_then_download_and_messages_are_recorded():
    standin = WeChatStandIn().start()
    try:
        base = standin.api_base
        uploaded = requests.post(base + "media/upload", params={"type": "image"}, timeout=5,
                                 files={"media": ("a.jpg", b"\xff\xd8jpeg", "image/jpeg")}).json()
        fetched = requests.get(base + "media/get", params={"media_id": uploaded["media_id"]}, timeout=5)
        assert fetched.content == b"\xff\xd8jpeg" and fetched.headers["Content-Type"] == "image/jpeg"
        assert requests.get(base + "media/get", params={"media_id": "nope"}, timeout=5).json()["errcode"] == 40007
        assert requests.post(base + "media/upload", params={"type": "exe"}, files={"media": ("x", b"1")},
                             timeout=5).json()["errcode"] == 40004
        requests.post(base + "message/custom/send", json={"touser": "o1", "msgtype": "text",
                                                          "text": {"content": "经核查，已处理。"}}, timeout=5)
        assert standin.sent[-1][1]["text"]["content"] == "经核查，已处理。"
    finally:
        standin.stop()


def test_wanted_only_without_an_account_and_a_taken_port_is_survived():
    port = free_port()
    config = {"server": {"host": "127.0.0.1", "port": port},
              "wechat": {"secret": "", "api_base": "https://api.weixin.qq.com/cgi-bin/", "standin_port": 0}}
    assert wanted(config) and standin_base(config) == f"http://127.0.0.1:{port + 1}/cgi-bin/"
    assert not wanted({**config, "wechat": {**config["wechat"], "secret": "s"}})
    assert not wanted({**config, "wechat": {**config["wechat"], "api_base": "http://127.0.0.1:9/cgi-bin/"}})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = {**config, "wechat": {**config["wechat"], "standin_port": taken.getsockname()[1]}}
        assert start_for(busy) is None
