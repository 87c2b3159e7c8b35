"""What the account was sent and what it answered, kept so that WeChat's retries change nothing."""
import datetime as dt
import fcntl
import json
import os
import time
from contextlib import contextmanager

from peewee import CharField, DateTimeField, IntegrityError, TextField

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


class InboundMessage(BaseModel):
    """One delivery WeChat made, by its deduplication key, with the reply we gave.

    WeChat retries a message it got no answer to within 5 s, three tries in all. The row is
    inserted before the handler runs, in the same transaction as the handler's own writes, so a
    retry (in this worker or another) either waits for that transaction and reads its reply, or
    finds the reply already there; the handler never runs twice for one key.
    """

    key = CharField(unique=True, max_length=190)
    reply = TextField(null=True)  # rendered reply XML before encryption; "" means "success"
    received_at = DateTimeField(default=utcnow, index=True)

    @staticmethod
    def dedup_key(message):
        """MsgId for messages; FromUserName + CreateTime for events (DOMAIN.md §7)."""
        if getattr(message, "id", 0):
            return f"m:{message.source}:{message.id}"
        return f"e:{message.source}:{message.time}"

    @classmethod
    def answer_once(cls, key, compute, wait_seconds=4.0):
        """Run `compute()` once for `key` and return its reply; a repeat returns the stored reply.

        Returns None when the first delivery is still running after `wait_seconds`.
        """
        with write_turn(), db.atomic():
            if cls._claim(key):
                reply = compute()
                cls._store_reply(key, reply)
                return reply
        return cls.wait_for_reply(key, wait_seconds)

    @classmethod
    def _claim(cls, key):
        """Insert the key; False if another delivery of the same message already did.

        ON CONFLICT DO NOTHING needs no savepoint, and a conflicting insert still waits for the
        other transaction to end. Written as SQL because it runs on every message and peewee's
        query builder costs more than the statement itself (make bench).
        """
        cursor = db.execute_sql(
            f'INSERT INTO {cls._meta.table_name} ("key", received_at) VALUES ({db.param}, {db.param}) '
            "ON CONFLICT DO NOTHING", (key, cls.received_at.db_value(utcnow())))
        return cursor.rowcount == 1

    @classmethod
    def _store_reply(cls, key, reply):
        db.execute_sql(f'UPDATE {cls._meta.table_name} SET reply = {db.param} WHERE "key" = {db.param}',
                       (reply, key))

    @classmethod
    def record_failure(cls, key, reply):
        """Store the apology given for a failed handler so a retry gets the same words."""
        try:
            with db.atomic():
                cls.create(key=key, reply=reply)
        except IntegrityError:
            pass

    @classmethod
    def wait_for_reply(cls, key, wait_seconds):
        deadline = time.monotonic() + wait_seconds
        while True:
            row = cls.get_or_none(cls.key == key)
            if row is not None and row.reply is not None:
                return row.reply
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)

    @classmethod
    def prune(cls, older_than_days):
        cutoff = utcnow() - dt.timedelta(days=older_than_days)
        return cls.delete().where(cls.received_at < cutoff).execute()


class ChatState(BaseModel):
    """Per-user conversation state: the remaining pages of a long answer ("下一页")."""

    openid = CharField(primary_key=True, max_length=128)
    pages = TextField(default="[]")
    updated_at = DateTimeField(default=utcnow)

    # The two statements below run on most messages; like InboundMessage._claim they are
    # written as SQL (the same in SQLite and PostgreSQL) to skip peewee's query builder.
    @classmethod
    def save_pages(cls, openid, pages):
        payload = json.dumps(pages, ensure_ascii=False)
        table, p = cls._meta.table_name, db.param
        db.execute_sql(
            f"INSERT INTO {table} (openid, pages, updated_at) VALUES ({p}, {p}, {p}) "
            "ON CONFLICT (openid) DO UPDATE SET pages = excluded.pages, updated_at = excluded.updated_at",
            (openid, payload, cls.updated_at.db_value(utcnow())))

    @classmethod
    def next_page(cls, openid, ttl_seconds):
        """Pop the next stored page for `openid`, or None if nothing (fresh) is left."""
        row = db.execute_sql(f"SELECT pages, updated_at FROM {cls._meta.table_name} WHERE openid = {db.param}",
                             (openid,)).fetchone()
        if row is None:
            return None
        pages, updated_at = json.loads(row[0]), cls.updated_at.python_value(row[1])
        fresh = utcnow() - updated_at < dt.timedelta(seconds=ttl_seconds)
        if not pages or not fresh:
            return None
        cls.save_pages(openid, pages[1:])
        return pages[0]
