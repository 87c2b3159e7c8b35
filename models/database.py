"""The database handle, chosen at run time, the base every model derives from, and the one way to
open and hold a connection — for the app, the command line and the clock alike."""
from contextlib import contextmanager
from pathlib import Path

from peewee import DatabaseProxy, Model, SqliteDatabase
from playhouse.db_url import connect

from settings import resolve_database_url

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
    """Open the database named by a peewee db_url (`sqlite:///…`, `postgresql://…`) and bind the proxy."""
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    kwargs = {"pragmas": SQLITE_PRAGMAS} if url.startswith("sqlite") else {}
    database = connect(url, **kwargs)
    db.initialize(database)
    return database


def open_configured(config):
    """Open the database of `config` (database.url, DATABASE_URL): the one way the app, the command line
    (through the app) and the clock open it."""
    return open_database(resolve_database_url(config["database"]["url"]))


_redis_clients = {}


def redis_client(config):
    """The Redis client of `config` (redis.url, REDIS_URL), one per process and URL; None without one.

    Redis is optional: the embedded default keeps what it would share in the database instead."""
    url = (config.get("redis") or {}).get("url")
    if not url:
        return None
    client = _redis_clients.get(url)
    if client is None:
        import redis

        client = _redis_clients[url] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return client


def is_sqlite():
    return isinstance(db.obj, SqliteDatabase)


def write_transaction():
    """A transaction that holds the write lock from its first statement.

    SQLite's default (deferred) transaction reads from a snapshot and asks for the write lock only
    at its first write; if another connection (a page view counting a scan, the clock, the command
    line) committed in between, that write fails at once with SQLITE_BUSY_SNAPSHOT. BEGIN IMMEDIATE
    takes the lock first, so the handler reads and writes one consistent state. PostgreSQL's row
    locks and the unique key need nothing more.
    """
    return db.atomic("IMMEDIATE") if is_sqlite() else db.atomic()


@contextmanager
def connection(keep_sqlite_open=False):
    """A connection for work outside a request: a job of the clock, a push after the response, a
    batch of delivery records, a command. One that was open already is used and left open.

    One this opened is closed at the end — except, with `keep_sqlite_open`, a SQLite one in a web
    worker: closing SQLite's last connection checkpoints and removes the WAL each time, which cost
    more than a whole reply (make bench). The clock never keeps one: it runs in gunicorn's master,
    and a SQLite connection must not be inherited by the workers it forks.
    """
    opened = db.is_closed()
    if opened:
        db.connect()
    try:
        yield db
    finally:
        if opened and not db.is_closed() and not (keep_sqlite_open and is_sqlite()):
            db.close()
