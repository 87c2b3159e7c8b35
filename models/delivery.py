"""投递记录 — the delivery record of WeChat messages: what the account was sent and what it answered,
kept so that WeChat's retries change nothing (exactly once), and what "下一页" continues."""
import atexit
import datetime as dt
import json
import logging
import threading
import time
from contextlib import contextmanager
from functools import lru_cache

from peewee import CharField, DateTimeField, InterfaceError, OperationalError, TextField

from models.database import (BaseModel, connection, db, execute_often, is_sqlite, process_id, taking_turns,
                             write_transaction)

log = logging.getLogger(__name__)


def utcnow():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


@contextmanager
def write_turn():
    """With SQLite, let this server's workers take turns at answering (database.taking_turns): SQLite's
    own busy wait sleeps 1, 2, 5, 10 … ms between tries, so two workers writing at once lost most of
    their time asleep (make bench: p99 over 400 ms). Other writers (the command line) still meet
    busy_timeout."""
    path = db.obj.database if is_sqlite() else ""
    if not path or is_private_sqlite():
        yield
        return
    with taking_turns(path + ".turn"):
        yield


def is_private_sqlite():
    """An in-memory SQLite database: each connection (each thread) sees a database of its own."""
    return is_sqlite() and (db.obj.database in ("", ":memory:") or db.obj.database.startswith("file:"))


class _AlreadyAnswered(Exception):
    """Raised inside the transaction to roll back a second delivery's work."""


class InboundMessage(BaseModel):
    """One delivery WeChat made, by its deduplication key, with the reply we gave.

    WeChat retries a message it got no answer to within 5 s, three tries in all. The handler's
    writes and this row are committed in one transaction, and the row's key is unique: when a
    retry (in this worker or another) races the first delivery, only one transaction can insert
    the key, the other is rolled back whole — its writes with it — and answers with the stored
    reply. So a message's side effects happen once, and every delivery gets the same words.

    An answer that writes nothing (the public lists, 帮助, 下一页) has no side effect to guard, so
    its row is not written before the reply but handed to `batch`, which writes such rows in
    batches within `record_batch_seconds` (see RecordBatch for why a retry still gets the same
    words). That one write per message was most of the endpoint's cost (make bench).

    The row also keeps the pages of a long answer not yet shown; the user's latest row that has
    them is what "下一页" continues, so one INSERT per message records both.
    """

    # "m:<openid>:<MsgId>" or "e:<openid>:<CreateTime>:<event>:<key>". On SQLite the unique index on it also
    # finds all of one user's rows (see _of_user). The only other indexes (models/migrations/001):
    # rows that keep pages, by user, so "下一页" is one seek however many messages the user sent;
    # on PostgreSQL, (openid, id) for all of one user's rows. Each index is one more page written
    # per message (make bench).
    key = CharField(unique=True, max_length=190)
    openid = CharField(max_length=128, default="")
    reply = TextField(null=True)  # rendered reply XML before encryption; "" means "success"
    # JSON of what "下一页" shows next (handlers/wechat/paging.py); NULL: this answer had no pages
    pages = TextField(null=True)
    # Not indexed: every index is one more page written per message (make bench), and only the
    # daily prune looks rows up by time.
    received_at = DateTimeField(default=utcnow)

    @staticmethod
    def dedup_key(message):
        """MsgId for messages; FromUserName + CreateTime for events (DOMAIN.md §7), with the event and its key:
        WeChat's retry repeats them all, while two different events of one user in the same second (a
        subscribe and a menu click) are two deliveries, not one — keyed alike, one got the other's reply."""
        if getattr(message, "id", 0):
            return f"m:{message.source}:{message.id}"
        event = getattr(message, "event", "") or message.type
        return f"e:{message.source}:{message.time}:{event}:{getattr(message, 'key', '') or ''}"[:190]

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
    def answer_read_only(cls, key, openid, compute, looked_up=False):
        """Like answer_once, for a `compute` that writes nothing: its row is written in a batch.

        Returns (reply, whether the batch is now due to be written by the caller). `looked_up`: the
        caller found no stored reply already (first_look).

        A repeat still gets the first reply: it is found in this worker's batch or in the table.
        Two deliveries racing in two workers both compute, and the first row to reach the table
        wins; with nothing written by either, all that can differ is the words of the loser.
        """
        stored = None if looked_up else cls.stored_reply(key)
        if stored is not None:
            return stored, False
        reply, pages = compute()
        return reply, cls.batch.add(cls.row(key, openid, reply, pages))

    @classmethod
    def row(cls, key, openid, reply, pages, received_at=None):
        """The column values of one delivery, in the order `_record` and `record_many` write them."""
        return (key, openid, reply, None if pages is None else json.dumps(pages, ensure_ascii=False),
                cls.received_at.db_value(received_at or utcnow()))

    @classmethod
    def _insert_sql(cls, rows=1):
        p = db.param
        values = ", ".join([f"({p}, {p}, {p}, {p}, {p})"] * rows)
        return (f'INSERT INTO {cls._meta.table_name} ("key", openid, reply, pages, received_at) '
                f"VALUES {values} ON CONFLICT DO NOTHING")

    @classmethod
    def _record(cls, key, openid, reply, pages):
        """Insert the delivery; False if another delivery of the same message already did.

        A conflicting insert waits for the other transaction to end, then does nothing. Written as
        SQL because it runs on every message and peewee's query builder costs more than the
        statement itself (make bench); the statement is the same in SQLite and PostgreSQL.
        """
        cursor = db.execute_sql(cls._insert_sql(), cls.row(key, openid, reply, pages))
        return cursor.rowcount == 1

    @classmethod
    def record_many(cls, rows, chunk=100):
        """Insert a batch of rows (see `row`) in one transaction; keys already there are skipped.

        A hundred rows go in one statement: executemany() would take the interpreter lock back
        for every row, from the requests this process is answering meanwhile.
        """
        with write_turn(), write_transaction():
            if not is_sqlite():
                # Durability of a read-only answer's record (README, "Commit durability"): PostgreSQL may
                # acknowledge this commit before its WAL reaches the disk. A server crash can lose the
                # last ~0.6 s (3 × wal_writer_delay) of such rows, which costs only that a retry of one of
                # them computes its read-only answer again — what a batch not yet written costs anyway.
                db.execute_sql("SET LOCAL synchronous_commit TO OFF")
            for start in range(0, len(rows), chunk):
                part = rows[start:start + chunk]
                db.execute_sql(cls._insert_sql(len(part)), [value for row in part for value in row])

    @staticmethod
    def column_key(column):
        """How first_look names a column (a peewee field) in its answer."""
        return column.model._meta.table_name, column.column_name

    @classmethod
    def first_look(cls, key, openid, columns=(), claim=None):
        """What a message needs to know first, in one statement: the stored reply of delivery `key` (None
        when it has none yet, or when `key` is None), and for each column (a peewee field holding
        openids: a complaint draft's) whether `openid` has a row there.

        Returns (reply, {column_key: bool}). One statement because on PostgreSQL each one is a round
        trip, a wait for the server's process — two per message were most of what PostgreSQL cost over
        SQLite under load (make bench, issue 20). A reply still waiting in this worker's batch is found
        there.

        `claim`: a models.replay.PendingClaim, settled in the same statement (PostgreSQL's replay record);
        its `outcome` says whether this request may be answered at all.
        """
        reply = cls.batch.reply_for(key) if key is not None else None
        if reply is not None:
            if claim is not None:
                claim.settle_alone()
            return reply, {}
        names = tuple(cls.column_key(column) for column in columns)
        if key is None and not names and claim is None:
            return None, {}
        params = ([key] if key is not None else []) + [openid] * len(names)
        if claim is not None:
            params = [*claim.prefix_params, *params, *claim.column_params]
        sql = cls._first_look_sql(key is not None, names, type(claim) if claim is not None else None)
        row = execute_often(sql, params).fetchone()
        if claim is not None:
            settled = len(claim.columns)
            claim.settle(*row[-settled:])
            row = row[:-settled]
        if key is not None:
            reply, row = row[0], row[1:]
        return reply, dict(zip(names, map(bool, row)))

    @staticmethod
    def users_with_rows(columns):
        """The distinct values of `columns` (peewee fields holding openids) over their tables' rows."""
        users = set()
        with connection(keep_sqlite_open=True):
            for column in columns:
                users.update(value for (value,) in column.model.select(column).distinct().tuples() if value)
        return users

    @classmethod
    @lru_cache(maxsize=16)
    def _first_look_sql(cls, with_reply, names, claim_type=None):
        asked = [f'(SELECT reply FROM {cls._meta.table_name} WHERE "key" = {{}})'] if with_reply else []
        asked += [f'EXISTS (SELECT 1 FROM {table} WHERE "{name}" = {{}})' for table, name in names]
        if claim_type:
            return claim_type.prefix + "SELECT " + ", ".join([*asked, *claim_type.columns])
        return "SELECT " + ", ".join(asked)

    @classmethod
    def stored_reply(cls, key):
        reply = cls.batch.reply_for(key)
        if reply is not None:
            return reply
        row = db.execute_sql(f'SELECT reply FROM {cls._meta.table_name} WHERE "key" = {db.param}',
                             (key,)).fetchone()
        return row[0] if row is not None else None

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
        PostgreSQL: the openid column and its own index, whatever the collation.
        """
        p = db.param
        if not is_sqlite():
            return f"openid = {p}", (openid,)
        condition = f'(("key" >= {p} AND "key" < {p}) OR ("key" >= {p} AND "key" < {p}))'
        return condition, (f"m:{openid}:", f"m:{openid};", f"e:{openid}:", f"e:{openid};")

    @classmethod
    def pending_pages(cls, openid, ttl_seconds):
        """What is left of this user's latest long answer (as stored: a list of pages, or where to
        rebuild them), if it is recent enough; [] otherwise.

        The latest may still wait in this worker's batch; the other workers' are in the table.
        """
        row = execute_often(
            f"SELECT pages, received_at FROM {cls._meta.table_name} WHERE openid = {{}} "
            "AND pages IS NOT NULL ORDER BY id DESC LIMIT 1", (openid,)).fetchone()
        candidates = [(cls.received_at.python_value(row[1]), row[0])] if row else []
        candidates += cls.batch.pages_of(openid)
        if not candidates:
            return []
        received_at, pages = max(candidates, key=lambda c: c[0])
        if utcnow() - received_at >= dt.timedelta(seconds=ttl_seconds):
            return []
        return json.loads(pages)

    @classmethod
    def last_heard(cls, openid):
        """When this user last messaged or clicked (what opens WeChat's 48 h service window), UTC."""
        condition, params = cls._of_user(openid)
        row = db.execute_sql(f"SELECT max(received_at) FROM {cls._meta.table_name} WHERE {condition}",
                             params).fetchone()
        return cls.received_at.python_value(row[0]) if row and row[0] is not None else None

    @classmethod
    def prune(cls, older_than_days):
        cutoff = utcnow() - dt.timedelta(days=older_than_days)
        return cls.delete().where(cls.received_at < cutoff).execute()


class RecordBatch:
    """Rows of read-only answers, written to the table in one transaction per batch, soon after.

    Why a retry still gets the same words: WeChat retries only a delivery whose reply it did not
    receive, after waiting 5 s for it (DOMAIN.md §7). By then the row has long been written (it
    waits at most `seconds`), and until then this worker finds it here. If this worker dies
    before writing it, WeChat had its reply and sends no retry; if it had not, the retry computes
    a read-only answer again. An identical repeat of the request (the same signature and body) that
    reaches another worker sooner waits for this row (wechat.repeat_wait_seconds, endpoint.answer). Nothing with a side effect passes through here: such answers are
    recorded in their own transaction (InboundMessage.answer_once).

    On SQLite a request whose row fills the batch (`size` rows) writes it once its reply is out; on
    PostgreSQL the background thread writes a full batch at once. That thread also writes whatever has
    waited `seconds`; the process writes what is left when it exits. A
    failed write keeps the rows for the next try. An in-memory SQLite database (one per connection)
    is written at once.
    """

    MAX_PENDING = 20_000  # rows kept while the database is away (a few MiB)

    def __init__(self, seconds=0, size=1):
        # Until configured (the web app does, from config.yaml), rows are written at once: the
        # command line and the clock answer nothing and need no writer thread.
        self.seconds, self.size = seconds, size
        self._rows = {}  # key -> InboundMessage.row(...), oldest first
        self._lock = threading.Lock()
        self._due = threading.Condition(self._lock)
        self._full = threading.Event()  # PostgreSQL: a full batch, for the writer thread to write now
        self._writing = threading.Lock()  # one batch written at a time
        self._writer_pid = None  # the process whose writer thread runs (a fork() has none)
        self._database = None  # the database the rows belong to (tests switch databases)

    def configure(self, seconds, size):
        self.seconds, self.size = seconds, max(1, int(size))

    def add(self, row):
        """Keep `row` for the next batch; True when the batch is full and should be written now
        (by the caller, once its reply is out: see handlers/wechat/endpoint.py) — on SQLite. On
        PostgreSQL a full batch wakes the writer thread instead, and this returns False."""
        if self.seconds <= 0 or is_private_sqlite():
            InboundMessage.record_many([row])
            return False
        with self._lock:
            self._forget_other_database()
            self._rows[row[0]] = row
            self._start_writer()
            if len(self._rows) == 1:
                self._due.notify()  # the writer sleeps while there is nothing to write
            if len(self._rows) < self.size:
                return False
            if is_sqlite():
                return True
        # PostgreSQL: the writer thread writes it at once. Its wait for the server lets go of the
        # interpreter lock, so this worker goes on answering meanwhile; a full batch took the server
        # 50–90 ms under load (issue 20), a stall of every request queued behind the one writing it.
        self._full.set()
        return False

    def reply_for(self, key):
        row = self._rows.get(key)
        return row[2] if row is not None else None

    def pages_of(self, openid):
        """(received_at, pages JSON) of this user's rows here that keep pages."""
        with self._lock:
            rows = [r for r in self._rows.values() if r[1] == openid and r[3] is not None]
        return [(InboundMessage.received_at.python_value(r[4]), r[3]) for r in rows]

    def pending(self):
        return len(self._rows)

    def flush(self, wait=True):
        """Write every row held now; they stay here, found by retries, until the write commits.

        With wait=False, return at once if another thread is writing a batch already.
        """
        if not self._writing.acquire(blocking=wait):
            return 0
        try:
            with self._lock:
                self._forget_other_database()
                rows = list(self._rows.values())
            done = self._write(rows) if rows else []
            with self._lock:
                for row in done:
                    if self._rows.get(row[0]) is row:
                        del self._rows[row[0]]
            return len(done)
        finally:
            self._writing.release()

    def _write(self, rows):
        """Write `rows`; the rows written or set aside, or None to keep them all for the next try.

        One row the database will not take (a value too long for its column, say) must not hold up
        the others: when the batch fails, the rows are tried one by one, and a row refused for what it
        holds is logged and set aside. When the database itself is away, every row is kept, up to
        MAX_PENDING; past that the oldest are dropped, since all they would tell a retry is a
        read-only answer it can compute again.
        """
        try:
            # A PostgreSQL connection is not held between batches; the worker's SQLite one is.
            with connection(keep_sqlite_open=True):
                InboundMessage.record_many(rows)
            return rows
        except (OperationalError, InterfaceError):
            log.exception("writing %d delivery records failed; will retry", len(rows))
            return self._drop_oldest_past_limit()
        except Exception:  # noqa: BLE001 — one row's content; found and set aside below
            return self._write_one_by_one(rows)

    @staticmethod
    def _write_one_by_one(rows):
        done = []
        with connection(keep_sqlite_open=True):
            for row in rows:
                try:
                    InboundMessage.record_many([row])
                except (OperationalError, InterfaceError):
                    log.exception("writing delivery records failed; will retry")
                    break
                except Exception:  # noqa: BLE001 — this row only
                    log.exception("delivery record %r set aside: the database refused it", row[0][:200])
                done.append(row)
        return done

    def _drop_oldest_past_limit(self):
        with self._lock:
            excess = len(self._rows) - self.MAX_PENDING
            if excess <= 0:
                return []
            oldest = list(self._rows.values())[:excess]
        log.error("database unavailable: %d delivery records dropped (limit %d)", excess, self.MAX_PENDING)
        return oldest

    def _forget_other_database(self):
        """Rows kept for a database no longer in use (tests open one per test) are not written
        into the new one. Called with the lock held."""
        if self._database is db.obj:
            return
        if self._rows:
            log.warning("database switched: %d delivery records left unwritten", len(self._rows))
            self._rows.clear()
        self._database = db.obj

    def _start_writer(self):
        if self._writer_pid == process_id():
            return
        self._writer_pid = process_id()
        threading.Thread(target=self._write_forever, name="record-batch", daemon=True).start()
        atexit.register(self.flush)

    def _write_forever(self):
        """Write what a quiet moment leaves behind, and on PostgreSQL every full batch. On SQLite, under
        load, full batches are written by the requests that fill them (no thread switch per batch; the
        write is work of this process, not a wait)."""
        while True:
            with self._lock:
                while not self._rows:
                    self._due.wait()
            self._full.wait(self.seconds)
            self._full.clear()
            self.flush(wait=False)


InboundMessage.batch = RecordBatch()  # configured by handlers.wechat.endpoint.install
