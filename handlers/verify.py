"""执法证核验 — a citizen checks the certificate an officer shows: by chat, by WeChat's QR, or on /v/<token>.

- Chat: "核验 15052501001" or "核验 姓名".
- WeChat's permanent parametric QR (scene "officer:<执法证号>"): the subscribe or SCAN event.
- The badge card's QR: the page /v/<token>, whose token models/badges.py signs and checks.
The answer puts the verdict first and shows only what the bureau publishes anyway (no ID-card
number, no personal phone). Scans are counted per officer and day, never who scanned.
"""
import base64
import datetime as dt
import hmac
import logging
import os
import re
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, render_template, request
from peewee import PeeweeException

from handlers.router import router
from models import Bureau, Officer
from models.badges import BadgeScan, officer_for_token
from handlers.badge_card import photo_path

log = logging.getLogger(__name__)
bp = Blueprint("verify", __name__)

# The big words a citizen reads first, and their colour (static/style.css .verdict).
VERDICTS = {
    "有效": ("有效执法证件", "ok"),
    "已暂扣": ("已暂扣", "bad"),
    "已注销": ("已注销", "bad"),
    "已过期": ("已过期", "bad"),
    "尚未生效": ("尚未生效", "warn"),
}
INVALID = ("无效二维码", "bad")
ASK_WHAT = ("请回复“核验 执法证号”或“核验 姓名”，如：核验 15052501001。\n"
            "也可以用微信扫一扫执法人员证件上的二维码核验。")
NOT_FOUND = ("没有找到执法证号或姓名为“{arg}”的执法人员，该证件可能不是本局签发的。"
             "{refuse}请拨打本局电话{phone}核实。")
MAX_MATCHES = 5


def dial_number(phone):
    """The dialable number at the start of a phone field such as "12345（便民热线）"."""
    match = re.match(r"\s*(\+?[\d-]{3,})", phone or "")
    return match.group(1) if match else ""


def verdict_words(officer, today):
    return VERDICTS[officer.verdict(today)]


def badge_settings():
    return current_app.config["SANXIANG"]["badges"]


# -- chat -----------------------------------------------------------------------------------------------

def officer_card(officer, today, config, bureau):
    """The chat answer for one officer: verdict first, then the certificate as published."""
    words, _ = verdict_words(officer, today)
    mark = "✅" if words == "有效执法证件" else "⚠️"
    lines = [f"【执法证核验】{mark}{words}", f"姓名：{officer.name}", f"执法证号：{officer.cert_no}",
             f"发证机关：{officer.issuer}", f"执法领域：{officer.fields}",
             f"有效期：{officer.valid_from:%Y.%m.%d}-{officer.valid_to:%Y.%m.%d}", f"执法单位：{bureau.name}"]
    if words == "有效执法证件":
        lines.append(f"请核对出示证件的人员与以上信息、证件照片是否一致。有疑问请拨打{bureau.phone}。")
    else:
        lines.append(f"该证件目前不能用于执法。{config['badges']['refuse_rule']}"
                     f"（{config['badges']['refuse_rule_source']}）请拨打{bureau.phone}核实或投诉。")
    # From a badge scan straight into the complaint dialogue, with this officer chosen.
    lines.append(f"对该执法人员的执法行为有意见，可回复“投诉 {officer.cert_no}”。")
    return "\n".join(lines)


def find_officers(arg):
    """Exact 执法证号 first, then exact name, then names containing `arg`."""
    by_cert = Officer.get_or_none(Officer.cert_no == arg)
    if by_cert:
        return [by_cert]
    exact = list(Officer.select().where(Officer.name == arg).order_by(Officer.cert_no))
    return exact or list(Officer.select().where(Officer.name.contains(arg)).order_by(Officer.cert_no))


@router.keyword("核验", "核验证件")
def verify_chat(ctx, arg=""):
    arg = arg.replace(" ", "")
    if not arg:
        return ASK_WHAT
    bureau = Bureau.current()
    found = find_officers(arg[:40]) if len(arg) >= 2 else []
    if not found:
        config = ctx.config["badges"]
        return NOT_FOUND.format(arg=arg[:20], refuse=config["refuse_rule"], phone=bureau.phone)
    cards = [officer_card(o, ctx.now.date(), ctx.config, bureau) for o in found[:MAX_MATCHES]]
    more = f"\n\n另有{len(found) - MAX_MATCHES}人同名或姓名相近，请用执法证号核验。" if len(found) > MAX_MATCHES else ""
    return "\n\n".join(cards) + more


@router.scene("officer:")
def verify_scene(ctx, cert_no):
    """Scanning an officer's WeChat parametric QR (subscribe with qrscene_… or SCAN)."""
    officer = Officer.get_or_none(Officer.cert_no == cert_no)
    greeting = "感谢关注！\n" if ctx.message.event == "subscribe_scan" else ""
    if officer is None:
        bureau = Bureau.current()
        return greeting + NOT_FOUND.format(arg=cert_no[:20], refuse=ctx.config["badges"]["refuse_rule"],
                                           phone=bureau.phone)
    BadgeScan.record(officer, "wechat", ctx.now.date())
    return greeting + officer_card(officer, ctx.now.date(), ctx.config, Bureau.current())


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
        words, tone = INVALID
        return no_store(render_template("verify.html", officer=None, words=words, tone=tone, bureau=bureau,
                                        bureau_name=bureau.name, badges=config["badges"],
                                        dial=dial_number(bureau.phone)), 404)
    try:
        BadgeScan.record(officer, "page", today)
    except PeeweeException:
        # Counting is for statistics; the citizen's answer must not depend on it.
        log.exception("badge scan not counted for officer %s", officer.id)
    words, tone = verdict_words(officer, today)
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
    return os.environ.get("STAFF_TOKEN") or badge_settings().get("staff_token") or ""


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


def install(app):
    app.register_blueprint(bp)
