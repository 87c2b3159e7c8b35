"""公示网页 — the public disclosure pages (事前公开), server-rendered for WeChat's in-app browser.

The chat replies of handlers.public link here for the full text, so these pages show the same data
from the same model queries. No login: everything here is what the bureau must publish anyway.
"""
import datetime as dt
import logging
import re
import unicodedata

from flask import Blueprint, current_app, g, render_template, request
from markupsafe import Markup, escape
from peewee import PeeweeException

from models import Bureau, EnforcementItem, FlowStep, InspectionItem, Officer

log = logging.getLogger(__name__)
bp = Blueprint("pages", __name__)

# A search box needs a few words; anything longer is cut, so a pasted essay still gets a page.
MAX_QUERY_CHARS = 40
FALLBACK_NAME = "行政执法公示"
SUGGESTED_KEYWORDS = ("网吧", "演出", "旅行社", "导游", "娱乐场所")


def install(app):
    app.register_blueprint(bp)


def clean_query(raw):
    """The user's search text, safe for every database: no control characters, short, trimmed.

    PostgreSQL refuses NUL bytes in text; invisible characters pasted from chats (zero-width space,
    direction marks) would only make a search fail that looks right. Any space, also 全角, splits terms.
    """
    kept = "".join(ch for ch in raw or "" if ch.isspace() or unicodedata.category(ch)[0] != "C")
    return " ".join(kept.split())[:MAX_QUERY_CHARS].strip()


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
    return {"bureau_name": current.name if current else FALLBACK_NAME}


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


@bp.route("/")
def index():
    return render_template("index.html", categories=EnforcementItem.categories())


@bp.route("/subject")
def subject():
    return render_template("subject.html", bureau=bureau())


@bp.route("/items")
def items():
    query = clean_query(request.args.get("q", ""))
    categories = EnforcementItem.categories()
    category = request.args.get("category", "")
    category = category if category in categories else ""
    found = EnforcementItem.search(query, category=category or None)
    return render_template("items.html", items=found, q=query, category=category, categories=categories,
                           suggestions=SUGGESTED_KEYWORDS)


@bp.route("/inspections")
def inspections():
    return render_template("inspections.html", inspections=InspectionItem.published())


@bp.route("/officers")
def officers():
    query = clean_query(request.args.get("q", ""))
    return render_template("officers.html", officers=Officer.search(query), q=query, today=dt.date.today())


@bp.route("/flows")
def flows():
    flows = [(category, FlowStep.flow(category)) for category in FlowStep.categories()]
    return render_template("flows.html", flows=flows, bureau=bureau())


@bp.route("/remedy")
def remedy():
    config = current_app.config["SANXIANG"]
    return render_template("remedy.html", remedies=config["remedy"], channels=config["complaint_channels"],
                           bureau=bureau())


def wants_html():
    """Browsers get a Chinese page; API clients (Accept: application/json) keep the plain error."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best != "application/json"


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
