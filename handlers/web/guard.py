"""What stands between the public pages and whoever sends requests to them.

- The client's address is the connection's, or, behind the configured number of proxies (nginx), the one
  those proxies put in X-Forwarded-For: never a header the client chose (X-Real-IP, an extra hop).
- Only the configured host names are served, so a forged Host header cannot steer redirects elsewhere.
- Every form that changes something carries a CSRF token tied to the visitor's session (Flask-WTF).
- Guessing is slow: wrong passwords, query codes and API keys count against the client's address
  (the `limits` library, shared through Redis when configured), and past the limit the client waits.
  Only the views that check a secret pay for it: Flask-Limiter's hooks on every request cost /wechat
  about a third of a millisecond each (measured), for views that have no limit.
"""
import functools
import logging
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import abort, current_app, make_response, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from werkzeug.middleware.proxy_fix import ProxyFix

from settings import ROOT

log = logging.getLogger(__name__)
csrf = CSRFProtect()


def refused(response):
    """What counts as a wrong guess: a refused password, code or key."""
    return response.status_code in (401, 403, 404)


def limit_wrong_guesses(*methods):
    """Allow `limits.wrong_guesses` refused `methods` requests per client address; past that, 429 (right
    answers included) until the window has moved on. Right answers do not count."""
    def decorate(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            if request.method not in methods:
                return view(*args, **kwargs)
            limiter, limit, key = current_app.extensions["guess_limiter"], guess_limit(), client_key()
            if not _safely(limiter.test, limit, key, default=True):
                abort(429)
            response = make_response(view(*args, **kwargs))
            if refused(response):
                _safely(limiter.hit, limit, key, default=True)
            return response
        return guarded
    return decorate


def guess_limit():
    return parse(current_app.config["SANXIANG"]["limits"]["wrong_guesses"])


def client_key():
    """Whom a limit counts: the client's address (see install), under this installation's prefix."""
    prefix = (current_app.config["SANXIANG"].get("redis") or {}).get("prefix") or "sanxiang"
    return f"{prefix}:guesses:{request.remote_addr}"


def _safely(call, *args, default):
    """Redis away: let the request through rather than fail the page (the limit is a brake, not a lock)."""
    try:
        return call(*args)
    except Exception:  # noqa: BLE001 — whatever the storage raises
        log.exception("rate limit storage unavailable; request let through")
        return default


def secret_key(config):
    """SECRET_KEY (server.secret_key), or one made once and kept in a file only this user reads, so
    every worker of this server signs sessions alike."""
    if config["server"].get("secret_key"):
        return config["server"]["secret_key"]
    path = Path(config["server"].get("secret_key_file") or "var/secret_key")
    path = path if path.is_absolute() else ROOT / path
    if not path.exists():
        # Written whole under a name of its own, then linked into place: a worker starting at the same
        # moment finds either no file or the complete one, and the first link wins.
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def trusted_hosts(config):
    """The public address's host, and the loopback names the server is reached by on its own machine."""
    public = urlsplit(config["server"]["public_base_url"]).hostname
    return sorted({h for h in (public, "localhost", "127.0.0.1", config["server"]["host"]) if h}
                  | set(config["server"].get("trusted_hosts") or []))


class SigningOnceSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, its signer made once per secret key rather than on every request:
    Flask builds it in open_session, for /wechat too, where it cost more than the session (make bench)."""

    # WeChat's servers send no cookies and the endpoint keeps nothing between messages: /wechat gets Flask's
    # null session (read as empty; nothing saved), which spares every message the cookie parsing and the
    # signer (about 10 µs a message, make bench).
    SESSIONLESS_PATHS = frozenset({"/wechat"})

    def open_session(self, app, request):
        if request.environ.get("PATH_INFO") in self.SESSIONLESS_PATHS:
            return self.make_null_session(app)
        return super().open_session(app, request)

    def get_signing_serializer(self, app):
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = getattr(self, "_signer", None)
        if cached is None or cached[0] != key:
            cached = self._signer = (key, super().get_signing_serializer(app))
        return cached[1]


def install(app):
    config = app.config["SANXIANG"]
    proxies = int(config["server"].get("trusted_proxies") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0)
    # Flask's own defaults are None; a value given by the caller (tests) is kept.
    app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or secret_key(config)
    app.config["TRUSTED_HOSTS"] = app.config.get("TRUSTED_HOSTS") or trusted_hosts(config)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # a form may stay open for long; the session bounds it
    # Behind TLS, Flask-WTF would also demand a same-origin Referer, which phones' browsers do not always
    # send (Referrer-Policy); the session-bound token and the SameSite cookie already stop forged posts.
    app.config.setdefault("WTF_CSRF_SSL_STRICT", False)
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.session_interface = SigningOnceSessionInterface()
    csrf.init_app(app)
    # Not forms: WeChat's messages are signed; Open311 callers authenticate with their api_key.
    csrf.exempt("handlers.wechat.endpoint.receive")
    csrf.exempt("handlers.web.open311.create_request")
    storage = storage_from_string((config.get("redis") or {}).get("url") or "memory://")
    app.extensions["guess_limiter"] = MovingWindowRateLimiter(storage)

    @app.errorhandler(CSRFError)
    def form_expired(error):
        return render_template("error.html", title="页面已过期",
                               message="这个表单已过期或不是从本站打开的。请返回上一页，刷新后重新填写提交。"), 400

    @app.errorhandler(429)
    def too_many(error):
        if request.path.startswith(("/open311/", "/ledger/")):
            return {"error": "too many attempts"}, 429
        return render_template("error.html", title="尝试次数过多",
                               message="尝试次数过多，请过一段时间再试。急事请拨打12345。"), 429
