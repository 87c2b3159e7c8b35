"""Open311 GeoReport v2 — complaints as service requests, for the banner's 12345 platform and others.

https://wiki.open311.org/GeoReport_v2/ (JSON only). Reading is public but shows no complainant
identity; description, address and the answer only to callers with an api_key. Posting needs one.
"""
import datetime as dt
import hashlib
import hmac

from flask import Blueprint, current_app, jsonify, request

from handlers.web.guard import limit_wrong_guesses
from models import Bureau
from models.complaints import (CLOSED, OPEN_STATUSES, REJECTED, ComplaintError, Complaint, DailyLimitReached,
                               complaint_settings)
from notices.outbox import send_after_response

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
MAX_RESULTS = 1000
DEFAULT_DAYS = 90
# Times are stored as local (China Standard Time) wall-clock times.
UTC_OFFSET = "+08:00"


def settings():
    return complaint_settings(current_app.config["SANXIANG"])


def api_keys():
    """complaints.open311.api_keys: config.yaml's, plus OPEN311_API_KEYS (comma-separated; settings.py)."""
    return list(settings()["open311"].get("api_keys") or [])


def caller_key():
    """The caller's valid api_key, or None."""
    given = request.values.get("api_key", "")
    given = given.encode()  # compare_digest refuses non-ASCII text; bytes compare whatever was sent
    return next((k for k in api_keys() if given and hmac.compare_digest(k.encode(), given)), None)


def error(code, description):
    return jsonify([{"code": code, "description": description}]), code


def iso(value):
    if value is None:
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(17, 30))  # end of the working day it is due
    return value.isoformat(timespec="seconds") + UTC_OFFSET


@bp.get("/services.json")
def services():
    return jsonify([{"service_code": c["code"], "service_name": c["name"], "description": c.get("description", ""),
                     "metadata": False, "type": "realtime", "keywords": c["name"], "group": "文化和旅游"}
                    for c in settings()["categories"]])


@bp.post("/requests.json")
@limit_wrong_guesses("POST")
def create_request():
    key = caller_key()
    if key is None:
        return error(403, "api_key missing or invalid")
    form = request.values
    lat, lng = _float(form.get("lat")), _float(form.get("long"))
    address = form.get("address_string", "").strip()
    if (lat is None or lng is None) and not address:
        return error(400, "a location is required: lat and long, or address_string")
    contact = " ".join(form.get(f, "").strip() for f in ("last_name", "first_name", "phone", "email")).strip()
    content = form.get("description", "").strip()
    if form.get("media_url"):
        content += f"\n附件：{form['media_url'].strip()}"
    idempotency = request.headers.get("Idempotency-Key", "").strip()[:80]
    caller = hashlib.sha256(key.encode()).hexdigest()[:12]
    try:
        complaint = Complaint.file(
            current_app.config["SANXIANG"], dt.datetime.fromtimestamp(current_app.config["CLOCK"]()),
            category=form.get("service_code", ""), content=content, location=address, lat=lat, lng=lng,
            contact=contact, submitter=f"open311:{caller}", source="open311", check_limit=False,
            client_key=f"open311:{caller}:{idempotency}" if idempotency else None)
    except DailyLimitReached as exc:
        return error(429, str(exc))
    except ComplaintError as exc:
        return error(400, str(exc))
    response = jsonify([{"service_request_id": complaint.ticket, "account_id": None,
                         "service_notice": f"将于{complaint.accept_due:%Y年%m月%d日}前决定是否受理"}])
    response.status_code = 201
    return send_after_response(response, current_app.config["SANXIANG"])  # staff hear of it at once


def _float(text):
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def agency():
    """agency_responsible: the bureau's name, looked up once per response, not once per request listed."""
    bureau = Bureau.current()
    return bureau.name if bureau else ""


def as_request(complaint, trusted, agency_name):
    """One complaint as a GeoReport service request; identity never, details only to key holders."""
    notes = complaint.status + (f"：{complaint.status_reason}" if complaint.status_reason else "")
    data = {
        "service_request_id": complaint.ticket,
        "status": "closed" if complaint.status in (CLOSED, REJECTED) else "open",
        "status_notes": notes,
        "service_name": complaint.category,
        "service_code": complaint.category_code,
        "agency_responsible": agency_name,
        "service_notice": "",
        "requested_datetime": iso(complaint.created_at),
        "updated_datetime": iso(complaint.updated_at),
        "expected_datetime": iso(complaint.current_due()),
        "address_id": None,
        "zipcode": None,
        "media_url": None,
    }
    if trusted:
        data.update(description=complaint.content, address=complaint.location, lat=complaint.lat,
                    long=complaint.lng, status_notes=(notes + (f"\n答复：{complaint.answer}" if complaint.answer else "")))
    return data


@bp.get("/requests/<ticket>.json")
def get_request(ticket):
    complaint = Complaint.by_ticket(ticket)
    if complaint is None:
        return error(404, "service request not found")
    return jsonify([as_request(complaint, caller_key() is not None, agency())])


@bp.get("/requests.json")
def list_requests():
    args = request.args
    query = Complaint.select().order_by(Complaint.created_at.desc())
    if args.get("service_request_id"):
        tickets = [t.strip().upper() for t in args["service_request_id"].split(",") if t.strip()]
        query = query.where(Complaint.ticket.in_(tickets))
    else:
        end = _date(args.get("end_date")) or dt.datetime.now() + dt.timedelta(days=1)
        start = _date(args.get("start_date")) or end - dt.timedelta(days=DEFAULT_DAYS)
        query = query.where((Complaint.created_at >= start) & (Complaint.created_at <= end))
        if args.get("service_code"):
            query = query.where(Complaint.category_code.in_(args["service_code"].split(",")))
        if args.get("status") == "closed":
            query = query.where(Complaint.status.in_((CLOSED, REJECTED)))
        elif args.get("status") == "open":
            query = query.where(Complaint.status.in_(OPEN_STATUSES))  # by the status index
    trusted, agency_name = caller_key() is not None, agency()
    return jsonify([as_request(c, trusted, agency_name) for c in query.limit(MAX_RESULTS)])


def _date(text):
    """An ISO 8601 date-time as local (+08:00) wall-clock time."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone(dt.timedelta(hours=8))).replace(tzinfo=None)
    return value
