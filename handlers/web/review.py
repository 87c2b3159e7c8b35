"""重大执法决定法制审核 on the public pages: the catalogue (目录清单) and the 《重大执法决定法制审核流程图》,
drawn from models/review.py's workflow, the one the case file enforces (seed: 编制并公布流程图); and for
staff, the review statistics of a period (/staff/reviews, also as Excel)."""
import datetime as dt
import io

from flask import Blueprint, Response, abort, current_app, render_template, request

from handlers.web.badges import no_store, staff_allowed, staff_token
from handlers.web.guard import limit_wrong_guesses
from models import discretion, review
from models.disclosure import EnforcementItem

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

bp = Blueprint("review", __name__)


@bp.route("/review")
def index():
    config = current_app.config["SANXIANG"]
    return render_template("review.html", catalogue=config["review"]["catalogue"], points=config["review"]["points"],
                           materials=config["review"]["materials"], workflow=review.WORKFLOW,
                           working_days=config["review"]["working_days"], svg=review.flowchart_svg(config))


@bp.route("/discretion")
def discretion_page():
    """行政处罚裁量基准, published as 《行政处罚法》第三十四条 requires (data/discretion.yaml)."""
    config = current_app.config["SANXIANG"]
    names = {item.code: item.name for item in EnforcementItem.select(EnforcementItem.code, EnforcementItem.name)}
    return render_template("discretion.html", items=discretion.published(config, names),
                           exemptions=discretion.table(config).get("exemptions") or {})


@bp.route("/staff/reviews")
@limit_wrong_guesses("GET")
def staff_report():
    """法制审核统计 for staff (HTTP Basic, password STAFF_TOKEN, as /staff/badges): ?from=&to=, ?format=xlsx."""
    if not staff_token():
        abort(404)
    if not staff_allowed():
        return Response("请输入工作人员口令。", 401, {"WWW-Authenticate": 'Basic realm="staff", charset="UTF-8"'},
                        mimetype="text/plain")
    today = dt.date.fromtimestamp(current_app.config["CLOCK"]())
    start, end = _day(request.args.get("from"), today.replace(month=1, day=1)), _day(request.args.get("to"), today)
    report = review.review_report(current_app.config["SANXIANG"], start, end, today=today)
    if request.args.get("format") == "xlsx":
        out = io.BytesIO()
        review.report_xlsx(report, out)
        return no_store(Response(out.getvalue(), mimetype=XLSX, headers={
            "Content-Disposition": f"attachment; filename=review-{start}-{end}.xlsx"}))
    return no_store(render_template("staff_reviews.html", report=report))


def _day(text, default):
    try:
        return dt.date.fromisoformat(text) if text else default
    except ValueError:
        return default
