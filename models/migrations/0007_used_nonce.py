"""0007 — on PostgreSQL without Redis, the record of signed requests already seen (models/replay.py):
an UNLOGGED table, since it holds only the last minutes and need not survive a crash. SQLite keeps it in
a file of its own beside the database, so nothing is created there."""
from peewee import SqliteDatabase


def up(migrator, db):
    if isinstance(db, SqliteDatabase):
        return
    db.execute_sql("CREATE UNLOGGED TABLE IF NOT EXISTS used_nonce (key TEXT PRIMARY KEY, "
                   "digest TEXT NOT NULL, seen DOUBLE PRECISION NOT NULL)")


def down(migrator, db):
    if not isinstance(db, SqliteDatabase):
        db.execute_sql("DROP TABLE IF EXISTS used_nonce")
