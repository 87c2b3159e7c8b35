"""重大执法决定法制审核 on the public pages: the catalogue (目录清单) and the 《重大执法决定法制审核流程图》,
drawn from models/review.py's workflow, the one the case file enforces (seed: 编制并公布流程图)."""
from flask import Blueprint, current_app, render_template

from models import review

bp = Blueprint("review", __name__)


@bp.route("/review")
def index():
    config = current_app.config["SANXIANG"]
    return render_template("review.html", catalogue=config["review"]["catalogue"], points=config["review"]["points"],
                           materials=config["review"]["materials"], workflow=review.WORKFLOW,
                           working_days=config["review"]["working_days"], svg=review.flowchart_svg(config))
