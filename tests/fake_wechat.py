"""A local stand-in for api.weixin.qq.com: answers like WeChat and records every request it got.

Point `wechat.api_base` at `fake.api_base`. Tests read `fake.requests` to see what was sent, and
register media with `fake.media[media_id] = (bytes, content_type)` for media/get.

It also misbehaves the ways WeChat does, for the outbox's tests: `down = True` (an outage: every call
answers HTTP 503), `expire_tokens(42001)` (every token issued so far is refused, as after a refresh
elsewhere or at expiry), `quotas[path] = n` (the API's daily quota: call n+1 gets 45009, until
`new_day()`), `custom_limit = 5` (45047 past five customer-service messages to one user since
`user_wrote`), and mass sends refused as 45065 when their clientmsgid was seen. `delivered` lists what
WeChat accepted — (channel, openid, text), a mass send once per recipient — so a test counts arrivals.
"""
import json
import threading
import time

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


class FakeWeChat:
    def __init__(self):
        self.requests = []  # (path, query dict, parsed JSON body or raw bytes)
        self.media = {}
        self.responses = {}  # path suffix -> dict to answer instead of the default
        self.delays = {}  # path suffix -> seconds to wait before answering (a slow WeChat)
        self.token_fetches = 0
        self.down = False
        self.valid_from = 1  # tokens numbered below this are refused
        self.refused_with = 42001
        self.quotas = {}  # path suffix -> accepted calls per day
        self.calls_today = {}
        self.custom_limit = None
        self.custom_counts = {}  # openid -> customer-service messages since the user last wrote
        self.client_msg_ids = set()
        self.delivered = []  # (channel, openid, text) WeChat accepted
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.api_base = f"http://127.0.0.1:{self._server.server_port}/cgi-bin/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()

    def sent(self, path_suffix):
        """JSON bodies of requests whose path ends with `path_suffix`, oldest first."""
        with self._lock:
            return [body for path, _, body in self.requests if path.endswith(path_suffix)]

    def expire_tokens(self, errcode=42001):
        """Refuse every token issued so far with `errcode` (40001 invalid, 42001 expired)."""
        with self._lock:
            self.valid_from, self.refused_with = self.token_fetches + 1, errcode

    def new_day(self):
        with self._lock:
            self.calls_today = {}

    def user_wrote(self, openid):
        with self._lock:
            self.custom_counts[openid] = 0

    def arrivals(self):
        """{(channel, openid, text): how many times WeChat accepted it}."""
        with self._lock:
            counted = {}
            for item in self.delivered:
                counted[item] = counted.get(item, 0) + 1
            return counted

    def _app(self, environ, start_response):
        request = Request(environ)
        raw = request.get_data()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        path = request.path
        with self._lock:
            self.requests.append((path, dict(request.args), body))
        for suffix, seconds in self.delays.items():
            if path.endswith(suffix):
                time.sleep(seconds)
        if self.down:
            return Response("<html>502 Bad Gateway</html>", status=503, content_type="text/html")(environ, start_response)
        return self._answer(path, request, body)(environ, start_response)

    def _answer(self, path, request, body=None):
        if path.endswith("/token"):
            with self._lock:
                self.token_fetches += 1
                n = self.token_fetches
            return _json({"access_token": f"FAKE_TOKEN_{n}", "expires_in": 7200})
        token = request.args.get("access_token", "")
        if token.startswith("FAKE_TOKEN_") and token[11:].isdigit() and int(token[11:]) < self.valid_from:
            return _json({"errcode": self.refused_with, "errmsg": "access_token expired or invalid"})
        for suffix, limit in self.quotas.items():
            if path.endswith(suffix):
                with self._lock:
                    used = self.calls_today.get(suffix, 0)
                    if used >= limit:
                        return _json({"errcode": 45009, "errmsg": "reach max api daily quota limit"})
                    self.calls_today[suffix] = used + 1
        for suffix, answer in self.responses.items():
            if path.endswith(suffix):
                return _json(answer)
        sends = self._send(path, body)
        if sends is not None:
            return sends
        if path.endswith("/media/get"):
            media_id = request.args.get("media_id")
            if media_id in self.media:
                content, content_type = self.media[media_id]
                return Response(content, content_type=content_type,
                                headers={"Content-Disposition": f'attachment; filename="{media_id}"'})
            return _json({"errcode": 40007, "errmsg": "invalid media_id"})
        if path.endswith("/qrcode/create"):
            return _json({"ticket": f"FAKE_TICKET_{len(self.requests)}", "expire_seconds": None,
                          "url": f"http://weixin.qq.com/q/fake{len(self.requests)}"})
        for suffix, answer in self.responses.items():
            if path.endswith(suffix):
                return _json(answer)
        return _json({"errcode": 0, "errmsg": "ok"})


    def _send(self, path, body):
        """A message send: accepted (recorded in `delivered`) or refused as WeChat would; None if not a send."""
        if not isinstance(body, dict):
            return None
        if path.endswith("/message/custom/send"):
            openid = body.get("touser")
            with self._lock:
                count = self.custom_counts.get(openid, 0)
                if self.custom_limit is not None and count >= self.custom_limit:
                    return _json({"errcode": 45047, "errmsg": "out of response count limit"})
                self.custom_counts[openid] = count + 1
                self.delivered.append(("custom", openid, (body.get("text") or {}).get("content")))
            return _json({"errcode": 0, "errmsg": "ok"})
        if path.endswith("/message/template/send"):
            with self._lock:
                self.delivered.append(("template", body.get("touser"), body["data"]["first"]["value"]))
                n = len(self.delivered)
            return _json({"errcode": 0, "errmsg": "ok", "msgid": 2000 + n})
        if path.endswith("/message/mass/send"):
            with self._lock:
                key = body.get("clientmsgid")
                if key and key in self.client_msg_ids:
                    return _json({"errcode": 45065, "errmsg": "clientmsgid exist"})
                self.client_msg_ids.add(key)
                for openid in body.get("touser") or []:
                    self.delivered.append(("mass", openid, (body.get("text") or {}).get("content")))
                n = len(self.delivered)
            return _json({"errcode": 0, "errmsg": "send job submission success", "msg_id": 3000 + n})
        return None


def _json(data):
    return Response(json.dumps(data), content_type="application/json")
