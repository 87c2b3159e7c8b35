"""Open311 GeoReport v2 — complaints as service requests, for the banner's 12345 platform and civic apps.

Implements https://wiki.open311.org/GeoReport_v2/ (GeoReport v2, the current and final version) in both
formats, `.xml` (required by the spec) and `.json`:

    GET  discovery.{fmt}                 service discovery
    GET  services.{fmt}                  service list
    GET  services/<service_code>.{fmt}   service definition (no extra attributes: metadata is false)
    POST requests.{fmt}                  create (api_key required)
    GET  tokens/<token>.{fmt}            service_request_id from the token a POST returned
    GET  requests.{fmt}                  list: service_request_id | service_code, start_date, end_date, status
    GET  requests/<id>.{fmt}             one request

Errors are the spec's list of {code, description} in the asked format; 404 for an unknown service,
request, token or jurisdiction_id, 400 for invalid filter values and date ranges over the spec's 90 days,
403 for a missing or wrong api_key. Reading is public but shows no complainant identity; description,
address, position and the answer only to callers with an api_key; rejection reasons are masked like
disclosures for everyone else. Text is UTF-8, Chinese as is (never \\u-escaped).
"""
import datetime as dt
import hashlib
import hmac
import json
import secrets
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, current_app, request, url_for

from handlers.web.guard import limit_wrong_guesses
from models import Bureau
from models.complaints import (CLOSED, OPEN_STATUSES, REJECTED, ComplaintError, Complaint, DailyLimitReached,
                               category_by, complaint_settings)
from notices.outbox import send_after_response

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# Times are stored as local (China Standard Time) wall-clock times.
UTC_OFFSET = "+08:00"
CHINA = dt.timezone(dt.timedelta(hours=8))
# The XML element each list holds (GeoReport v2's examples).
ITEMS = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
         "values": "value", "endpoints": "endpoint", "formats": "format"}


def settings():
    return complaint_settings(current_app.config["SANXIANG"])


def open311():
    return settings()["open311"]


def api_keys():
    """complaints.open311.api_keys: config.yaml's, plus OPEN311_API_KEYS (comma-separated; settings.py)."""
    return list(open311().get("api_keys") or [])


def caller_key():
    """The caller's valid api_key, or None."""
    given = request.values.get("api_key", "")
    given = given.encode()  # compare_digest refuses non-ASCII text; bytes compare whatever was sent
    return next((k for k in api_keys() if given and hmac.compare_digest(k.encode(), given)), None)


# -- rendering -------------------------------------------------------------------------------------------------

def _xml_value(parent, tag, value):
    element = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, inner in value.items():
            _xml_value(element, key, inner)
    elif isinstance(value, list):
        for inner in value:
            _xml_value(element, ITEMS.get(tag, "item"), inner)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def render(fmt, root, data, status=200):
    """`data` (a list, or a dict for a single document) as GeoReport JSON or XML under `root`."""
    if fmt == "xml":
        element = ET.Element(root)
        if isinstance(data, list):
            for item in data:
                _xml_value(element, ITEMS.get(root, "item"), item)
        else:
            for key, value in data.items():
                _xml_value(element, key, value)
        body = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="unicode")
    else:
        body = json.dumps(data, ensure_ascii=False)
    return Response(body, status=status, content_type=FORMATS[fmt])


def error(fmt, code, description):
    return render(fmt if fmt in FORMATS else "json", "errors", [{"code": code, "description": description}], code)


def checked(view):
    """The format must be json or xml, and a jurisdiction_id, when given, must be ours (else 404)."""
    def wrapper(fmt, **kwargs):
        if fmt not in FORMATS:
            return error("json", 404, "format not supported: use .json or .xml")
        given = request.values.get("jurisdiction_id")
        if given is not None and given != open311().get("jurisdiction_id"):
            return error(fmt, 404, "jurisdiction_id not found")
        return view(fmt, **kwargs)

    wrapper.__name__ = view.__name__
    return wrapper


def iso(value):
    if value is None:
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(17, 30))  # end of the working day it is due
    return value.isoformat(timespec="seconds") + UTC_OFFSET


# -- discovery and services --------------------------------------------------------------------------------------

@bp.get("/discovery.<fmt>")
@checked
def discovery(fmt):
    base = url_for("open311.services", fmt="json", _external=True).rsplit("/", 1)[0]
    return render(fmt, "discovery", {
        "changeset": "2026-11-29T00:00:00+08:00", "contact": open311().get("contact", ""),
        "key_service": "向本局申请 api_key（仅提交和查看详情需要）",
        "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": base,
                       "changeset": "2026-11-29T00:00:00+08:00", "type": "production",
                       "formats": list(FORMATS)}]})


def _service(category):
    return {"service_code": category["code"], "service_name": category["name"],
            "description": category.get("description", ""), "metadata": False, "type": "realtime",
            "keywords": category["name"], "group": "文化和旅游"}


@bp.get("/services.<fmt>")
@checked
def services(fmt):
    return render(fmt, "services", [_service(c) for c in settings()["categories"]])


@bp.get("/services/<code>.<fmt>")
@checked
def service_definition(fmt, code):
    category = next((c for c in settings()["categories"] if c["code"] == code), None)
    if category is None:
        return error(fmt, 404, "service_code not found")
    return render(fmt, "service_definition", {"service_code": category["code"], "attributes": []})


# -- creating --------------------------------------------------------------------------------------------------------

@bp.post("/requests.<fmt>")
@limit_wrong_guesses("POST")
@checked
def create_request(fmt):
    key = caller_key()
    if key is None:
        return error(fmt, 403, "api_key missing or invalid")
    form = request.values
    code = form.get("service_code", "").strip()
    if not code:
        return error(fmt, 400, "service_code was not provided")
    if category_by(current_app.config["SANXIANG"], code) is None:
        return error(fmt, 404, "service_code not found")
    lat, lng = _float(form.get("lat")), _float(form.get("long"))
    address = form.get("address_string", "").strip()
    address_id = form.get("address_id", "").strip()[:200] or None
    if (lat is None or lng is None) and not address and not address_id:
        return error(fmt, 400, "a location is required: lat and long, address_string or address_id")
    if lat is not None and not -90 <= lat <= 90 or lng is not None and not -180 <= lng <= 180:
        return error(fmt, 400, "lat or long out of range")
    limit = int(open311().get("description_max_chars", 4000))
    description = form.get("description", "").strip()
    if len(description) > limit:
        return error(fmt, 400, f"description may not exceed {limit} characters")
    media_url = form.get("media_url", "").strip() or None
    if media_url and (len(media_url) > 2000 or not media_url.startswith(("http://", "https://"))):
        return error(fmt, 400, "media_url must be an http or https URL")
    contact = " ".join(form.get(f, "").strip() for f in ("last_name", "first_name", "phone", "email")).strip()
    idempotency = request.headers.get("Idempotency-Key", "").strip()[:80]
    caller = hashlib.sha256(key.encode()).hexdigest()[:12]
    try:
        complaint = Complaint.file(
            current_app.config["SANXIANG"], dt.datetime.fromtimestamp(current_app.config["CLOCK"]()),
            category=code, content=description, location=address, lat=lat, lng=lng,
            contact=contact, submitter=f"open311:{caller}", source="open311", check_limit=False,
            client_key=f"open311:{caller}:{idempotency}" if idempotency else None, content_max=limit,
            media_url=media_url, address_id=address_id, open311_token=secrets.token_hex(16))
    except DailyLimitReached as exc:
        return error(fmt, 429, str(exc))
    except ComplaintError as exc:
        return error(fmt, 400, str(exc))
    response = render(fmt, "service_requests", [{
        "service_request_id": complaint.ticket, "token": complaint.open311_token, "account_id": None,
        "service_notice": f"将于{complaint.accept_due:%Y年%m月%d日}前决定是否受理"}], 201)
    return send_after_response(response, current_app.config["SANXIANG"])  # staff hear of it at once


def _float(text):
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


@bp.get("/tokens/<token>.<fmt>")
@checked
def token_lookup(fmt, token):
    complaint = Complaint.get_or_none(Complaint.open311_token == token[:64]) if token else None
    if complaint is None:
        return error(fmt, 404, "token not found")
    return render(fmt, "service_requests", [{"service_request_id": complaint.ticket, "token": token}])


# -- reading -----------------------------------------------------------------------------------------------------------

def agency():
    """agency_responsible: the bureau's name, looked up once per response, not once per request listed."""
    bureau = Bureau.current()
    return bureau.name if bureau else ""


def as_request(complaint, trusted, agency_name):
    """One complaint as a GeoReport service request; identity never, details only to key holders."""
    data = {
        "service_request_id": complaint.ticket,
        "status": "closed" if complaint.status in (CLOSED, REJECTED) else "open",
        "status_notes": complaint.public_status_notes(),
        "service_name": complaint.category,
        "service_code": complaint.category_code,
        "agency_responsible": agency_name,
        "service_notice": "",
        "requested_datetime": iso(complaint.created_at),
        "updated_datetime": iso(complaint.updated_at),
        "expected_datetime": iso(complaint.current_due()),
        "address_id": complaint.address_id if trusted else None,
        "zipcode": None,
        "media_url": complaint.media_url if trusted else None,
    }
    if trusted:
        notes = complaint.status + (f"：{complaint.status_reason}" if complaint.status_reason else "")
        data.update(description=complaint.content, address=complaint.location, lat=complaint.lat, long=complaint.lng,
                    status_notes=notes + (f"\n答复：{complaint.answer}" if complaint.answer else ""))
    return data


@bp.get("/requests/<ticket>.<fmt>")
@checked
def get_request(fmt, ticket):
    complaint = Complaint.by_ticket(ticket)
    if complaint is None:
        return error(fmt, 404, "service_request_id not found")
    return render(fmt, "service_requests", [as_request(complaint, caller_key() is not None, agency())])


class BadFilter(ValueError):
    pass


def _filtered(args):
    """The query GET requests asks for; BadFilter (→ 400) for a value the spec does not allow."""
    query = Complaint.select().order_by(Complaint.created_at.desc())
    if args.get("service_request_id"):
        tickets = [t.strip().upper() for t in args["service_request_id"].split(",") if t.strip()][:MAX_IDS]
        return query.where(Complaint.ticket.in_(tickets))  # "overrides all other arguments"
    days = int(open311().get("max_range_days", 90))
    start, end = _date(args.get("start_date"), "start_date"), _date(args.get("end_date"), "end_date")
    now = dt.datetime.fromtimestamp(current_app.config["CLOCK"]())  # stored times are this wall clock
    if start and end is None:
        end = min(start + dt.timedelta(days=days), now + dt.timedelta(days=1))
    end = end or now + dt.timedelta(days=1)
    start = start or end - dt.timedelta(days=days)
    if end < start:
        raise BadFilter("end_date is before start_date")
    if end - start > dt.timedelta(days=days):
        raise BadFilter(f"start_date to end_date may not span more than {days} days")
    query = query.where((Complaint.created_at >= start) & (Complaint.created_at <= end))
    if args.get("service_code"):
        codes = [c.strip() for c in args["service_code"].split(",") if c.strip()]
        known = {c["code"] for c in settings()["categories"]}
        if not codes or any(c not in known for c in codes):
            raise BadFilter("unknown service_code")
        query = query.where(Complaint.category_code.in_(codes))
    if args.get("status") is not None:
        statuses = {s.strip() for s in args["status"].split(",")}
        if not statuses or not statuses <= {"open", "closed"}:
            raise BadFilter("status must be open, closed or both")
        if statuses == {"closed"}:
            query = query.where(Complaint.status.in_((CLOSED, REJECTED)))
        elif statuses == {"open"}:
            query = query.where(Complaint.status.in_(OPEN_STATUSES))  # by the status index
    return query


MAX_IDS = 1000


@bp.get("/requests.<fmt>")
@checked
def list_requests(fmt):
    try:
        query = _filtered(request.args)
    except BadFilter as exc:
        return error(fmt, 400, str(exc))
    trusted, agency_name = caller_key() is not None, agency()
    rows = query.limit(int(open311().get("max_results", 1000)))
    return render(fmt, "service_requests", [as_request(c, trusted, agency_name) for c in rows])


def _date(text, name):
    """A w3c (ISO 8601) date-time as local (+08:00) wall-clock time; BadFilter when it is not one."""
    if text is None or text == "":
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadFilter(f"{name} must be a w3c date-time, e.g. 2026-11-01T00:00:00+08:00") from None
    if value.tzinfo is not None:
        value = value.astimezone(CHINA).replace(tzinfo=None)
    return value
