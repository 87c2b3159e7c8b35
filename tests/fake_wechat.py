"""A local stand-in for api.weixin.qq.com: answers like WeChat and records every request it got.

Point `wechat.api_base` at `fake.api_base`. Tests read `fake.requests` to see what was sent, and
register media with `fake.media[media_id] = (bytes, content_type)` for media/get.
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
        return self._answer(path, request)(environ, start_response)

    def _answer(self, path, request):
        if path.endswith("/token"):
            with self._lock:
                self.token_fetches += 1
                n = self.token_fetches
            return _json({"access_token": f"FAKE_TOKEN_{n}", "expires_in": 7200})
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


def _json(data):
    return Response(json.dumps(data), content_type="application/json")
