"""事后公开的网页 — the decisions the bureau published, de-identified; withdrawals and updates in the open.

- /disclosures/                 the list: search (q), 执法类别, 决定日期 from–to, 执法对象, 执法事项; pages
- /disclosures/<n>              one record with its public history (已更新 / 已撤回 and why)
- /disclosures/feed.atom        Atom feed of the latest records
- /disclosures/index.json       the list as JSON (same filters, ?page=)
- /disclosures/stats            on-time publication per month
- /staff/disclosures/<n>        staff only (STAFF_TOKEN): the original beside the masked text, what was masked
Every parameter is hostile: a bad date or page is ignored, text is cleaned and cut (handlers/web/disclosure.py).
"""
import datetime as dt
import json
from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for

from handlers.web.badges import no_store, staff_allowed, staff_token
from handlers.web.disclosure import clean_query
from handlers.web.guard import limit_wrong_guesses
from models import publication

bp = Blueprint("publications", __name__)
FEED_SIZE = 50
MAX_JSON_PAGE_SIZE = 50


def _config():
    return current_app.config["SANXIANG"]


def _day(name):
    try:
        return dt.date.fromisoformat(request.args.get(name, "").strip()[:10])
    except ValueError:
        return None


def _page():
    try:
        return min(max(int(request.args.get("page", 1)), 1), 100_000)
    except ValueError:
        return 1


def _filters():
    categories = publication.categories()
    category = request.args.get("category", "")
    return {"q": clean_query(request.args.get("q", "")), "category": category if category in categories else "",
            "date_from": _day("from"), "date_to": _day("to"), "party": clean_query(request.args.get("party", "")),
            "item": clean_query(request.args.get("item", ""))}, categories


@bp.get("/disclosures/")
def index():
    filters, categories = _filters()
    size = int(_config()["publication"]["page_size"])
    rows, total = publication.public_page(publication.public_query(**filters), _page(), size)
    pages = max(1, -(-total // size))
    return render_template("disclosures.html", rows=rows, total=total, page=min(_page(), pages), pages=pages,
                           categories=categories, f=filters, searching=any(filters.values()))


@bp.get("/disclosures/<number>")
def detail(number):
    row = publication.Disclosure.by_id(number)
    if row is not None and row.status == publication.EXPIRED:
        return render_template("disclosure_gone.html", row=row), 410
    if row is None or not row.is_public():
        abort(404)
    return render_template("disclosure.html", row=row, events=row.events(public_only=True))


@bp.get("/disclosures/index.json")
def as_json():
    filters, _ = _filters()
    try:
        size = min(max(int(request.args.get("size", 20)), 1), MAX_JSON_PAGE_SIZE)
    except ValueError:
        size = 20
    rows, total = publication.public_page(publication.public_query(**filters), _page(), size)
    body = {"total": total, "page": _page(), "size": size,
            "items": [dict(r.public_fields(), url=url_for("publications.detail", number=r.id, _external=True))
                      for r in rows]}
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")


@bp.get("/disclosures/feed.atom")
def feed():
    rows, _ = publication.public_page(publication.public_query(), 1, FEED_SIZE)
    home = url_for("publications.index", _external=True)
    updated = max((r.updated_at for r in rows), default=dt.datetime(2026, 1, 1))
    entries = []
    for r in rows:
        link = url_for("publications.detail", number=r.id, _external=True)
        fields = r.public_fields()
        title = f"{r.label} {r.decision_no}" + (f"（{r.public_note}）" if r.public_note else "")
        summary = fields.get("conclusion") or r.public_note
        who = f"{fields['party']}：" if fields.get("party") else ""
        entries.append(
            f"<entry><id>{escape(link)}</id><title>{escape(title)}</title><link href=\"{escape(link)}\"/>"
            f"<updated>{r.updated_at:%Y-%m-%dT%H:%M:%S}+08:00</updated>"
            f"<summary>{escape(who + (summary or ''))}</summary></entry>")
    name = escape(publication.Bureau.current().name if publication.Bureau.current() else "")
    xml = ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">"
           f"<id>{escape(home)}</id><title>{name}行政执法决定公开</title><link href=\"{escape(home)}\"/>"
           f"<link rel=\"self\" href=\"{escape(url_for('publications.feed', _external=True))}\"/>"
           f"<updated>{updated:%Y-%m-%dT%H:%M:%S}+08:00</updated><author><name>{name}</name></author>"
           + "".join(entries) + "</feed>\n")
    return Response(xml, mimetype="application/atom+xml")


@bp.get("/disclosures/stats")
def stats():
    today = dt.date.fromtimestamp(current_app.config["CLOCK"]())
    return render_template("disclosure_stats.html", months=publication.monthly_stats(12, today),
                           periods=_config()["publication"], draws=_config()["draws"])


@bp.get("/staff/disclosures/<number>")
@limit_wrong_guesses("GET")
def staff_preview(number):
    """工作人员预览: the original beside what will be published (HTTP Basic, password STAFF_TOKEN)."""
    if not staff_token():
        abort(404)
    if not staff_allowed():
        return Response("请输入工作人员口令。", 401, {"WWW-Authenticate": 'Basic realm="staff", charset="UTF-8"'},
                        mimetype="text/plain")
    row = publication.Disclosure.by_id(number)
    if row is None:
        abort(404)
    return no_store(render_template("staff_disclosure.html", row=row, events=row.events()))
