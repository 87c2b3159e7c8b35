"""0001 — the schema as it stood on 2026-11-27, before migrations: the public lists, delivery records,
亮证, complaints and the case file.

A database made by the code of that time (no migration history) is brought to exactly this schema:
its tables are kept (create_table is safe), columns added since a table was first made are added,
and nothing is dropped. An empty database gets every table. Models are frozen here as they were,
so later changes to models/ never change what this migration builds.
"""
import datetime

import peewee as pw
from peewee import *  # noqa: F403 — the frozen models below, as playhouse.migrations writes them
# ruff: noqa: F405

APPEND_ONLY_TABLES = ("ledger_entry", "enforcement_case", "tree_head")


def add_columns_of_older_databases(migrator, database):
    """Columns tables gained before migrations existed: the 亮证 ones of officer, and the openid and
    pages of inboundmessage (whose table used to be dropped and made again instead)."""
    wanted = {
        "officer": {"photo": pw.CharField(default=""), "badge_nonce": pw.CharField(null=True)},
        "inboundmessage": {"openid": pw.CharField(max_length=128, default=""), "pages": pw.TextField(null=True)},
    }
    for table, columns in wanted.items():
        if not database.table_exists(table):
            continue
        present = {column.name for column in database.get_columns(table)}
        missing = [migrator.add_column(table, name, field) for name, field in columns.items() if name not in present]
        if missing:
            migrator.migrate(*missing)
    if database.table_exists("officer"):
        database.execute_sql("CREATE UNIQUE INDEX IF NOT EXISTS officer_badge_nonce ON officer (badge_nonce)")


def add_delivery_indexes(database):
    """One user's deliveries with pages ("下一页"); on PostgreSQL also all of one user's rows."""
    database.execute_sql("CREATE INDEX IF NOT EXISTS inboundmessage_paged_by_user "
                         "ON inboundmessage (openid, id) WHERE pages IS NOT NULL")
    if not isinstance(database, pw.SqliteDatabase):
        database.execute_sql("CREATE INDEX IF NOT EXISTS inboundmessage_openid_id ON inboundmessage (openid, id)")


def install_append_only_triggers(database):
    """The case-file tables refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) at the database."""
    for table in APPEND_ONLY_TABLES:
        if isinstance(database, pw.SqliteDatabase):
            for op in ("UPDATE", "DELETE"):
                database.execute_sql(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END")
            continue
        # The function lives in the current schema (tests run each in a schema of their own).
        database.execute_sql(
            """CREATE OR REPLACE FUNCTION sanxiang_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN RAISE EXCEPTION '%% is append-only: %% refused', TG_TABLE_NAME, TG_OP; END $$""")
        database.execute_sql(f"CREATE OR REPLACE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                             f"FOR EACH ROW EXECUTE FUNCTION sanxiang_append_only()")
        database.execute_sql(f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                             f"FOR EACH STATEMENT EXECUTE FUNCTION sanxiang_append_only()")


def up(migrator, db):
    add_columns_of_older_databases(migrator, db)

    class Officer(Model):
        name = CharField()
        cert_no = CharField(unique=True)
        issuer = CharField()
        fields = CharField()
        valid_from = DateField()
        valid_to = DateField()
        status = CharField(default='有效')
        status_reason = CharField(default='')
        status_changed_on = DateField(null=True)
        photo = CharField(default='')
        badge_nonce = CharField(unique=True, null=True)
        class Meta:
            database = db
            table_name = 'officer'
    db.create_tables([Officer])

    class BadgeScan(Model):
        officer = ForeignKeyField(Officer, on_delete='CASCADE')
        day = DateField()
        channel = CharField()
        scans = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'badgescan'
            indexes = ((('officer', 'day', 'channel'), True),)
    db.create_tables([BadgeScan])

    class Bureau(Model):
        name = CharField()
        legal_basis = TextField()
        duties = TextField()
        powers = TextField()
        address = CharField()
        hours = CharField()
        phone = CharField()
        supervisor = CharField(default='')
        class Meta:
            database = db
            table_name = 'bureau'
    db.create_tables([Bureau])

    class Case(Model):
        number = CharField(unique=True)
        item_code = CharField()
        party_kind = CharField()
        party_name = CharField()
        opened_seq = IntegerField()
        opened_on = CharField()
        class Meta:
            database = db
            table_name = 'enforcement_case'
    db.create_tables([Case])

    class Complaint(Model):
        ticket = CharField(unique=True, max_length=32)
        source = CharField(default='wechat')
        category = CharField()
        category_code = CharField()
        officer = ForeignKeyField(Officer, null=True, on_delete='SET NULL')
        content = TextField()
        location = CharField(max_length=500, default='')
        lat = FloatField(null=True)
        lng = FloatField(null=True)
        contact = CharField(max_length=200, default='')
        openid = CharField(index=True, null=True, max_length=128)
        submitter = CharField(index=True, max_length=200)
        secret_code = CharField(max_length=16)
        client_key = CharField(unique=True, null=True, max_length=100)
        status = CharField(default='待受理')
        status_reason = TextField(default='')
        assignee = ForeignKeyField(Officer, null=True, on_delete='SET NULL')
        answer = TextField(default='')
        satisfaction = CharField(default='')
        created_at = DateTimeField(index=True)
        updated_at = DateTimeField()
        accepted_on = DateField(null=True)
        accept_due = DateField()
        accept_due_provisional = BooleanField(default=False)
        answer_due = DateField(null=True)
        answer_due_provisional = BooleanField(default=False)
        class Meta:
            database = db
            table_name = 'complaint'
    db.create_tables([Complaint])

    class ComplaintDraft(Model):
        openid = CharField(primary_key=True, max_length=128)
        step = CharField()
        data = TextField(default='{}')
        started_at = DateTimeField()
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'complaint_draft'
    db.create_tables([ComplaintDraft])

    class ComplaintStaff(Model):  # models/staff.py Staff; 0002 renames it
        openid = CharField(unique=True, max_length=128)
        name = CharField()
        role = CharField()
        officer = ForeignKeyField(Officer, null=True, on_delete='SET NULL')
        active = BooleanField(default=True)
        class Meta:
            database = db
            table_name = 'complaint_staff'
    db.create_tables([ComplaintStaff])

    class ComplaintEvent(Model):
        complaint = ForeignKeyField(Complaint, on_delete='CASCADE')
        at = DateTimeField()
        action = CharField()
        actor = CharField()
        staff = ForeignKeyField(ComplaintStaff, null=True, on_delete='SET NULL')
        detail = TextField(default='')
        class Meta:
            database = db
            table_name = 'complaint_event'
    db.create_tables([ComplaintEvent])

    class EnforcementItem(Model):
        code = CharField(unique=True)
        name = CharField()
        category = CharField()
        basis_law = CharField()
        basis_article = CharField()
        acting_body = CharField()
        responsible_body = CharField()
        penalty = TextField(default='')
        keywords = CharField(default='')
        class Meta:
            database = db
            table_name = 'enforcementitem'
    db.create_tables([EnforcementItem])

    class Evidence(Model):
        complaint = ForeignKeyField(Complaint, null=True, on_delete='CASCADE')
        owner = CharField(index=True, max_length=200, default='')
        kind = CharField()
        sha256 = CharField(index=True, max_length=64)
        size = IntegerField()
        content_type = CharField(default='application/octet-stream')
        media_id = CharField(max_length=200, default='')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'evidence'
    db.create_tables([Evidence])

    class FlowStep(Model):
        category = CharField()
        seq = IntegerField()
        title = CharField()
        detail = TextField(default='')
        class Meta:
            database = db
            table_name = 'flowstep'
            indexes = ((('category', 'seq'), True),)
    db.create_tables([FlowStep])

    class InboundMessage(Model):
        key = CharField(unique=True, max_length=190)
        openid = CharField(max_length=128, default='')
        reply = TextField(null=True)
        pages = TextField(null=True)
        received_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'inboundmessage'
    db.create_tables([InboundMessage])

    class InspectionItem(Model):
        name = CharField()
        subject = CharField()
        basis = TextField()
        target = CharField()
        content = TextField()
        ratio = CharField()
        method = CharField()
        frequency = CharField()
        seq = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'inspectionitem'
    db.create_tables([InspectionItem])

    class LedgerEntry(Model):
        seq = IntegerField(primary_key=True)
        case_no = CharField(index=True, null=True)
        kind = CharField()
        step = CharField(default='')
        body = BlobField()
        leaf_hash = BlobField()
        alg = CharField(default='sha256')
        recorded_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'ledger_entry'
    db.create_tables([LedgerEntry])

    class OfficerStatusChange(Model):
        officer = ForeignKeyField(Officer, on_delete='CASCADE')
        from_status = CharField()
        to_status = CharField()
        reason = TextField()
        changed_on = DateField()
        changed_by = CharField()
        recorded_at = DateTimeField(default=datetime.datetime.now)
        class Meta:
            database = db
            table_name = 'officerstatuschange'
    db.create_tables([OfficerStatusChange])

    class Outbox(Model):
        key = CharField(unique=True, max_length=190)
        openid = CharField(max_length=128)
        text = TextField()
        created_at = DateTimeField()
        claimed_at = DateTimeField(null=True)
        sent_at = DateTimeField(index=True, null=True)
        channel = CharField(default='')
        attempts = IntegerField(default=0)
        last_error = TextField(default='')
        class Meta:
            database = db
            table_name = 'complaint_outbox'
    db.create_tables([Outbox])

    class TreeHead(Model):
        size = IntegerField()
        root = CharField()
        alg = CharField(default='sha256')
        timestamp = CharField()
        origin = CharField()
        signature = TextField()
        key_id = CharField()
        class Meta:
            database = db
            table_name = 'tree_head'
    db.create_tables([TreeHead])

    class WeChatBadgeQR(Model):
        officer = ForeignKeyField(Officer, unique=True, on_delete='CASCADE')
        scene = CharField(max_length=64)
        ticket = CharField()
        url = CharField()
        created_at = DateTimeField(default=datetime.datetime.now)
        class Meta:
            database = db
            table_name = 'wechatbadgeqr'
    db.create_tables([WeChatBadgeQR])

    add_delivery_indexes(db)
    install_append_only_triggers(db)
