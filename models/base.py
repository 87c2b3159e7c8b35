"""The database handle, chosen at run time, and the base every model derives from."""
from pathlib import Path

from peewee import DatabaseProxy, Model, SqliteDatabase
from playhouse.db_url import connect

db = DatabaseProxy()

# WAL lets readers go on while one worker writes; busy_timeout makes a second worker wait for the
# write lock instead of failing at once. It is kept under WeChat's 5 s so a reply still goes out.
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "busy_timeout": 4000,
    "foreign_keys": 1,
}


class BaseModel(Model):
    class Meta:
        database = db


def open_database(url):
    """Open the database named by a peewee db_url and bind the proxy to it."""
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    kwargs = {"pragmas": SQLITE_PRAGMAS} if url.startswith("sqlite") else {}
    database = connect(url, **kwargs)
    db.initialize(database)
    return database


def is_sqlite():
    return isinstance(db.obj, SqliteDatabase)
