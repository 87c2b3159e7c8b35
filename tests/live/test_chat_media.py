"""`make run` without WECHAT_SECRET starts a local stand-in for WeChat's API, and `bot.py chat` sends a
photo, a voice note and a location through it: the whole complaint dialogue with evidence on a laptop."""
import os
import socket
import sqlite3
import subprocess
import sys

import pytest

from tests.conftest import ROOT, TOKEN, free_port, server_process

JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")


@pytest.fixture(scope="module")
def laptop_server(tmp_path_factory):
    """`bot.py serve` as `make run` starts it on a laptop: no WeChat secret, no API base given."""
    port = free_port()
    while not port_is_free(port + 1):  # the stand-in listens on the server's port + 1
        port = free_port()
    folder = tmp_path_factory.mktemp("laptop")
    env = {key: value for key, value in os.environ.items() if not key.startswith("WECHAT_")}
    env.update({"PORT": str(port), "DATABASE_URL": f"sqlite:///{folder / 'laptop.db'}", "WECHAT_TOKEN": TOKEN,
                "LEDGER_KEY_PATH": str(folder / "ledger.pem"), "RECORDS_PATH": str(folder / "records"),
                "COMPLAINT_EVIDENCE_PATH": str(folder / "evidence")})
    with server_process(env, folder):
        yield {"env": env, "folder": folder, "db": folder / "laptop.db"}


def port_is_free(port):
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def chat(server, *args):
    result = subprocess.run([sys.executable, "bot.py", "chat", "--openid", "o_laptop", *args], cwd=ROOT,
                            env=server["env"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_a_complaint_with_photo_voice_and_location_from_the_terminal(laptop_server, tmp_path):
    photo, voice = tmp_path / "现场.jpg", tmp_path / "录音.amr"
    photo.write_bytes(JPEG)
    voice.write_bytes(b"#!AMR\n" + bytes(64))
    assert "请选择投诉类别" in chat(laptop_server, "投诉")
    chat(laptop_server, "网吧")
    assert "在哪里发生" in chat(laptop_server, "网吧晚上十点还让初中生上网。")
    assert "已收到位置" in chat(laptop_server, "--location", "42.8467,120.6589", "--label", "大沁他拉镇某网吧")
    assert "已收到图片" in chat(laptop_server, "--image", str(photo))
    assert "已收到语音" in chat(laptop_server, "--voice", str(voice))
    chat(laptop_server, "好了")
    summary = chat(laptop_server, "匿名")
    assert "地点：大沁他拉镇某网吧" in summary and "证据：2件" in summary
    assert "提交成功" in chat(laptop_server, "提交")
    with sqlite3.connect(laptop_server["db"]) as connection:
        kinds = sorted(k for (k,) in connection.execute("SELECT kind FROM evidence"))
        [(lat,)] = connection.execute("SELECT lat FROM complaint")
    assert kinds == ["image", "voice"] and abs(lat - 42.8467) < 1e-6
    stored = [p for p in (laptop_server["folder"] / "evidence").rglob("*") if p.is_file()]
    assert any(p.read_bytes() == JPEG for p in stored)
