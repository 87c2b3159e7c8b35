"""公示网页 — the public disclosure pages (事前公开), server-rendered for WeChat's in-app browser.

The chat replies of handlers/wechat/disclosure.py link here for the full text, so these pages show the same data
from the same model queries. No login: everything here is what the bureau must publish anyway.
"""
import datetime as dt
import unicodedata

from flask import Blueprint, current_app, render_template, request, url_for

from handlers.web.layout import bureau
from models import EnforcementItem, FlowStep, InspectionItem, ListReview, Officer, laws

bp = Blueprint("pages", __name__)

# A search box needs a few words; anything longer is cut, so a pasted essay still gets a page.
MAX_QUERY_CHARS = 40
SUGGESTED_KEYWORDS = ("网吧", "演出", "旅行社", "导游", "娱乐场所")
# A page of a long list: short enough to read on a phone without a 6,000-pixel scroll.
PAGE_SIZE = 10


def one_page(rows, size=PAGE_SIZE):
    """(rows of the requested page, page number, number of pages); a bad ?page= is page 1."""
    pages = max(1, -(-len(rows) // size))
    try:
        page = min(max(int(request.args.get("page", 1)), 1), pages)
    except ValueError:
        page = 1
    return rows[(page - 1) * size: page * size], page, pages


def clean_query(raw):
    """The user's search text, safe for every database: no control characters, short, trimmed.

    PostgreSQL refuses NUL bytes in text; invisible characters pasted from chats (zero-width space,
    direction marks) would only make a search fail that looks right. Any space, also 全角, splits terms.
    """
    kept = "".join(ch for ch in raw or "" if ch.isspace() or unicodedata.category(ch)[0] != "C")
    return " ".join(kept.split())[:MAX_QUERY_CHARS].strip()


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
    shown, page, pages = one_page(found)
    return render_template("items.html", items=shown, total=len(found), page=page, pages=pages, q=query,
                           category=category, categories=categories, suggestions=SUGGESTED_KEYWORDS,
                           review=ListReview.status("行政执法事项清单"))


@bp.route("/inspections")
def inspections():
    return render_template("inspections.html", inspections=InspectionItem.published(),
                           review=ListReview.status("随机抽查事项清单"))


@bp.route("/officers")
def officers():
    query = clean_query(request.args.get("q", ""))
    found = Officer.search(query)
    shown, page, pages = one_page(found)
    return render_template("officers.html", officers=shown, total=len(found), page=page, pages=pages, q=query,
                           today=dt.date.today())


@bp.route("/flows")
def flows():
    flows = [(category, FlowStep.flow(category)) for category in FlowStep.categories()]
    return render_template("flows.html", flows=flows, bureau=bureau(), review=ListReview.status("执法流程"))


@bp.route("/basis")
def legal_basis():
    """执法依据 — every law the bureau relies on, its version in force, and what cites it."""
    config = current_app.config["SANXIANG"]
    cited = {name: [] for name in laws.catalogue()}

    def cite(text, label, link):
        for name, provisions in laws.citations(text):
            cited.setdefault(name, []).append((label, provisions, link))
    for item in EnforcementItem.search(""):
        cite(item.basis, f"{item.code} {item.name}", url_for("pages.items", q=item.code))
    for inspection in InspectionItem.published():
        cite(inspection.basis, f"抽查：{inspection.name}", url_for("pages.inspections"))
    for step in FlowStep.select().order_by(FlowStep.category, FlowStep.seq):
        cite(step.basis, f"流程：{step.category}·{step.title}", url_for("pages.flows"))
    for remedy_ in config["remedy"]:
        cite(remedy_["source"], f"救济：{remedy_['name']}", url_for("pages.remedy"))
    catalogue = laws.catalogue()
    rows = [{"law": catalogue.get(name), "name": name, "uses": uses,
             "kind": catalogue[name].kind if name in catalogue else "未列入目录"} for name, uses in cited.items()]
    rows.sort(key=lambda row: (KIND_ORDER.get(row["kind"], 9), row["name"]))
    groups = {}
    for row in rows:  # 法律, then 行政法规, 部门规章, 规范性文件: the order of legal force
        groups.setdefault(row["kind"], []).append(row)
    return render_template("basis.html", groups=list(groups.items()))


KIND_ORDER = {"法律": 0, "行政法规": 1, "部门规章": 2, "规范性文件": 3}


@bp.route("/remedy")
def remedy():
    config = current_app.config["SANXIANG"]
    return render_template("remedy.html", remedies=config["remedy"], channels=config["complaint_channels"],
                           bureau=bureau())


