"""0013 — one outbox for every message (issue 14): the outbox gets a retry schedule (next_attempt_at,
retry_until), a final failure (failed_at), WeChat's msg id and mass sends (kind, payload); new tables
for the log of every send (notice_sent, what channel quotas count), the clock's runs (clock_job_run,
`bot.py jobs`), 订阅公示 (notice_subscription) and staff announcements (announcement).
Self-contained on purpose: later changes to models/ never change what this migration builds."""
from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    Model,
    TextField,
)


def up(migrator, db):
    class Outbox(Model):
        class Meta:
            database = db
            table_name = "complaint_outbox"

    class Staff(Model):
        class Meta:
            database = db
            table_name = "staff"

    migrator.migrate(
        migrator.add_column("complaint_outbox", "kind", CharField(default="text")),
        migrator.add_column("complaint_outbox", "payload", TextField(default="")),
        migrator.add_column("complaint_outbox", "next_attempt_at", DateTimeField(null=True)),
        migrator.add_column("complaint_outbox", "retry_until", DateTimeField(null=True)),
        migrator.add_column("complaint_outbox", "failed_at", DateTimeField(null=True)),
        migrator.add_column("complaint_outbox", "msg_id", CharField(default="", max_length=64)),
        migrator.add_index("complaint_outbox", ("next_attempt_at",), False),
        migrator.add_index("complaint_outbox", ("failed_at",), False),
    )
    # Rows that had used up the old five tries stay as they were left: given up, for staff to see.
    db.execute_sql("UPDATE complaint_outbox SET failed_at = created_at WHERE sent_at IS NULL AND attempts >= 5")

    class SentMessage(Model):
        outbox = ForeignKeyField(Outbox, null=True, on_delete="SET NULL")
        openid = CharField(max_length=128)
        channel = CharField()
        sent_at = DateTimeField()

        class Meta:
            database = db
            table_name = "notice_sent"
            indexes = ((("openid", "channel", "sent_at"), False),)

    class JobRun(Model):
        job = CharField(max_length=100)
        started_at = DateTimeField()
        finished_at = DateTimeField(null=True)
        ok = BooleanField(default=False)
        result = TextField(default="")
        error = TextField(default="")

        class Meta:
            database = db
            table_name = "clock_job_run"
            indexes = ((("job", "started_at"), False),)

    class Subscription(Model):
        openid = CharField(max_length=128, index=True)
        category = CharField(default="", max_length=40)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "notice_subscription"
            indexes = ((("openid", "category"), True),)

    class Announcement(Model):
        title = CharField(max_length=80)
        body = TextField()
        public_body = TextField()
        status = CharField(default="待确认", index=True)
        staff = ForeignKeyField(Staff, null=True, on_delete="SET NULL")
        author = CharField()
        created_at = DateTimeField()
        published_at = DateTimeField(null=True, index=True)
        withdrawn_at = DateTimeField(null=True)
        withdrawn_by = CharField(default="")
        withdraw_reason = TextField(default="")

        class Meta:
            database = db
            table_name = "announcement"

    db.create_tables([SentMessage, JobRun, Subscription, Announcement])


def down(migrator, db):
    for table in ("announcement", "notice_subscription", "clock_job_run", "notice_sent"):
        db.execute_sql(f"DROP TABLE IF EXISTS {table}")
