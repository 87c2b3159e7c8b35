"""001 — the schema as it stood on 2026-11-27, before migrations: the public lists, delivery records,
亮证, complaints and the case file.

A database made by the code of that time (no migration history) is brought to exactly this schema:
its tables are kept (create_table is safe), columns added since a table was first made are added,
and nothing is dropped. An empty database gets every table. Models are frozen here as they were,
so later changes to models/ never change what this migration builds.
"""
import peewee as pw
from peewee_migrate import Migrator

APPEND_ONLY_TABLES = ("ledger_entry", "enforcement_case", "tree_head")


def add_columns_of_older_databases(database):
    """Columns tables gained before migrations existed: the 亮证 ones of officer, and the openid and
    pages of inboundmessage (whose table used to be dropped and made again instead)."""
    from playhouse.migrate import SchemaMigrator, migrate as apply

    migrator = SchemaMigrator.from_database(database)
    wanted = {
        "officer": {"photo": pw.CharField(default=""), "badge_nonce": pw.CharField(null=True)},
        "inboundmessage": {"openid": pw.CharField(max_length=128, default=""), "pages": pw.TextField(null=True)},
    }
    for table, columns in wanted.items():
        if not database.table_exists(table):
            continue
        present = {column.name for column in database.get_columns(table)}
        apply(*[migrator.add_column(table, name, field) for name, field in columns.items() if name not in present])
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


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.run(add_columns_of_older_databases, database)

    @migrator.create_model
    class Officer(pw.Model):
        id = pw.AutoField()
        name = pw.CharField(max_length=255)
        cert_no = pw.CharField(max_length=255, unique=True)
        issuer = pw.CharField(max_length=255)
        fields = pw.CharField(max_length=255)
        valid_from = pw.DateField()
        valid_to = pw.DateField()
        status = pw.CharField(default='有效', max_length=255)
        status_reason = pw.CharField(default='', max_length=255)
        status_changed_on = pw.DateField(null=True)
        photo = pw.CharField(default='', max_length=255)
        badge_nonce = pw.CharField(max_length=255, null=True, unique=True)

        class Meta:
            table_name = "officer"

    @migrator.create_model
    class BadgeScan(pw.Model):
        id = pw.AutoField()
        officer = pw.ForeignKeyField(column_name='officer_id', field='id', model=migrator.orm['officer'], on_delete='CASCADE')
        day = pw.DateField()
        channel = pw.CharField(max_length=255)
        scans = pw.IntegerField(default=0)

        class Meta:
            table_name = "badgescan"
            indexes = [(('officer', 'day', 'channel'), True)]

    @migrator.create_model
    class Bureau(pw.Model):
        id = pw.AutoField()
        name = pw.CharField(max_length=255)
        legal_basis = pw.TextField()
        duties = pw.TextField()
        powers = pw.TextField()
        address = pw.CharField(max_length=255)
        hours = pw.CharField(max_length=255)
        phone = pw.CharField(max_length=255)
        supervisor = pw.CharField(default='', max_length=255)

        class Meta:
            table_name = "bureau"

    @migrator.create_model
    class Case(pw.Model):
        id = pw.AutoField()
        number = pw.CharField(max_length=255, unique=True)
        item_code = pw.CharField(max_length=255)
        party_kind = pw.CharField(max_length=255)
        party_name = pw.CharField(max_length=255)
        opened_seq = pw.IntegerField()
        opened_on = pw.CharField(max_length=255)

        class Meta:
            table_name = "enforcement_case"

    @migrator.create_model
    class Complaint(pw.Model):
        id = pw.AutoField()
        ticket = pw.CharField(max_length=32, unique=True)
        source = pw.CharField(default='wechat', max_length=255)
        category = pw.CharField(max_length=255)
        category_code = pw.CharField(max_length=255)
        officer = pw.ForeignKeyField(column_name='officer_id', field='id', model=migrator.orm['officer'], null=True, on_delete='SET NULL')
        content = pw.TextField()
        location = pw.CharField(default='', max_length=500)
        lat = pw.FloatField(null=True)
        lng = pw.FloatField(null=True)
        contact = pw.CharField(default='', max_length=200)
        openid = pw.CharField(index=True, max_length=128, null=True)
        submitter = pw.CharField(index=True, max_length=200)
        secret_code = pw.CharField(max_length=16)
        client_key = pw.CharField(max_length=100, null=True, unique=True)
        status = pw.CharField(default='待受理', max_length=255)
        status_reason = pw.TextField(default='')
        assignee = pw.ForeignKeyField(column_name='assignee_id', field='id', model=migrator.orm['officer'], null=True, on_delete='SET NULL')
        answer = pw.TextField(default='')
        satisfaction = pw.CharField(default='', max_length=255)
        created_at = pw.DateTimeField(index=True)
        updated_at = pw.DateTimeField()
        accepted_on = pw.DateField(null=True)
        accept_due = pw.DateField()
        accept_due_provisional = pw.BooleanField(default=False)
        answer_due = pw.DateField(null=True)
        answer_due_provisional = pw.BooleanField(default=False)

        class Meta:
            table_name = "complaint"

    @migrator.create_model
    class ComplaintDraft(pw.Model):
        openid = pw.CharField(max_length=128, primary_key=True)
        step = pw.CharField(max_length=255)
        data = pw.TextField(default='{}')
        started_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "complaint_draft"

    @migrator.create_model
    class Staff(pw.Model):
        id = pw.AutoField()
        openid = pw.CharField(max_length=128, unique=True)
        name = pw.CharField(max_length=255)
        role = pw.CharField(max_length=255)
        officer = pw.ForeignKeyField(column_name='officer_id', field='id', model=migrator.orm['officer'], null=True, on_delete='SET NULL')
        active = pw.BooleanField(default=True)

        class Meta:
            table_name = "complaint_staff"

    @migrator.create_model
    class ComplaintEvent(pw.Model):
        id = pw.AutoField()
        complaint = pw.ForeignKeyField(column_name='complaint_id', field='id', model=migrator.orm['complaint'], on_delete='CASCADE')
        at = pw.DateTimeField()
        action = pw.CharField(max_length=255)
        actor = pw.CharField(max_length=255)
        staff = pw.ForeignKeyField(column_name='staff_id', field='id', model=migrator.orm['complaint_staff'], null=True, on_delete='SET NULL')
        detail = pw.TextField(default='')

        class Meta:
            table_name = "complaint_event"

    @migrator.create_model
    class EnforcementItem(pw.Model):
        id = pw.AutoField()
        code = pw.CharField(max_length=255, unique=True)
        name = pw.CharField(max_length=255)
        category = pw.CharField(max_length=255)
        basis_law = pw.CharField(max_length=255)
        basis_article = pw.CharField(max_length=255)
        acting_body = pw.CharField(max_length=255)
        responsible_body = pw.CharField(max_length=255)
        penalty = pw.TextField(default='')
        keywords = pw.CharField(default='', max_length=255)

        class Meta:
            table_name = "enforcementitem"

    @migrator.create_model
    class Evidence(pw.Model):
        id = pw.AutoField()
        complaint = pw.ForeignKeyField(column_name='complaint_id', field='id', model=migrator.orm['complaint'], null=True, on_delete='CASCADE')
        owner = pw.CharField(default='', index=True, max_length=200)
        kind = pw.CharField(max_length=255)
        sha256 = pw.CharField(index=True, max_length=64)
        size = pw.IntegerField()
        content_type = pw.CharField(default='application/octet-stream', max_length=255)
        media_id = pw.CharField(default='', max_length=200)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "evidence"

    @migrator.create_model
    class FlowStep(pw.Model):
        id = pw.AutoField()
        category = pw.CharField(max_length=255)
        seq = pw.IntegerField()
        title = pw.CharField(max_length=255)
        detail = pw.TextField(default='')

        class Meta:
            table_name = "flowstep"
            indexes = [(('category', 'seq'), True)]

    @migrator.create_model
    class InboundMessage(pw.Model):
        id = pw.AutoField()
        key = pw.CharField(max_length=190, unique=True)
        openid = pw.CharField(default='', max_length=128)
        reply = pw.TextField(null=True)
        pages = pw.TextField(null=True)
        received_at = pw.DateTimeField()

        class Meta:
            table_name = "inboundmessage"

    @migrator.create_model
    class InspectionItem(pw.Model):
        id = pw.AutoField()
        name = pw.CharField(max_length=255)
        subject = pw.CharField(max_length=255)
        basis = pw.TextField()
        target = pw.CharField(max_length=255)
        content = pw.TextField()
        ratio = pw.CharField(max_length=255)
        method = pw.CharField(max_length=255)
        frequency = pw.CharField(max_length=255)
        seq = pw.IntegerField(default=0)

        class Meta:
            table_name = "inspectionitem"

    @migrator.create_model
    class LedgerEntry(pw.Model):
        seq = pw.IntegerField(primary_key=True)
        case_no = pw.CharField(index=True, max_length=255, null=True)
        kind = pw.CharField(max_length=255)
        step = pw.CharField(default='', max_length=255)
        body = pw.BlobField()
        leaf_hash = pw.BlobField()
        alg = pw.CharField(default='sha256', max_length=255)
        recorded_at = pw.DateTimeField()

        class Meta:
            table_name = "ledger_entry"

    @migrator.create_model
    class OfficerStatusChange(pw.Model):
        id = pw.AutoField()
        officer = pw.ForeignKeyField(column_name='officer_id', field='id', model=migrator.orm['officer'], on_delete='CASCADE')
        from_status = pw.CharField(max_length=255)
        to_status = pw.CharField(max_length=255)
        reason = pw.TextField()
        changed_on = pw.DateField()
        changed_by = pw.CharField(max_length=255)
        recorded_at = pw.DateTimeField()

        class Meta:
            table_name = "officerstatuschange"

    @migrator.create_model
    class Outbox(pw.Model):
        id = pw.AutoField()
        key = pw.CharField(max_length=190, unique=True)
        openid = pw.CharField(max_length=128)
        text = pw.TextField()
        created_at = pw.DateTimeField()
        claimed_at = pw.DateTimeField(null=True)
        sent_at = pw.DateTimeField(index=True, null=True)
        channel = pw.CharField(default='', max_length=255)
        attempts = pw.IntegerField(default=0)
        last_error = pw.TextField(default='')

        class Meta:
            table_name = "complaint_outbox"

    @migrator.create_model
    class TreeHead(pw.Model):
        id = pw.AutoField()
        size = pw.IntegerField()
        root = pw.CharField(max_length=255)
        alg = pw.CharField(default='sha256', max_length=255)
        timestamp = pw.CharField(max_length=255)
        origin = pw.CharField(max_length=255)
        signature = pw.TextField()
        key_id = pw.CharField(max_length=255)

        class Meta:
            table_name = "tree_head"

    @migrator.create_model
    class WeChatBadgeQR(pw.Model):
        id = pw.AutoField()
        officer = pw.ForeignKeyField(column_name='officer_id', field='id', model=migrator.orm['officer'], on_delete='CASCADE', unique=True)
        scene = pw.CharField(max_length=64)
        ticket = pw.CharField(max_length=255)
        url = pw.CharField(max_length=255)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "wechatbadgeqr"

    migrator.run(add_delivery_indexes, database)
    migrator.run(install_append_only_triggers, database)
