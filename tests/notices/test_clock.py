"""Scheduled jobs are plain functions: called directly here, without the scheduler."""
import datetime as dt

from models import InboundMessage
from notices.clock import SCHEDULE, run_job
from notices.delivery import prune_answered_messages


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
    assert prune_answered_messages in [func for func, _, _ in SCHEDULE]


def test_daily_tree_head_is_registered_at_the_configured_time(app, tmp_path):
    from apscheduler.triggers.cron import CronTrigger

    import settings
    from models import db, ledger, treehead
    from notices.clock import trigger_args_for
    from notices.ledger import publish_tree_head

    config = settings.deep_merge(app.config["SANXIANG"], {"ledger": {
        "private_key_path": str(tmp_path / "k.pem"), "feed_path": str(tmp_path / "heads.txt"),
        "sign_daily_at": "22:05"}})
    [(func, trigger, args)] = [job for job in SCHEDULE if job[0] is publish_tree_head]
    assert trigger_args_for(args, config) == {"hour": 22, "minute": 5}
    cron = CronTrigger(**trigger_args_for(args, config))  # what start_clock builds
    fields = {field.name: str(field) for field in cron.fields}
    assert (fields["hour"], fields["minute"], fields["second"], fields["day"]) == ("22", "5", "0", "*")  # daily
    with db.connection_context():
        ledger.append("note", {"facts": "clock test"}, case_no="T-1", by="15052501001")  # a 立案 needs its index row (issue 16)
    head = run_job(func, config)  # as the clock calls it, with its own connection
    assert head.size == 1
    assert (tmp_path / "heads.txt").read_text().splitlines() == [head.feed_line()]
    with db.connection_context():
        assert [h.size for h in treehead.published_heads(config)] == [1]


def test_each_run_is_recorded_and_bot_py_jobs_shows_next_last_and_failures(app, database_url, monkeypatch):
    from click.testing import CliRunner

    import bot
    from models import db
    from models.jobs import JobRun
    from notices.clock import describe_schedule, heartbeat

    config = app.config["SANXIANG"]

    def drain_outbox(config):  # a job that fails, named as a real one
        raise RuntimeError("微信接口无应答")

    for _ in range(3):
        run_job(heartbeat, config)
    run_job(drain_outbox, config)
    with db.connection_context():
        assert JobRun.select().where(JobRun.job == "heartbeat").count() == 1  # successes: only the newest kept
        [failed] = JobRun.select().where(JobRun.job == "drain_outbox")
        assert not failed.ok and "微信接口无应答" in failed.error
        rows = {row["job"]: row for row in describe_schedule(config)}
    assert rows["heartbeat"]["last"].ok and rows["remind_deadlines"]["last"] is None
    assert (rows["remind_deadlines"]["next"].hour, rows["remind_deadlines"]["next"].minute) == (8, 30)
    assert rows["produce_annual_report"]["next"].month == 1 and rows["send_weekly_digest"]["next"].weekday() == 0
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(bot.cli, ["jobs"])
    assert result.exit_code == 0, result.output
    assert "心跳" in result.output and "成功" in result.output and "未运行过" in result.output
    assert "最近的失败" in result.output and "微信接口无应答" in result.output
