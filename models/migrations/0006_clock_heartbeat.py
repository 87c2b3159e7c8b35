"""0006 — the clock's heartbeat: one row per beating process, updated every minute, read by /healthz
(models/health.py), so a stopped clock (no reminders, no pushes, no signed heads) is noticed."""
from peewee import CharField, DateTimeField, Model


def up(migrator, db):
    class ClockHeartbeat(Model):
        name = CharField(primary_key=True)
        beat_at = DateTimeField()
        host = CharField(default="")

        class Meta:
            database = db
            table_name = "clock_heartbeat"
    db.create_tables([ClockHeartbeat])


def down(migrator, db):
    db.execute_sql("DROP TABLE clock_heartbeat")
