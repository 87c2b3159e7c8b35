"""0018 — the limits running on each open case, kept beside the log (table case_limit, and on case_open
the entry and the rules they were computed at), so #待办 and the reminders read the soonest limits by
index instead of every open case's file (issue 19), and complaints indexed by status and deadline
(a handler's by assignee too) for #待办 and the reminders. Left empty here: a case without computed limits is
read from its file, exactly as before, until `bot.py serve` / the clock compute them (models/cases.py
`refresh_limits`), which needs the configuration a migration does not have. Self-contained on purpose."""
from peewee import BooleanField, CharField, DateField, IntegerField, Model, TextField


def up(migrator, db):
    class CaseLimit(Model):
        case_no = CharField(index=True)
        name = CharField()
        due = DateField(index=True)
        source = CharField()
        seq = IntegerField()
        provisional = BooleanField(default=False)
        handlers = TextField(default="")

        class Meta:
            database = db
            table_name = "case_limit"

    db.create_tables([CaseLimit])
    migrator.migrate(
        migrator.add_column("case_open", "limits_as_of", IntegerField(null=True)),
        migrator.add_column("case_open", "limits_rules", CharField(null=True, max_length=64)),
        # #待办 and the reminders: each status in its deadline's order, a handler's by assignee too.
        migrator.add_index("complaint", ("status", "accept_due", "created_at"), False),
        migrator.add_index("complaint", ("status", "answer_due", "created_at"), False),
        migrator.add_index("complaint", ("status", "assignee_id", "answer_due", "created_at"), False),
    )


def down(migrator, db):
    db.execute_sql("DROP TABLE IF EXISTS case_limit")
    migrator.migrate(*(migrator.drop_index("complaint", name) for name in (
        "complaint_status_accept_due_created_at", "complaint_status_answer_due_created_at",
        "complaint_status_assignee_id_answer_due_created_at")))
    migrator.migrate(migrator.drop_column("case_open", "limits_as_of"), migrator.drop_column("case_open", "limits_rules"))
