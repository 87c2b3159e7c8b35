"""What every public page shares: the bureau's name in title and footer, the template filters, and
the Chinese error pages (API clients keep a plain error)."""
import gzip
import logging
import re
from urllib.parse import urlsplit

from flask import Blueprint, g, redirect, render_template, request
from markupsafe import Markup, escape
from peewee import PeeweeException
from werkzeug.exceptions import SecurityError

from models import Bureau

log = logging.getLogger(__name__)
bp = Blueprint("layout", __name__)
FALLBACK_NAME = "行政执法公示"
LARGE_TEXT_COOKIE = "large"  # 大字 mode, remembered for a year
GZIP_MIN_BYTES = 1024
GZIP_TYPES = ("text/html", "text/css", "application/json", "text/plain")


def bureau():
    """执法主体 of this installation, looked up once per request."""
    if "bureau" not in g:
        g.bureau = Bureau.current()
    return g.bureau


@bp.app_context_processor
def bureau_context():
    """Every page (also the other areas' templates) names the bureau in its title and footer."""
    try:
        current = bureau()
    except PeeweeException:
        # An error page must still render when the database is what failed.
        log.exception("bureau name unavailable")
        current = None
    return {"bureau_name": current.name if current else FALLBACK_NAME,
            "large_text": request.cookies.get(LARGE_TEXT_COOKIE) == "1", "here": here()}


def here():
    """This page's address for the 大字 switch to come back to; an overlong query (an odd search) is
    dropped rather than echoed into every link."""
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query and len(query) <= 200 else "")


@bp.route("/text-size")
def text_size():
    """The 大字 switch on every page: remember the choice in a cookie and go back to the page."""
    target = request.args.get("next") or "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        target = "/"  # only our own pages: no open redirect
    response = redirect(target.rstrip("?"))
    response.set_cookie(LARGE_TEXT_COOKIE, "1" if request.args.get("large") == "1" else "0",
                        max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.after_app_request
def compress(response):
    """Pages go gzipped to a client that accepts it (a long list is mostly repeated markup)."""
    if (request.path.startswith("/wechat") or response.direct_passthrough or response.status_code != 200
            or "gzip" not in request.headers.get("Accept-Encoding", "")
            or response.mimetype not in GZIP_TYPES or "Content-Encoding" in response.headers):
        return response
    body = response.get_data()
    if len(body) < GZIP_MIN_BYTES:
        return response
    response.set_data(gzip.compress(body, compresslevel=6))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


@bp.app_template_filter("highlight")
def highlight(text, query):
    """Escape `text` and mark each search term in it, so a citizen sees why an item matched."""
    terms = sorted({t for t in (query or "").split() if t}, key=len, reverse=True)
    if not terms:
        return escape(text)
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    parts, last = [], 0
    for match in pattern.finditer(text):
        parts += [escape(text[last:match.start()]), Markup("<mark>%s</mark>") % match.group()]
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


@bp.app_template_filter("tel")
def tel_number(text):
    """The dialable number at the start of a phone field such as "12345（便民热线）", or ""."""
    match = re.match(r"\s*(\+?[\d-]{3,})", text or "")
    return match.group(1) if match else ""


@bp.app_template_filter("verdict_class")
def verdict_class(verdict):
    """Colour of an officer's verdict: green may enforce, orange not yet, red not any more."""
    return {"有效": "ok", "尚未生效": "warn"}.get(verdict, "bad")


def wants_html():
    """Browsers get a Chinese page; API clients (Accept: application/json) keep the plain error."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best != "application/json"


@bp.app_errorhandler(400)
def bad_request(error):
    """Never echo what was wrong (a forged Host, say): a fixed page or a bare status."""
    if not wants_html():
        return "400 Bad Request", 400, {"Content-Type": "text/plain; charset=utf-8"}
    return render_template("error.html", title="请求有误",
                           message="抱歉，这个请求无法处理，可能链接不完整。请从公示首页重新进入。"), 400


@bp.app_errorhandler(SecurityError)
def untrusted_host(error):
    """A Host header not ours (handlers/web/guard.py): no page can be built for it, and none is needed."""
    return "400 Bad Request", 400, {"Content-Type": "text/plain; charset=utf-8"}


@bp.app_errorhandler(404)
def not_found(error):
    if not wants_html():
        return error
    return render_template("404.html"), 404


@bp.app_errorhandler(500)
def server_error(error):
    if not wants_html():
        return error
    return render_template("500.html"), 500
