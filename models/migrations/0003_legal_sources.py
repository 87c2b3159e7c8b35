"""0003 — legal sources: each step of a published flow names its legal basis, and the 合法性审核 of each
published list by the justice bureau is recorded (who reviewed it, the document, the date, and what the
list held then, so a later change shows as not yet reviewed); a 旅游投诉 keeps the day the trip ended,
from which its 90-day filing limit runs."""
import datetime

from peewee import CharField, DateField, DateTimeField, Model, TextField


def up(migrator, db):
    migrator.migrate(migrator.add_column("flowstep", "basis", TextField(default="")),
                     migrator.add_column("complaint", "trip_ended_on", DateField(null=True)))

    class ListReview(Model):
        list_name = CharField()
        reviewed_on = DateField()
        document_no = CharField()
        reviewer = CharField()
        entered_by = CharField()
        entered_at = DateTimeField(default=datetime.datetime.now)
        content_hash = CharField(max_length=64)

        class Meta:
            database = db
            table_name = "list_review"
            indexes = ((("list_name", "entered_at"), False),)
    db.create_tables([ListReview])


def down(migrator, db):
    db.execute_sql("DROP TABLE list_review")
    migrator.migrate(migrator.drop_column("flowstep", "basis"), migrator.drop_column("complaint", "trip_ended_on"))
