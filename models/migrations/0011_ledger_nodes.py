"""0011 — tree heads indexed by size (the newest, and the newest covering an entry, without sorting years of
daily heads), and the case-file log keeps the hash of every perfect subtree as it grows (table ledger_node), so
proofs and tree heads read O(log n) hashes instead of every leaf (issue 19). Existing logs are backfilled
here from their stored leaf hashes, which is exactly what proofs and heads were computed from before;
the table is append-only like the other log tables. Self-contained on purpose: later changes to
models/ never change what this migration builds."""
import hashlib

import peewee as pw
from peewee import BlobField, CompositeKey, IntegerField, Model

BATCH = 1000  # 3 parameters a row: within SQLite's limit on bound variables


def install_append_only_triggers(database, table="ledger_node"):
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


def backfill(database, model):
    """Every complete subtree over the stored leaf hashes, level by level (RFC 6962 interior nodes:
    SHA-256 of 0x01 || left || right), as the log's own append would have written them."""
    cursor = database.execute_sql("SELECT leaf_hash FROM ledger_entry ORDER BY seq")
    level = [bytes(row[0]) for row in cursor.fetchall()]
    height = 0
    while len(level) > 1:
        height += 1
        pairs = iter(level)
        level = [hashlib.sha256(b"\x01" + a + b).digest() for a, b in zip(pairs, pairs)]
        rows = [{"level": height, "idx": i, "hash": h} for i, h in enumerate(level)]
        for start in range(0, len(rows), BATCH):
            model.insert_many(rows[start:start + BATCH]).execute()


def up(migrator, db):
    class LedgerNode(Model):
        level = IntegerField()
        idx = IntegerField()
        hash = BlobField()

        class Meta:
            database = db
            table_name = "ledger_node"
            primary_key = CompositeKey("level", "idx")

    db.create_tables([LedgerNode])
    if not db.execute_sql("SELECT 1 FROM ledger_node LIMIT 1").fetchone():
        backfill(db, LedgerNode)
    install_append_only_triggers(db)
    db.execute_sql("CREATE INDEX IF NOT EXISTS tree_head_size_id ON tree_head (size, id)")


def down(migrator, db):
    db.execute_sql("DROP TABLE IF EXISTS ledger_node")
    db.execute_sql("DROP INDEX IF EXISTS tree_head_size_id")
