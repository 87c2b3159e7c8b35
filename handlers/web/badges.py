"""执法证核验 on the web: the badge QR's page /v/<token>, the photo behind it, and the staff page of
scan counts (/staff/badges). The token is signed and checked by models/badges.py; any other token gets
the same 无效二维码 page, never another officer's data.
"""
import base64
import datetime as dt
import hmac
import logging
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, render_template, request
from peewee import PeeweeException

from handlers.web.guard import limit_wrong_guesses

from handlers.web.layout import tel_number as dial_number
from models import Bureau
from models.badges import INVALID_WORDS, VERDICT_WORDS, BadgeScan, officer_for_token, photo_path

log = logging.getLogger(__name__)
bp = Blueprint("verify", __name__)


# -- the page /v/<token> ------------------------------------------------------------------------------

def no_store(response, status=200):
    response = current_app.make_response((response, status))
    response.headers["Cache-Control"] = "no-store"  # a status change shows on the very next scan
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.route("/v/<path:token>")
def verify_page(token):
    """The badge QR's page: 200 with the officer's verdict, or 404 with 无效二维码 for any other token."""
    config = current_app.config["SANXIANG"]
    bureau = Bureau.current()
    officer = officer_for_token(token, config)
    now = dt.datetime.fromtimestamp(current_app.config["CLOCK"]())
    today = now.date()
    if officer is None:
        words, tone = INVALID_WORDS
        return no_store(render_template("verify.html", officer=None, words=words, tone=tone, bureau=bureau,
                                        bureau_name=bureau.name, badges=config["badges"],
                                        dial=dial_number(bureau.phone)), 404)
    try:
        BadgeScan.record(officer, "page", today)
    except PeeweeException:
        # Counting is for statistics; the citizen's answer must not depend on it.
        log.exception("badge scan not counted for officer %s", officer.id)
    words, tone = VERDICT_WORDS[officer.verdict(today)]
    complaint = config["badges"]["complaint_url"].format(cert_no=quote(officer.cert_no))
    return no_store(render_template("verify.html", officer=officer, words=words, tone=tone, bureau=bureau,
                                    bureau_name=bureau.name, badges=config["badges"], token=token, dial=dial_number(bureau.phone),
                                    has_photo=photo_path(officer, config) is not None, complaint_url=complaint,
                                    checked_at=f"{now:%Y-%m-%d %H:%M}"))


@bp.route("/v-photo/<token>")
def verify_photo(token):
    """The officer's photo, only through a genuine token (photos are not reachable by id or number)."""
    config = current_app.config["SANXIANG"]
    officer = officer_for_token(token, config)
    path = photo_path(officer, config) if officer else None
    if path is None:
        abort(404)
    # Photos are small JPEGs (models/officers.set_photo); reading them whole leaves no file handle open.
    return Response(path.read_bytes(), mimetype="image/jpeg", headers={"Cache-Control": "no-store"})


# -- staff: scan counts -------------------------------------------------------------------------------

def staff_token():
    """STAFF_TOKEN (badges.staff_token): the password of the staff page; unset, the page is off."""
    return current_app.config["SANXIANG"]["badges"].get("staff_token") or ""


def staff_allowed():
    """HTTP Basic auth whose password is STAFF_TOKEN (any user name); compared in constant time."""
    expected = staff_token()
    header = request.headers.get("Authorization", "")
    if not expected or not header.startswith("Basic "):
        return False
    try:
        _, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    return hmac.compare_digest(password.encode(), expected.encode())


@bp.route("/staff/badges")
@limit_wrong_guesses("GET")
def staff_scans():
    """扫码统计 — badge scans per officer and day, for staff (HTTP Basic, password STAFF_TOKEN)."""
    if not staff_token():
        abort(404)  # the page is off until STAFF_TOKEN is set
    if not staff_allowed():
        return Response("请输入工作人员口令。", 401, {"WWW-Authenticate": 'Basic realm="staff", charset="UTF-8"'},
                        mimetype="text/plain")
    try:
        days = min(max(int(request.args.get("days", 30)), 1), 366)
    except ValueError:
        days = 30
    today = dt.date.fromtimestamp(current_app.config["CLOCK"]())
    rows = BadgeScan.report(today - dt.timedelta(days=days - 1), today)
    totals = {}
    for row in rows:
        key = (row.officer.cert_no, row.officer.name)
        totals[key] = totals.get(key, 0) + row.scans
    bureau = Bureau.current()
    return no_store(render_template("staff_badges.html", rows=rows, totals=sorted(totals.items()), days=days,
                                    bureau_name=bureau.name))
