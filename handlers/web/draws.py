"""双随机、一公开的公示 — the plans, the commitments and, after each draw, its files and checker.

- /draws/                         plans and draws, newest first
- /draws/<n>                      one draw: plan, commitment; after the draw: seed, result, outcomes, due date
- /draws/<n>/<file>.json          the published files (plan and commitment at once; the rest after the draw)
- /draws/<n>/commitment-proof.json  the commitment's inclusion proof in a signed tree head (once one covers it)
- /draws/verify_draw.py           the standalone checker (standard library only): models/draw_rule.py itself
"""
import json
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template

from models import draw_rule, draws, ledger, treehead
from models.disclosure import Officer

bp = Blueprint("draws", __name__, url_prefix="/draws")


def _text(body, status=200):
    return Response(body, status=status, content_type="text/plain; charset=utf-8")


def _draw_or_404(draw_id):
    draw = draws.draw_by_id(draw_id)
    if draw is None:
        abort(404)
    return draw


@bp.get("/")
def index():
    rows = list(draws.Draw.select().order_by(draws.Draw.id.desc()).limit(50))
    drawn_plans = {d.plan_id for d in rows}
    plans = [p for p in draws.DrawPlan.select().order_by(draws.DrawPlan.id.desc()).limit(50) if p.id not in drawn_plans]
    return render_template("draws.html", draws=rows, plans=plans,
                           days=current_app.config["SANXIANG"]["draws"]["publish_within_working_days"])


@bp.get("/<int:draw_id>")
def show(draw_id):
    draw = _draw_or_404(draw_id)
    config = current_app.config["SANXIANG"]
    result = draw.result_document() if draw.status == draws.DRAWN else None
    names = {o.cert_no: o.name for o in Officer.select(Officer.cert_no, Officer.name)}
    committed = next((e for e in ledger.entries(draw.case_no) if e.step == "承诺"), None)
    return render_template("draw.html", draw=draw, plan=draw.frozen()["plan"], result=result, names=names,
                           outcomes=draws.outcomes(draw) if result else {}, files=sorted(draw.published_files()),
                           due=draw.publication_due(config) if result else None, committed=committed,
                           days=config["draws"]["publish_within_working_days"])


@bp.get("/<int:draw_id>/<name>.json")
def published_file(draw_id, name):
    draw = _draw_or_404(draw_id)
    files = draw.published_files()
    if name not in files:
        if name in draw_rule.FILES:
            return _text("抽取完成后才公开对象名录、人员名录、种子和结果，请届时再下载。\n", 404)
        abort(404)
    return Response(draw_rule.canonical(files[name]), mimetype="application/json",
                    headers={"Content-Disposition": f"attachment; filename={name}.json"})


@bp.get("/<int:draw_id>/commitment-proof.json")
def commitment_proof(draw_id):
    draw = _draw_or_404(draw_id)
    entry = next((e for e in ledger.entries(draw.case_no) if e.step == "承诺"), None)
    document = treehead.inclusion_proof_document(current_app.config["SANXIANG"], entry.seq) if entry else None
    if document is None:
        return _text("承诺记录尚未纳入已发布的签名树头（每日发布），请明天再下载。\n", 404)
    return Response(json.dumps(document, ensure_ascii=False, indent=1), mimetype="application/json",
                    headers={"Content-Disposition": f"attachment; filename=commitment-proof-{draw.id}.json"})


@bp.get("/verify_draw.py")
def checker():
    source = Path(draw_rule.__file__).read_bytes()
    return Response(source, mimetype="text/x-python",
                    headers={"Content-Disposition": "attachment; filename=verify_draw.py"})
