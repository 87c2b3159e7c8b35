"""A local stand-in for WeChat's API, so the whole bot works on a laptop without an official account.

`make run` (bot.py serve) starts it in gunicorn's master process when no WECHAT_SECRET is set and
WECHAT_API_BASE is not given, and points the workers at it. It answers what the bot and the terminal
chat use: access_token, media upload and download (素材: the photos and voice notes of a complaint,
kept in memory), customer-service and template messages (printed to the server's log, so one sees what
a citizen or clerk would receive), menu and QR creation.
接口文档: https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/New_temporary_materials.html
"""
import itertools
import json
import logging
import socket
import threading
import time

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

log = logging.getLogger(__name__)

OFFICIAL_API_BASE = "https://api.weixin.qq.com/cgi-bin/"
MAX_MEDIA_BYTES = 20 * 1024 * 1024  # WeChat's own limit for a temporary video; images and voice are smaller
MAX_MEDIA_ITEMS = 200


def standin_base(config):
    """Where the stand-in listens: the server's host, port `wechat.standin_port` (0: the server's port + 1)."""
    server = config["server"]
    port = config["wechat"].get("standin_port") or server["port"] + 1
    return f"http://{server['host']}:{port}/cgi-bin/"


def wanted(config):
    """Whether this configuration talks to no real WeChat account: no secret, and no API base given."""
    wechat = config["wechat"]
    return not wechat.get("secret") and wechat.get("api_base", OFFICIAL_API_BASE) in (OFFICIAL_API_BASE,
                                                                                     standin_base(config))


class WeChatStandIn:
    """The stand-in's HTTP server, in a thread; `media` maps media_id → (bytes, content type)."""

    def __init__(self, host="127.0.0.1", port=0, logger=None):
        self.log = logger or log
        self.media = {}
        self.sent = []  # (path, JSON body) of every message sent, newest last
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = make_server(host, port, self._app, threaded=True)
        self.api_base = f"http://{host}:{self._server.server_port}/cgi-bin/"
        self._thread = threading.Thread(target=self._server.serve_forever, name="wechat-standin", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def _app(self, environ, start_response):
        request = Request(environ)
        try:
            response = self._answer(request)
        finally:
            request.close()  # an uploaded file is spooled to a temporary file
        return response(environ, start_response)

    def _answer(self, request):
        path = request.path
        if path.endswith("/token"):
            return _json({"access_token": f"STANDIN_{int(time.time())}", "expires_in": 7200})
        if path.endswith("/media/upload"):
            return self._upload(request)
        if path.endswith("/media/get"):
            found = self.media.get(request.args.get("media_id", ""))
            if found is None:
                return _json({"errcode": 40007, "errmsg": "invalid media_id"})
            content, content_type = found
            return Response(content, content_type=content_type,
                            headers={"Content-Disposition": f'attachment; filename="{request.args["media_id"]}"'})
        if path.endswith("/qrcode/create"):
            n = next(self._ids)
            return _json({"ticket": f"STANDIN_TICKET_{n}", "url": f"http://weixin.qq.com/q/standin{n}"})
        if path.endswith(("/message/custom/send", "/message/template/send", "/message/subscribe/bizsend")):
            body = _json_body(request)
            with self._lock:
                self.sent.append((path, body))
            self.log.info("微信消息 → %s：%s", body.get("touser", "?"), _message_text(body))
        return _json({"errcode": 0, "errmsg": "ok"})

    def _upload(self, request):
        upload = request.files.get("media")
        kind = request.args.get("type", "")
        if upload is None or kind not in ("image", "voice", "video", "thumb"):
            return _json({"errcode": 40004, "errmsg": "invalid media type"})
        content = upload.read(MAX_MEDIA_BYTES + 1)
        if len(content) > MAX_MEDIA_BYTES:
            return _json({"errcode": 40006, "errmsg": "invalid media size"})
        media_id = f"standin-{kind}-{next(self._ids)}"
        with self._lock:
            if len(self.media) >= MAX_MEDIA_ITEMS:
                self.media.pop(next(iter(self.media)))  # oldest first, as WeChat lets them expire
            self.media[media_id] = (content, upload.mimetype or "application/octet-stream")
        return _json({"type": kind, "media_id": media_id, "created_at": int(time.time())})


def _json_body(request):
    try:
        return json.loads(request.get_data() or b"{}")
    except ValueError:
        return {}


def _message_text(body):
    if "text" in body:
        return body["text"].get("content", "")
    data = body.get("data") or {}
    return " / ".join(str(v.get("value", "")) for v in data.values() if isinstance(v, dict))


def _json(data):
    return Response(json.dumps(data, ensure_ascii=False), content_type="application/json")


def start_for(config, logger=None):
    """Start the stand-in where standin_base(config) says, or None (logged) if that port is taken."""
    server = config["server"]
    port = int(standin_base(config).rsplit(":", 1)[1].split("/")[0])
    try:
        # werkzeug exits the process when its port is taken; find out first, and go on without it.
        with socket.socket() as probe:
            probe.bind((server["host"], port))
        return WeChatStandIn(server["host"], port, logger).start()
    except (OSError, SystemExit) as exc:
        (logger or log).warning("WeChat stand-in not started on port %s (%s): photos and voice cannot be "
                                "fetched; set wechat.standin_port to a free port", port, exc)
        return None
