"""Structured logs: JSON lines; the access log names the path, never the query string; lines logged
while a WeChat message is handled carry its message id."""
import datetime as dt
import io
import json
import logging
from types import SimpleNamespace

from handlers.cli.chat import inbound_xml
from notices.logs import JsonLogger, json_handler, scrub


class Cfg(SimpleNamespace):
    pass


def test_access_line_has_the_path_and_message_id_not_the_query(monkeypatch):
    logger = JsonLogger.__new__(JsonLogger)  # without gunicorn's setup: only access() is under test
    stream = io.StringIO()
    logger.access_log = logging.getLogger("test.access")
    logger.access_log.handlers = [json_handler(stream)]
    logger.access_log.propagate = False
    logger.access_log.setLevel(logging.INFO)
    monkeypatch.setattr(JsonLogger, "access_log_enabled", True, raising=False)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/wechat", "RAW_URI": "/wechat?signature=s1&nonce=n1&echostr=e1",
               "QUERY_STRING": "signature=s1&timestamp=1&nonce=n1&echostr=e1", "REMOTE_ADDR": "127.0.0.1",
               "SERVER_PROTOCOL": "HTTP/1.1", "sanxiang.msgid": "24623468236486"}
    logger.access(SimpleNamespace(status="200 OK", sent=7, headers=[]), SimpleNamespace(headers=[]), environ,
                  dt.timedelta(milliseconds=12))
    line = stream.getvalue()
    entry = json.loads(line)
    assert entry["path"] == "/wechat" and entry["status"] == 200 and entry["msgid"] == "24623468236486"
    assert entry["method"] == "GET" and entry["ms"] == 12.0 and entry["request"] == "GET /wechat HTTP/1.1"
    for secret in ("s1", "n1", "e1", "signature", "nonce", "echostr"):
        assert secret not in line


def test_scrub_removes_wechat_parameters_anywhere():
    text = 'bad request "GET /wechat?signature=abc&timestamp=1&nonce=xyz&echostr=hello HTTP/1.1"'
    assert scrub(text) == 'bad request "GET /wechat?signature=-&timestamp=-&nonce=-&echostr=- HTTP/1.1"'


def test_a_message_handled_logs_json_with_its_message_id(wechat_user, monkeypatch):
    stream = io.StringIO()
    handler = json_handler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        def broken(ctx, dispatch):
            raise RuntimeError("handler broke")

        monkeypatch.setattr("handlers.wechat.endpoint.render_reply", broken)
        response = wechat_user.post(inbound_xml(wechat_user.openid, text="网吧", msg_id=7700000000000042))
        assert response.status_code == 200  # the apology, never a 500
    finally:
        root.removeHandler(handler)
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    [failure] = [e for e in entries if e["message"].startswith("handler failed")]
    assert failure["msgid"] == "7700000000000042" and failure["path"] == "/wechat" and failure["method"] == "POST"
    assert failure["level"] == "ERROR" and "RuntimeError: handler broke" in failure["exception"]
    assert "signature" not in stream.getvalue()
