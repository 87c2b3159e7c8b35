"""0017 — 订阅案件 (issue 14, parties): each case's 案件查询码 (case_query_code), the WeChat users bound to a case
by it (case_subscription) and the wrong codes a user sent, which the daily limit counts (case_code_miss).
Self-contained on purpose: later changes to models/ never change what this migration builds."""
from peewee import CharField, DateTimeField, Model


def up(migrator, db):
    class CaseCode(Model):
        case_no = CharField(unique=True, max_length=190)
        code = CharField(unique=True, max_length=16)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "case_query_code"

    class CaseSubscription(Model):
        case_no = CharField(max_length=190, index=True)
        openid = CharField(max_length=128, index=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "case_subscription"
            indexes = ((("case_no", "openid"), True),)

    class CaseCodeMiss(Model):
        openid = CharField(max_length=128)
        at = DateTimeField()

        class Meta:
            database = db
            table_name = "case_code_miss"
            indexes = ((("openid", "at"), False),)

    db.create_tables([CaseCode, CaseSubscription, CaseCodeMiss])


def down(migrator, db):
    for table in ("case_code_miss", "case_subscription", "case_query_code"):
        db.execute_sql(f"DROP TABLE IF EXISTS {table}")
