"""统计年报 and 公告 on the public pages: /reports/annual/<year> (figures, charts, Excel, PDF as produced by
`bot.py annual-report` or the January job), /announcements (staff announcements, withdrawn ones with
their reason)."""
from flask import Blueprint, abort, current_app, render_template, send_from_directory

from models.announcements import PUBLISHED, WITHDRAWN, Announcement
from notices.annual_report import FILES, load, report_dir

bp = Blueprint("reports", __name__)


@bp.route("/reports/annual/<int:year>")
def annual(year):
    data = load(current_app.config["SANXIANG"], year) if 2000 <= year <= 9999 else None
    if data is None:
        abort(404)
    return render_template("annual_report.html", data=data, year=year)


@bp.route("/reports/annual/<int:year>/<name>")
def annual_file(year, name):
    if name not in FILES or not 2000 <= year <= 9999:  # only the files the report writes, nothing else there
        abort(404)
    folder = report_dir(current_app.config["SANXIANG"], year)
    if not (folder / name).exists():
        abort(404)
    return send_from_directory(folder, name, as_attachment=not name.endswith(".png"))


@bp.route("/announcements")
def announcements():
    return render_template("announcements.html", items=Announcement.public(), withdrawn=WITHDRAWN)


@bp.route("/announcements/<int:number>")
def announcement(number):
    item = Announcement.by_id(number)
    if item is None or item.status not in (PUBLISHED, WITHDRAWN):
        abort(404)
    return render_template("announcements.html", items=[item], withdrawn=WITHDRAWN, single=True)
