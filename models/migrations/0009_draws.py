"""0009 — 双随机、一公开 (models/draws.py): the pool of targets, conflicts (回避), plans and draws."""
from peewee import CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db

    class DrawTarget(Base):
        uscc = CharField(unique=True, max_length=18)
        name = CharField()
        category = CharField()
        address = CharField(default="")
        risk_flags = CharField(default="")
        active = IntegerField(default=1)

        class Meta:
            table_name = "draw_target"

    class DrawConflict(Base):
        cert_no = CharField()
        uscc = CharField(max_length=18)
        reason = CharField()
        recorded_by = CharField()
        recorded_at = DateTimeField()

        class Meta:
            table_name = "draw_conflict"
            indexes = ((("cert_no", "uscc"), True),)

    class DrawPlan(Base):
        name = CharField(unique=True)
        items = TextField()
        ratios = TextField()
        risk_ratio = IntegerField(null=True)
        inspectors_per_target = IntegerField(default=2)
        period_start = DateField()
        period_end = DateField()
        created_by = CharField()
        created_at = DateTimeField()

        class Meta:
            table_name = "draw_plan"

    class Draw(Base):
        plan = ForeignKeyField(DrawPlan, backref="draws", on_delete="RESTRICT")
        status = CharField(default="已承诺")
        files = TextField()
        commitment = CharField(max_length=64)
        secret = CharField(max_length=64)
        public_value_source = CharField()
        draw_on = DateField()
        committed_by = CharField()
        committed_at = DateTimeField()
        public_value = CharField(null=True)
        seed = CharField(null=True, max_length=64)
        revealed_at = DateTimeField(null=True)
        result = TextField(null=True)
        ran_at = DateTimeField(null=True)

        class Meta:
            table_name = "draw"

    db.create_tables([DrawTarget, DrawConflict, DrawPlan, Draw])


def down(migrator, db):
    for table in ("draw", "draw_plan", "draw_conflict", "draw_target"):
        db.execute_sql(f"DROP TABLE {table}")
