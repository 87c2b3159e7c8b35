"""定时任务记录 — what the clock did: each run of each scheduled job, when, and how it ended.

`python bot.py jobs` reads it beside the schedule (what the clock will do next), so the person on duty
sees a job that failed or stopped running without reading logs."""
import datetime as dt

from peewee import BooleanField, CharField, DateTimeField, TextField, fn

from models.database import BaseModel


class JobRun(BaseModel):
    job = CharField(max_length=100)
    started_at = DateTimeField()
    finished_at = DateTimeField(null=True)
    ok = BooleanField(default=False)
    result = TextField(default="")
    error = TextField(default="")

    class Meta:
        table_name = "clock_job_run"
        indexes = ((("job", "started_at"), False),)

    @classmethod
    def begin(cls, job, now):
        return cls.create(job=job, started_at=now)

    def finish(self, now, result=None, error=""):
        self.finished_at, self.ok = now, not error
        self.result, self.error = ("" if result is None else str(result))[:500], error[-2000:]
        self.save()

    def forget_older(self):
        """Keep one successful run of a job, this one, and every failure (until pruned)."""
        JobRun.delete().where((JobRun.job == self.job) & (JobRun.ok == True) & (JobRun.id < self.id)).execute()

    @classmethod
    def last_runs(cls):
        """{job: its newest run}."""
        newest = cls.select(cls.job, fn.MAX(cls.id).alias("id")).group_by(cls.job)
        ids = [row.id for row in newest]
        return {run.job: run for run in cls.select().where(cls.id.in_(ids))} if ids else {}

    @classmethod
    def last_failures(cls, job, limit=3):
        return list(cls.select().where((cls.job == job) & (cls.ok == False) & cls.finished_at.is_null(False))
                    .order_by(cls.id.desc()).limit(limit))

    @classmethod
    def prune(cls, now, keep_days):
        """Runs older than `keep_days` go (an every-minute job writes 1,440 a day)."""
        return cls.delete().where(cls.started_at < now - dt.timedelta(days=keep_days)).execute()
