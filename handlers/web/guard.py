"""What stands between the public pages and whoever sends requests to them.

- The client's address is the connection's, or, behind the configured number of proxies (nginx), the one
  those proxies put in X-Forwarded-For: never a header the client chose (X-Real-IP, an extra hop).
- Only the configured host names are served, so a forged Host header cannot steer redirects elsewhere.
- Every form that changes something carries a CSRF token tied to the visitor's session (Flask-WTF).
- Guessing is slow: wrong passwords, query codes and API keys count against the client's address
  (Flask-Limiter, shared through Redis when configured), and past the limit the client waits.
"""
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from settings import ROOT

csrf = CSRFProtect()


def client_key():
    """Whom a limit counts: the client's address, under this installation's prefix (a shared Redis)."""
    return f"{(current_app.config['SANXIANG'].get('redis') or {}).get('prefix') or 'sanxiang'}:{get_remote_address()}"


limiter = Limiter(key_func=client_key, default_limits=[], headers_enabled=False)


def refused(response):
    """What counts as a wrong guess: a refused password, code or key."""
    return response.status_code in (401, 403, 404)


def limit_wrong_guesses(*methods):
    """Allow `limits.wrong_guesses` refused `methods` requests per client address, then 429 for a while."""
    return limiter.limit(lambda: _limits()["wrong_guesses"], deduct_when=refused, methods=list(methods))


def _limits():
    return current_app.config["SANXIANG"]["limits"]


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
    app.config.setdefault("RATELIMIT_STORAGE_URI", (config.get("redis") or {}).get("url") or "memory://")
    csrf.init_app(app)
    # Not forms: WeChat's messages are signed; Open311 callers authenticate with their api_key.
    csrf.exempt("handlers.wechat.endpoint.receive")
    csrf.exempt("handlers.web.open311.create_request")
    # Redis away: let requests through rather than fail the page (the limit is a brake, not a lock).
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    limiter.init_app(app)

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
