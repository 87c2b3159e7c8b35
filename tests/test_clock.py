"""Scheduled jobs are plain functions: called directly here, without the scheduler."""
import datetime as dt

from models import InboundMessage
from notices.clock import JOBS, prune_answered_messages, run_job


def test_prune_keeps_recent_records(app):
    old = InboundMessage.create(key="m:o:1", reply="")
    InboundMessage.update(received_at=dt.datetime(2020, 1, 1)).where(InboundMessage.id == old.id).execute()
    InboundMessage.create(key="m:o:2", reply="")
    assert prune_answered_messages(app.config["SANXIANG"]) == 1
    assert [m.key for m in InboundMessage.select()] == ["m:o:2"]


def test_failing_job_is_logged_not_raised(app, caplog):
    def broken(config):
        raise RuntimeError("disk full")

    assert run_job(broken, app.config["SANXIANG"]) is None
    assert "broken" in caplog.text


def test_jobs_registered():
    assert prune_answered_messages in [func for func, _, _ in JOBS]
