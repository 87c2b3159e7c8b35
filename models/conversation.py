"""What the account was sent and what it answered, kept so that WeChat's retries change nothing."""
import datetime as dt
import fcntl
import json
import os
import time
from contextlib import contextmanager

from peewee import CharField, DateTimeField, TextField

from models.base import BaseModel, db, is_sqlite


def utcnow():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


_turn_files = {}


@contextmanager
def write_turn():
    """With SQLite, let this server's workers take turns at answering through a blocking file lock.

    SQLite's own busy wait sleeps 1, 2, 5, 10 … ms between tries, so two workers writing at once
    lost most of their time asleep (make bench: p99 over 400 ms). A waiter on flock() wakes the
    moment the other worker commits. Other writers (the command line) still meet busy_timeout.
    """
    path = db.obj.database if is_sqlite() else ""
    if not path or path == ":memory:" or path.startswith("file:"):
        yield
        return
    key = (os.getpid(), path)  # a descriptor inherited through fork() would share its lock
    fd = _turn_files.get(key)
    if fd is None:
        fd = _turn_files[key] = os.open(path + ".turn", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def write_transaction():
    """A transaction that holds the write lock from its first statement.

    SQLite's default (deferred) transaction reads from a snapshot and asks for the write lock only
    at its first write; if another connection (a page view counting a scan, the clock, the command
    line) committed in between, that write fails at once with SQLITE_BUSY_SNAPSHOT. BEGIN IMMEDIATE
    takes the lock first, so the handler reads and writes one consistent state. PostgreSQL's row
    locks and the unique key need nothing more.
    """
    return db.atomic("IMMEDIATE") if is_sqlite() else db.atomic()


class _AlreadyAnswered(Exception):
    """Raised inside the transaction to roll back a second delivery's work."""


class InboundMessage(BaseModel):
    """One delivery WeChat made, by its deduplication key, with the reply we gave.

    WeChat retries a message it got no answer to within 5 s, three tries in all. The handler's
    writes and this row are committed in one transaction, and the row's key is unique: when a
    retry (in this worker or another) races the first delivery, only one transaction can insert
    the key, the other is rolled back whole — its writes with it — and answers with the stored
    reply. So a message's side effects happen once, and every delivery gets the same words.

    The row also keeps the pages of a long answer not yet shown; the user's latest row that has
    them is what "下一页" continues, so one INSERT per message records both.
    """

    # "m:<openid>:<MsgId>" or "e:<openid>:<CreateTime>": the unique index on it also finds one
    # user's rows (see _of_user), so no second index has to be written on every message.
    key = CharField(unique=True, max_length=190)
    openid = CharField(max_length=128, default="")
    reply = TextField(null=True)  # rendered reply XML before encryption; "" means "success"
    pages = TextField(null=True)  # JSON list of pages still to show; NULL: this answer had none
    # Not indexed: every index is one more page written per message (make bench), and only the
    # daily prune looks rows up by time.
    received_at = DateTimeField(default=utcnow)

    @staticmethod
    def dedup_key(message):
        """MsgId for messages; FromUserName + CreateTime for events (DOMAIN.md §7)."""
        if getattr(message, "id", 0):
            return f"m:{message.source}:{message.id}"
        return f"e:{message.source}:{message.time}"

    @classmethod
    def answer_once(cls, key, openid, compute, wait_seconds=4.0):
        """Run `compute()` -> (reply, pages) once for `key`; a repeat gets the stored reply.

        Returns None when no stored reply turns up within `wait_seconds`.
        """
        try:
            with write_turn(), write_transaction():
                reply, pages = compute()
                if not cls._record(key, openid, reply, pages):
                    raise _AlreadyAnswered
                return reply
        except _AlreadyAnswered:
            return cls.wait_for_reply(key, wait_seconds)

    @classmethod
    def _record(cls, key, openid, reply, pages):
        """Insert the delivery; False if another delivery of the same message already did.

        A conflicting insert waits for the other transaction to end, then does nothing. Written as
        SQL because it runs on every message and peewee's query builder costs more than the
        statement itself (make bench); the statement is the same in SQLite and PostgreSQL.
        """
        p = db.param
        cursor = db.execute_sql(
            f'INSERT INTO {cls._meta.table_name} ("key", openid, reply, pages, received_at) '
            f"VALUES ({p}, {p}, {p}, {p}, {p}) ON CONFLICT DO NOTHING",
            (key, openid, reply, None if pages is None else json.dumps(pages, ensure_ascii=False),
             cls.received_at.db_value(utcnow())))
        return cursor.rowcount == 1

    @classmethod
    def stored_reply(cls, key):
        row = cls.select(cls.reply).where(cls.key == key).first()
        return row.reply if row is not None else None

    @classmethod
    def record_failure(cls, key, openid, reply):
        """Store the apology given for a failed handler so a retry gets the same words.

        If another delivery of the message did get through meanwhile, its reply wins.
        """
        with db.atomic():
            if not cls._record(key, openid, reply, None):
                return cls.stored_reply(key)
        return reply

    @classmethod
    def wait_for_reply(cls, key, wait_seconds):
        deadline = time.monotonic() + wait_seconds
        while True:
            reply = cls.stored_reply(key)
            if reply is not None:
                return reply
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)

    @classmethod
    def _of_user(cls, openid):
        """SQL condition and parameters selecting one user's rows.

        SQLite: two ranges of the unique key, whose index then serves, so no second index is
        written on every message (all writers there take turns). ":" < ";" in its binary order.
        PostgreSQL: the openid column and its own index (see add_indexes), whatever the collation.
        """
        p = db.param
        if not is_sqlite():
            return f"openid = {p}", (openid,)
        condition = f'(("key" >= {p} AND "key" < {p}) OR ("key" >= {p} AND "key" < {p}))'
        return condition, (f"m:{openid}:", f"m:{openid};", f"e:{openid}:", f"e:{openid};")

    @classmethod
    def add_indexes(cls):
        if not is_sqlite():
            db.execute_sql(f"CREATE INDEX IF NOT EXISTS {cls._meta.table_name}_openid_id "
                           f"ON {cls._meta.table_name} (openid, id)")

    @classmethod
    def pending_pages(cls, openid, ttl_seconds):
        """The pages of this user's latest long answer not yet shown, if it is recent enough."""
        condition, params = cls._of_user(openid)
        row = db.execute_sql(
            f"SELECT pages, received_at FROM {cls._meta.table_name} WHERE {condition} "
            "AND pages IS NOT NULL ORDER BY id DESC LIMIT 1", params).fetchone()
        if row is None:
            return []
        received_at = cls.received_at.python_value(row[1])
        if utcnow() - received_at >= dt.timedelta(seconds=ttl_seconds):
            return []
        return json.loads(row[0])

    @classmethod
    def last_heard(cls, openid):
        """When this user last messaged or clicked (what opens WeChat's 48 h service window), UTC."""
        condition, params = cls._of_user(openid)
        row = db.execute_sql(f"SELECT max(received_at) FROM {cls._meta.table_name} WHERE {condition}",
                             params).fetchone()
        return cls.received_at.python_value(row[0]) if row and row[0] is not None else None

    @classmethod
    def upgrade_table(cls):
        """Recreate the table if it predates the openid/pages columns.

        It holds only a few days of delivery records (see prune), so starting it afresh loses
        nothing but retry protection for messages in flight during the upgrade.
        """
        if cls.table_exists() and "pages" not in {c.name for c in db.get_columns(cls._meta.table_name)}:
            db.drop_tables([cls])

    @classmethod
    def prune(cls, older_than_days):
        cutoff = utcnow() - dt.timedelta(days=older_than_days)
        return cls.delete().where(cls.received_at < cutoff).execute()
