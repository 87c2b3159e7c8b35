"""/healthz: JSON for the monitor, 200 only when the database, Redis (when configured), the clock's
heartbeat and the last signed tree head are all fine; 503 naming what is not."""
import datetime as dt
import os

import pytest
from peewee import OperationalError

import settings
from models import db, ledger
from models.health import ClockHeartbeat
from notices.clock import SCHEDULE, heartbeat, run_job, trigger_args_for


def utcnow():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def get(client):
    response = client.get("/healthz")
    assert response.mimetype == "application/json" and response.headers["Cache-Control"] == "no-store"
    return response.status_code, response.get_json()


def test_unhealthy_until_the_clock_beats_then_healthy(client, app):
    status, body = get(client)
    assert status == 503 and body["status"] == "fail"
    assert body["checks"]["database"]["ok"] and not body["checks"]["clock"]["ok"]
    assert "clock" in body["checks"]["clock"]["error"]
    run_job(heartbeat, app.config["SANXIANG"])  # as the clock runs it, with its own connection
    status, body = get(client)
    assert status == 200 and body["status"] == "ok", body
    assert body["checks"]["clock"]["age_seconds"] < 60
    assert body["checks"]["tree_head"] == {"ok": True, "entries": 0, "error": None, "ms": body["checks"]["tree_head"]["ms"]}
    # Redis is checked exactly when one is configured (the PostgreSQL pass of the suite configures it).
    assert ("redis" in body["checks"]) == bool(app.config["SANXIANG"]["redis"].get("url"))


def test_heartbeat_is_scheduled_every_minute_and_first_at_once(app):
    [(func, trigger, args)] = [job for job in SCHEDULE if job[0] is heartbeat]
    resolved = trigger_args_for(args, app.config["SANXIANG"])
    assert trigger == "interval" and resolved["minutes"] == 1
    assert abs((resolved["next_run_time"] - dt.datetime.now(dt.timezone.utc)).total_seconds()) < 5


def test_a_silent_clock_is_reported(client, app):
    run_job(heartbeat, app.config["SANXIANG"])
    with db.connection_context():
        ClockHeartbeat.update(beat_at=utcnow() - dt.timedelta(minutes=10)).execute()
    status, body = get(client)
    assert status == 503 and not body["checks"]["clock"]["ok"] and body["checks"]["clock"]["age_seconds"] >= 600


def test_an_old_tree_head_and_an_unsigned_log_are_reported(client, app, tmp_path):
    config = settings.deep_merge(app.config["SANXIANG"], {"ledger": {
        "private_key_path": str(tmp_path / "k.pem"), "feed_path": str(tmp_path / "heads.txt")}})
    run_job(heartbeat, config)
    with db.connection_context():
        ledger.append("step", {"facts": "health test"}, case_no="T-1", step="立案", by="15052501001")
    status, body = get(client)
    assert status == 503 and body["checks"]["tree_head"]["error"] == "no tree head signed yet"
    from models import treehead

    with db.connection_context():
        treehead.sign_head(config, at=dt.datetime.now(ledger.CHINA_TZ) - dt.timedelta(hours=30))
    status, body = get(client)
    assert status == 503 and body["checks"]["tree_head"]["age_seconds"] >= 30 * 3600
    with db.connection_context():
        treehead.sign_head(config)
    status, body = get(client)
    assert status == 200 and body["checks"]["tree_head"]["size"] == 1


def test_database_down_is_a_503_with_json(client, app, monkeypatch):
    run_job(heartbeat, app.config["SANXIANG"])

    def down(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(db.obj, "execute_sql", down)
    status, body = get(client)
    assert status == 503 and not body["checks"]["database"]["ok"]
    assert "could not connect" in body["checks"]["database"]["error"]
    assert body["checks"]["clock"] == {"ok": False, "error": "database unavailable"}


def test_redis_is_checked_when_configured(app):
    from models.health import health_report

    config = app.config["SANXIANG"]
    run_job(heartbeat, config)
    with db.connection_context():
        healthy, body = health_report(settings.deep_merge(config, {"redis": {"url": "redis://127.0.0.1:9/0"},
                                                                   "health": {"check_timeout_seconds": 0.5}}))
    assert not healthy and not body["checks"]["redis"]["ok"] and "Error" in body["checks"]["redis"]["error"]
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL not set")
    with db.connection_context():
        healthy, body = health_report(settings.deep_merge(config, {"redis": {"url": url}}))
    assert healthy and body["checks"]["redis"]["ok"], body
