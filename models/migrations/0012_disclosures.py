"""0012 — 事后公开 (models/publication.py): the public record of each decision, what happened to it, and
where the sync stopped reading the log."""
import datetime as dt

from peewee import BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db

    class Disclosure(Base):
        key = CharField(unique=True, max_length=64)
        source = CharField()
        case_no = CharField(null=True)
        entry_seq = IntegerField(null=True, unique=True)
        draw_id = IntegerField(null=True)
        decision_kind = CharField()
        category = CharField()
        item_code = CharField(default="")
        item_name = CharField(default="")
        authority = CharField()
        party = CharField()
        party_kind = CharField(default="")
        decision_no = CharField(default="")
        decided_on = DateField()
        basis = TextField(default="")
        conclusion = TextField(default="")
        original = TextField(default="")
        masked = TextField(default="")
        spans = TextField(default="[]")
        keep = TextField(default="[]")
        extra = TextField(default="[]")
        people = TextField(default="[]")
        handlers = CharField(default="")
        severity = CharField(default="一般")
        status = CharField(default="待公开")
        due_on = DateField()
        due_provisional = BooleanField(default=False)
        served_on = DateField(null=True)
        confirmed_by = CharField(null=True)
        withheld_reason = CharField(default="")
        published_at = DateTimeField(null=True)
        on_time = BooleanField(null=True)
        expires_on = DateField(null=True)
        version = IntegerField(default=1)
        change = CharField(default="")
        change_reason = TextField(default="")
        change_due = DateField(null=True)
        public_note = TextField(default="")
        reminded_for = CharField(default="")
        escalated_on = DateField(null=True)
        updated_at = DateTimeField(default=dt.datetime.now)

        class Meta:
            table_name = "disclosure"
            indexes = ((("status", "due_on"), False), (("status", "decided_on"), False),
                       (("status", "expires_on"), False), (("due_provisional", "status"), False))

    class DisclosureEvent(Base):
        disclosure = ForeignKeyField(Disclosure, backref="history", on_delete="RESTRICT")
        at = DateTimeField()
        action = CharField()
        by = CharField(default="")
        reason = TextField(default="")
        public = BooleanField(default=False)
        snapshot = TextField(default="")

        class Meta:
            table_name = "disclosure_event"

    class PublicationState(Base):
        name = CharField(primary_key=True, max_length=64)
        value = IntegerField(default=-1)

        class Meta:
            table_name = "publication_state"

    db.create_tables([Disclosure, DisclosureEvent, PublicationState])


def down(migrator, db):
    for table in ("disclosure_event", "disclosure", "publication_state"):
        db.execute_sql(f"DROP TABLE {table}")
