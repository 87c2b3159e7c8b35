"""`/healthz` for the monitor and the on-call administrator: JSON, 200 when healthy, 503 when not.

    curl -s http://127.0.0.1:8080/healthz
    {"status": "ok", "checks": {"database": {"ok": true, …}, "clock": {"ok": true, "age_seconds": 12.0, …},
     "tree_head": {"ok": true, "age_seconds": 3600, …}, "redis": {…}}, "time": "…"}

It names no secret and no personal data; it is safe to expose, though nginx (deploy/) may restrict it.
"""
from flask import Blueprint, current_app, jsonify

from models.health import health_report

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    healthy, report = health_report(current_app.config["SANXIANG"])
    response = jsonify(report)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
