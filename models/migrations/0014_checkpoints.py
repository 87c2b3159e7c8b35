"""0014 — checkable with other people's tools (issue 16).

- ledger_node keeps a second copy of each leaf hash at level 0, written with the entry from now on, so
  `verify` names an entry whose bytes and hash column were both rewritten; existing entries get theirs
  from the leaf hash they were recorded with.
- tree_head.note: the head as a C2SP tlog-checkpoint signed note (text and the bureau's signature line);
  heads signed before this keep only their old-format signature, which stays verifiable.
- cosignature: the supervisor's (witness) C2SP tlog-cosignature lines on published checkpoints,
  append-only like the other log tables.
- complaint.media_url, address_id, open311_token: Open311 GeoReport v2 fields kept as their own columns.
Self-contained on purpose: later changes to models/ never change what this migration builds."""
import peewee as pw
from peewee import BigIntegerField, CharField, IntegerField, Model, TextField

BATCH = 1000


def install_append_only_triggers(database, table):
    if isinstance(database, pw.SqliteDatabase):
        for op in ("UPDATE", "DELETE"):
            database.execute_sql(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END")
        return
    database.execute_sql(
        """CREATE OR REPLACE FUNCTION sanxiang_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN RAISE EXCEPTION '%% is append-only: %% refused', TG_TABLE_NAME, TG_OP; END $$""")
    database.execute_sql(f"CREATE OR REPLACE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                         f"FOR EACH ROW EXECUTE FUNCTION sanxiang_append_only()")
    database.execute_sql(f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                         f"FOR EACH STATEMENT EXECUTE FUNCTION sanxiang_append_only()")


def backfill_leaf_copies(database):
    """Level 0 of ledger_node: each entry's recorded leaf hash, for entries that have no copy yet."""
    database.execute_sql("INSERT INTO ledger_node (level, idx, hash) SELECT 0, e.seq, e.leaf_hash FROM ledger_entry e "
                         "WHERE NOT EXISTS (SELECT 1 FROM ledger_node n WHERE n.level = 0 AND n.idx = e.seq)")


def up(migrator, db):
    class Cosignature(Model):
        size = IntegerField()
        root = CharField()
        origin = CharField()
        witness = CharField()
        key_id = CharField()
        timestamp = BigIntegerField()
        line = TextField()
        received_at = CharField()

        class Meta:
            database = db
            table_name = "cosignature"
            indexes = ((("size", "id"), False),)

    backfill_leaf_copies(db)
    columns = {c.name for c in db.get_columns("tree_head")}
    if "note" not in columns:
        migrator.migrate(migrator.add_column("tree_head", "note", TextField(null=True)))
    db.create_tables([Cosignature])
    complaint_columns = {c.name for c in db.get_columns("complaint")}
    for name, column in (("media_url", CharField(null=True, max_length=2000)),
                         ("address_id", CharField(null=True, max_length=200)),
                         ("open311_token", CharField(null=True, max_length=64))):
        if name not in complaint_columns:
            migrator.migrate(migrator.add_column("complaint", name, column))
    migrator.migrate(migrator.add_index("complaint", ("open311_token",), True))
    install_append_only_triggers(db, "cosignature")


def down(migrator, db):
    migrator.migrate(migrator.drop_index("complaint", "complaint_open311_token"))
    for name in ("media_url", "address_id", "open311_token"):
        migrator.migrate(migrator.drop_column("complaint", name))
    db.execute_sql("DROP TABLE IF EXISTS cosignature")
    migrator.migrate(migrator.drop_column("tree_head", "note"))
    db.execute_sql("DELETE FROM ledger_node WHERE level = 0")
