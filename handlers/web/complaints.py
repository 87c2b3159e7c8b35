"""投诉举报 on the web: a phone-sized form and a status lookup by ticket and secret code.

The complainant's identity never appears on these pages beyond the filer's own confirmation.
"""
import datetime as dt
import hashlib
import secrets

from flask import Blueprint, current_app, render_template, request

from models.database import write_transaction
from models.complaints import ComplaintError, Complaint, DailyLimitReached, Evidence, complaint_settings
from models.disclosure import Officer
from notices.outbox import send_after_response
from handlers.web.guard import limit_wrong_guesses

bp = Blueprint("complaints", __name__, url_prefix="/complaints")

MEDIA_KINDS = {"image": "image", "audio": "voice", "video": "video"}


def config():
    return current_app.config["SANXIANG"]


def now():
    return dt.datetime.fromtimestamp(current_app.config["CLOCK"]())


def web_submitter():
    """Web filers have no account: the daily limit counts per address (hashed, not stored plain)."""
    address = request.remote_addr or "?"  # behind trusted proxies only (handlers/web/guard.py)
    return "web:" + hashlib.sha256(f"{config()['wechat']['token']}:{address}".encode()).hexdigest()[:20]


def render_form(values=None, error="", status=200, error_field=None):
    values = values or {}
    officers = [o for o in Officer.search("") if o.verdict(now().date()) != "已注销"]
    return render_template("complaint_form.html", categories=complaint_settings(config())["categories"],
                           officers=officers, values=values, error=error, error_field=error_field,
                           token=values.get("form_token") or secrets.token_urlsafe(16),
                           max_evidence=complaint_settings(config())["max_evidence"]), status


@bp.get("/new")
def new():
    """The form; `?officer=证号` preselects the officer (the badge page links here)."""
    values = {}
    officer = Officer.by_cert_no(request.args.get("officer", ""))
    if officer is not None:
        values = {"category": "officer", "officer": officer.cert_no}
    return render_form(values)


@bp.post("/new")
def create():
    settings = complaint_settings(config())
    request.max_content_length = settings["max_evidence_bytes"] * settings["max_evidence"] + 65536
    form = request.form
    values = {key: form.get(key, "").strip() for key in
              ("category", "officer", "content", "location", "lat", "lng", "contact", "form_token", "trip_ended_on")}
    officer = Officer.by_cert_no(values["officer"])
    files = [f for f in request.files.getlist("evidence") if f and f.filename][: settings["max_evidence"]]
    try:
        with write_transaction():  # the daily count and the insert under one write lock (SQLite)
            owner = "web:" + values["form_token"][:40]
            evidence = [Evidence.store(config(), f.read(), kind=MEDIA_KINDS.get(f.mimetype.split("/")[0], "file"),
                                       owner=owner, now=now(), content_type=f.mimetype) for f in files]
            complaint = Complaint.file(
                config(), now(), category=values["category"], content=values["content"], officer=officer,
                location=values["location"], lat=_float(values["lat"]), lng=_float(values["lng"]),
                contact=values["contact"], submitter=web_submitter(), source="web",
                trip_ended_on=_day(values["trip_ended_on"]),
                client_key=("web:" + values["form_token"][:40]) if values["form_token"] else None,
                evidence=evidence)
    except DailyLimitReached as exc:
        return render_form(values, str(exc), 429)
    except ComplaintError as exc:
        return render_form(values, str(exc), 400, exc.field)
    response = current_app.make_response(render_template("complaint_done.html", complaint=complaint))
    return send_after_response(response, config())  # staff hear of the new complaint at once


def _day(text):
    """The form's date field (yyyy-mm-dd from the browser's date picker); bad input is the filer's to fix."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ComplaintError("旅游行程结束日期请写成 2026-11-20 的形式，或者不填。", field="trip_ended_on") from None


def _float(text):
    try:
        return float(text) if text else None
    except ValueError:
        return None


@bp.route("/status", methods=["GET", "POST"])
@limit_wrong_guesses("POST")
def status():
    """进度查询 — by ticket and the secret code given when filing (kept out of URLs: POST)."""
    if request.method == "GET":
        return render_template("complaint_status.html", complaint=None, error="", ticket="")
    ticket = request.form.get("ticket", "").strip().upper()
    complaint = Complaint.by_ticket(ticket)
    if complaint is None or not complaint.code_matches(request.form.get("code", "")):
        return render_template("complaint_status.html", complaint=None, ticket=ticket,
                               error="编号或查询码不对，请核对后重试。微信里提交的投诉，请在公众号回复“查询 编号”。"), 404
    events = [e for e in complaint.events() if e.action not in ("reveal", "recompute")]
    return render_template("complaint_status.html", complaint=complaint, events=events, error="", ticket=ticket,
                           config=config())
