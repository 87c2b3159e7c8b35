"""The database handle, chosen at run time, the base every model derives from, and the one way to
open and hold a connection — for the app, the command line and the clock alike."""
import fcntl
import hashlib
import os
import select
import threading
import time
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import peewee
from peewee import DatabaseProxy, Model, SqliteDatabase
from playhouse.db_url import connect, parse
from playhouse.pool import PooledDatabase, PooledPostgresqlDatabase

from settings import resolve_database_url

db = DatabaseProxy()

# WAL lets readers go on while one worker writes; busy_timeout makes a second worker wait for the
# write lock instead of failing at once. It is kept under WeChat's 5 s so a reply still goes out.
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "busy_timeout": 4000,
    "foreign_keys": 1,
    # Pages are read through a memory map, not one read() each: every write by another worker empties
    # this connection's page cache, so under load each request read its pages again (strace, make bench).
    "mmap_size": 1 << 30,
}


class BaseModel(Model):
    class Meta:
        database = db


# A PostgreSQL URL opens a pool of this process's connections (playhouse.pool): closing one at the end of
# a request hands it back for the next instead of ending the session, which cost 5–6 ms a request and
# was most of the time of an answer (make bench, issue 20). Set in config.yaml `database`.
POOL_DEFAULTS = {"pool_size": 4, "pool_wait_seconds": 3, "pool_recycle_seconds": 3600, "pool_ping_idle_seconds": 1}


class Pool(PooledPostgresqlDatabase):
    """playhouse's PostgreSQL pool, asking the server whether a connection still lives only when it
    has been idle for `ping_idle_seconds`.

    playhouse asks with a `SELECT 1` at every checkout: one more round trip to the server per request,
    a fifth of a worker's time under load (py-spy, make bench). A connection handed back a moment ago
    was alive then; one idle for longer (a quiet night, a restarted server) is still asked. Should the
    server restart within those seconds, a request meets the dead connection: /wechat answers "busy"
    and writes nothing, and the connection, its state now unknown, is not taken back into the pool.
    """

    def __init__(self, database, ping_idle_seconds=1, **kwargs):
        self._ping_idle_seconds = ping_idle_seconds
        self._returned_at = {}  # conn_key -> time.monotonic() when handed back
        super().__init__(database, **kwargs)

    def _is_closed(self, conn):
        returned_at = self._returned_at.pop(self.conn_key(conn), None)
        if conn.closed or self._adapter.txn_status(conn) == self._adapter.txn_unknown:
            return True
        if _has_unread_data(conn):
            # An idle connection has nothing to read; the server wrote something anyway, which is its
            # goodbye (pg_terminate_backend, a restart's shutdown). One select() instead of a SELECT 1.
            return True
        if returned_at is not None and time.monotonic() - returned_at < self._ping_idle_seconds:
            return False
        return super()._is_closed(conn)

    def _close(self, conn, close_conn=False):
        self._returned_at[self.conn_key(conn)] = time.monotonic()
        super()._close(conn, close_conn)

    def _close_raw(self, conn):
        self._returned_at.pop(self.conn_key(conn), None)
        super()._close_raw(conn)

    def resume(self):
        """At the start of a request: the connection this thread kept from its last one (`keep`), if it
        passes the checks a checkout makes (above); else one checked out of the pool as usual."""
        if not self.is_closed() and not self.in_transaction():
            conn = self.connection()
            if self._adapter.txn_status(conn) != self._adapter.txn_idle:
                # Left in a transaction after the last request (a push sent after the reply): handed back,
                # the pool rolls it back or discards it, and another is checked out.
                self.close()
            elif not self._is_closed(conn):
                return
            else:
                self.manual_close()  # dead or broken: not handed back
        self.connect(reuse_if_open=True)

    def keep(self):
        """At the end of a request: keep this thread's connection for its next request when nothing is
        left open on it (no transaction, no error state) and it is not due for recycling; else hand it
        back, where the pool rolls back or discards it.

        Checking a connection out and back in for every request cost a sync worker ~20 µs of its time
        per message (make bench, issue 20); the worker answers one request at a time, so the connection
        would only wait in the pool for the same thread anyway."""
        if self.is_closed():
            return
        conn = self.connection()
        key = self.conn_key(conn)
        checked_out = self._in_use.get(key)
        if (checked_out is not None and not self.in_transaction() and not conn.closed
                and self._adapter.txn_status(conn) == self._adapter.txn_idle
                and not (self._stale_timeout and self._is_stale(checked_out.timestamp))):
            self._returned_at[key] = time.monotonic()  # idle from now: resume() pings it past ping_idle_seconds
            return
        self.close()


def _has_unread_data(conn):
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def open_database(url, pool=None):
    """Open the database named by a peewee db_url (`sqlite:///…`, `postgresql://…`) and bind the proxy.

    A `postgresql://` (or `postgres://`) URL is opened as a `Pool` (`pool`: the `POOL_DEFAULTS` keys,
    from config.yaml) unless `pool` is False; pool parameters in the URL (`?max_connections=…`,
    `timeout`, `stale_timeout`, `ping_idle_seconds`) win. Other URLs, `postgresql+pool://` among them,
    are opened by playhouse.db_url as they are.
    """
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    scheme = urlsplit(url).scheme
    if scheme in ("postgres", "postgresql") and pool is not False:
        settings = {**POOL_DEFAULTS, **(pool or {})}
        params = {"max_connections": int(settings["pool_size"]),
                  "timeout": float(settings["pool_wait_seconds"]),
                  "stale_timeout": int(settings["pool_recycle_seconds"]) or None,
                  "ping_idle_seconds": float(settings["pool_ping_idle_seconds"]),
                  **parse(url)}
        database = Pool(params.pop("database"), **params)
    else:
        database = connect(url, **({"pragmas": SQLITE_PRAGMAS} if scheme.startswith("sqlite") else {}))
    _release_previous()
    db.initialize(database)
    database.opened_by_pid = os.getpid()
    return database


_inherited = []  # pools of a parent process, kept referenced: see _release_previous


def _release_previous():
    """Close the idle connections of the pool this process opened before (tests open one database per
    test). A pool inherited through fork() is kept, unused: its connections are the parent's, and
    closing them here — or letting them be garbage-collected, which closes them too — would end the
    parent's sessions."""
    previous = db.obj
    if not isinstance(previous, PooledDatabase):
        return
    if getattr(previous, "opened_by_pid", None) == os.getpid():
        previous.close_all()  # the idle ones, and those kept by threads between requests (Pool.keep)
    else:
        _inherited.append(previous)


def request_started():
    """A request's connection: kept from this thread's last request where it may be (Pool.resume)."""
    database = db.obj
    if isinstance(database, Pool):
        database.resume()
    else:
        database.connect(reuse_if_open=True)


def request_finished():
    """After a request: a pooled PostgreSQL connection is kept for the thread's next request if nothing
    is left open on it (Pool.keep), any other PostgreSQL one closed. A SQLite connection stays open
    for the worker's next request: closing the last one checkpoints and removes the WAL every time,
    which cost more than a whole reply (make bench)."""
    database = db.obj
    if database.is_closed() or is_sqlite():
        return
    if isinstance(database, Pool):
        database.keep()
    else:
        database.close()


def open_configured(config, pooled=True):
    """Open the database of `config` (database.url, DATABASE_URL): the one way the app, the command line
    (through the app) and the clock open it. The clock (gunicorn's master) opens it unpooled: a pool
    keeps connections open between jobs, and every worker forked from the master would inherit them."""
    settings = config["database"]
    pool = {key: settings[key] for key in POOL_DEFAULTS if key in settings} if pooled else False
    return open_database(resolve_database_url(settings["url"]), pool=pool)


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


def execute_often(template, params):
    """Execute a statement run on every message; `template` marks each parameter with `{}`, whose type
    the statement must settle (a column it is compared with, or a cast), as PREPARE has no values.

    On PostgreSQL it runs as a prepared statement of the session (named by a hash of its text), so the
    server plans it once per connection instead of once per message: that halved the server's time
    for InboundMessage.first_look (0.11 → 0.05 ms) and the round trip (0.25 → 0.12 ms), issue 20.
    Only outside a transaction, where an EXECUTE the session does not know (a new connection, or a
    pooler that discards sessions' state) fails harmlessly and is followed by PREPARE; inside one,
    the plain statement.
    """
    if is_sqlite() or db.in_transaction():
        return db.execute_sql(template.format(*[db.param] * len(params)), params)
    from psycopg2.errors import InvalidSqlStatementName

    execute, prepare = _prepared(template, len(params))
    cursor = db.cursor()
    with peewee.__exception_wrapper__:  # psycopg2's errors as peewee's, as execute_sql raises them
        try:
            cursor.execute(execute, params)
        except InvalidSqlStatementName:
            cursor.execute(prepare)
            cursor.execute(execute, params)
    return cursor


@lru_cache(maxsize=64)
def _prepared(template, count):
    """(EXECUTE, PREPARE) statements for `template`, made once per process."""
    name = "sanxiang_" + hashlib.blake2s(template.encode(), digest_size=8).hexdigest()
    execute = f"EXECUTE {name} ({', '.join(['%s'] * count)})" if count else f"EXECUTE {name}"
    return execute, f"PREPARE {name} AS " + template.format(*[f"${i}" for i in range(1, count + 1)])


def insert_rows(model, rows):
    """INSERT `rows` (dicts of field name -> value, all with the same names) into `model`'s table in one
    statement, each value converted by its field as peewee would. For writes on a hot path: peewee's query
    builder cost the case-file log's append more than its two statements did (make bench, ~40% of it)."""
    if not rows:
        return
    names = tuple(rows[0])
    fields = [model._meta.fields[name] for name in names]
    db.execute_sql(_insert_statement(model, names, len(rows), db.param),
                   [field.db_value(row[name]) for row in rows for field, name in zip(fields, names)])


@lru_cache(maxsize=64)
def _insert_statement(model, names, count, param):
    columns = ", ".join(f'"{model._meta.fields[name].column_name}"' for name in names)
    values = ", ".join(["(" + ", ".join([param] * len(names)) + ")"] * count)
    return f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES {values}'


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

    One this opened is closed at the end (a pooled PostgreSQL one goes back to the pool) — except,
    with `keep_sqlite_open`, a SQLite one in a web worker: closing SQLite's last connection
    checkpoints and removes the WAL each time, which cost
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


_pid = os.getpid()


def _forked():
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


def process_id():
    """os.getpid(), without asking the kernel on every request: what a fork() inherited (a connection,
    a lock's descriptor, a writer thread that did not come along) is told from this process's own."""
    return _pid


_turn_files = {}


@contextmanager
def taking_turns(lock_path):
    """Hold a blocking file lock on `lock_path` while writing a SQLite file other processes write too.

    A waiter on flock() wakes the moment the holder lets go, where SQLite's own busy wait sleeps 1, 2,
    5, 10 … ms between tries: two gunicorn workers writing at once lost most of their time asleep.
    """
    # A descriptor inherited through fork(), or shared by two threads, would share its lock.
    key = (_pid, threading.get_ident(), lock_path)
    fd = _turn_files.get(key)
    if fd is None:
        fd = _turn_files[key] = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
