"""已用随机数 — the record of signed requests already seen, so a signed URL cannot be used twice.

WeChat's `signature` covers only token, timestamp and nonce, not the message: anyone who saw one signed
URL could, within the replay window, post any message as any user. So each (timestamp, nonce) pair is
bound to the first body it came with. The same pair with the same body again is WeChat retrying a
delivery (it resends the identical request), and the delivery record answers it once; the same pair with
another body is a replay, refused.

The record is shared by every worker of the server: in Redis when REDIS_URL is configured, otherwise in
append-only files beside the SQLite database (or a table of PostgreSQL's), kept for the replay window only.
"""
import contextlib
import hashlib
import os
import threading
import time
from pathlib import Path

from models.database import db, execute_often, is_sqlite, taking_turns

# WeChat's nonce is a short decimal number; anything longer is not WeChat's.
MAX_NONCE_LENGTH = 64


def body_digest(body):
    return hashlib.sha256(body).hexdigest()


FIRST, REPEAT, REFUSED = "first", "repeat", None


class ReplayRecord:
    """`claim(timestamp, nonce, body)`: FIRST for the first use of the pair, REPEAT for an identical
    retry (WeChat delivering again: its answer is the first delivery's), REFUSED (falsy) for the pair
    used with another body or a nonce that is not WeChat's."""

    def __init__(self, window_seconds):
        self.window = int(window_seconds) * 2  # a timestamp may be `window` early or late

    def pending(self, timestamp, nonce, body):
        """The claim, or — where it can ride along with the delivery's first look at the database
        (PostgreSQL) — a PendingClaim for InboundMessage.first_look to settle in the same statement."""
        return self.claim(timestamp, nonce, body)

    def claim(self, timestamp, nonce, body):
        if not nonce or len(nonce) > MAX_NONCE_LENGTH:
            return REFUSED
        digest = body_digest(body)
        first = self._put_if_absent(f"{timestamp}:{nonce}", digest)
        if first is None:
            return FIRST
        return REPEAT if first == digest else REFUSED

    def _put_if_absent(self, key, digest):
        """Store `digest` under `key` unless present; return the digest stored before, or None."""
        raise NotImplementedError


class RedisReplayRecord(ReplayRecord):
    """SET NX with an expiry: one round trip for a new pair, two for a retry."""

    def __init__(self, window_seconds, client, prefix="sanxiang"):
        super().__init__(window_seconds)
        self.client, self.prefix = client, prefix

    def _put_if_absent(self, key, digest):
        key = f"{self.prefix}:nonce:{key}"
        if self.client.set(key, digest, nx=True, ex=self.window):
            return None
        stored = self.client.get(key)
        return stored.decode() if stored is not None else None


class FileReplayRecord(ReplayRecord):
    """SQLite deployments: append-only files in a folder beside the database, one per `window` of time.

    Every worker appends its claims ("<digest> <key>" lines) in turn (database.taking_turns) and, before
    deciding, reads what the others appended since its last look, so each keeps the same set in memory.
    A claim is then a lock, one read and one write: a SQLite side file took five times the system calls
    and twice the time (make bench). Files older than the previous window are deleted; an entry kept
    longer than `window` does no harm, as a request that old is refused for its timestamp. Written
    without fsync: a power cut only reopens the window for the requests of its last seconds.
    """

    # Read in pieces this big: os.pread allocates the whole buffer first, and a MiB of it cost a claim up to
    # 15 µs (malloc's mmap and munmap) where the new lines since the last look are a few hundred bytes.
    CHUNK = 1 << 16

    def __init__(self, window_seconds, folder):
        super().__init__(window_seconds)
        self.folder = Path(folder)
        self._turn = str(self.folder) + ".turn"
        self._periods = {}  # period number -> [descriptor, bytes read, {key: digest}]

    def _put_if_absent(self, key, digest):
        if "\n" in key or "\r" in key:
            return "a key that cannot be a line"  # not WeChat's: refused, as another body would be
        with taking_turns(self._turn):
            period = int(time.time() // self.window)
            if period not in self._periods:
                self._keep_only(period - 1, period)
                self._catch_up(period - 1)  # once: from now on every worker appends to this period's
            self._catch_up(period)
            for number in (period, period - 1):
                first = self._periods[number][2].get(key)
                if first is not None:
                    return first
            descriptor, _, seen = self._periods[period]
            os.write(descriptor, f"{digest} {key}\n".encode())  # O_APPEND: after the others' lines
            seen[key] = digest
            return None

    def _keep_only(self, *numbers):
        for number in [n for n in self._periods if n not in numbers]:
            os.close(self._periods.pop(number)[0])
            with contextlib.suppress(FileNotFoundError):
                (self.folder / f"{number}.log").unlink()
        for number in numbers:
            if number not in self._periods:
                self.folder.mkdir(parents=True, exist_ok=True)
                descriptor = os.open(self.folder / f"{number}.log", os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
                self._periods[number] = [descriptor, 0, {}]

    def _catch_up(self, number):
        """Read the lines appended to period `number`'s file since the last look (whole lines only)."""
        state = self._periods[number]
        while True:
            data = os.pread(state[0], self.CHUNK, state[1])
            complete = data[:data.rfind(b"\n") + 1]
            for line in complete.decode("utf-8", "replace").splitlines():
                digest, _, key = line.partition(" ")
                state[2].setdefault(key, digest)
            state[1] += len(complete)
            if len(data) < self.CHUNK or not complete:
                return


class MemoryReplayRecord(ReplayRecord):
    """One process only: for an in-memory database (tests), where there is no file to share."""

    def __init__(self, window_seconds):
        super().__init__(window_seconds)
        self._seen, self._lock = {}, threading.Lock()

    def _put_if_absent(self, key, digest):
        now = time.time()
        with self._lock:
            if len(self._seen) > 100_000:
                self._seen = {k: v for k, v in self._seen.items() if v[1] >= now - self.window}
            first = self._seen.get(key)
            if first is not None and first[1] >= now - self.window:
                return first[0]
            self._seen[key] = (digest, now)
            return None


class PostgresReplayRecord(ReplayRecord):
    """PostgreSQL without Redis: an unlogged table (not written to the WAL; emptied after a crash,
    which only reopens the window for its last minutes).

    On /wechat the claim rides along with the delivery's first look at the database (`pending`,
    InboundMessage.first_look): one round trip to the server per message instead of two, which is
    what a message costs PostgreSQL most (make bench, issue 20)."""

    # The row stays if it is younger than the window; a stale one is taken over.
    INSERT = ("INSERT INTO used_nonce VALUES ({}, {}, {}) ON CONFLICT (key) DO UPDATE SET digest = EXCLUDED.digest, "
              "seen = EXCLUDED.seen WHERE used_nonce.seen < {} RETURNING 1")

    def pending(self, timestamp, nonce, body):
        if not nonce or len(nonce) > MAX_NONCE_LENGTH:
            return REFUSED
        self._purge_now_and_then()
        return PendingClaim(self, f"{timestamp}:{nonce}", body_digest(body), time.time())

    def _purge_now_and_then(self):
        now = time.time()
        if now >= getattr(self, "_next_purge", 0):
            self._next_purge = now + 60
            db.execute_sql("DELETE FROM used_nonce WHERE seen < %s", (now - self.window,))

    def _put_if_absent(self, key, digest):
        self._purge_now_and_then()
        now = time.time()
        # prepared once per session: it runs on every message (models/database.py execute_often)
        cursor = execute_often(self.INSERT, (key, digest, now, now - self.window))
        if cursor.fetchone() is not None:
            return None
        row = db.execute_sql("SELECT digest FROM used_nonce WHERE key = %s", (key,)).fetchone()
        return row[0] if row else None


class PendingClaim:
    """A PostgreSQL claim to be made inside another statement: `prefix` (a WITH clause inserting the
    row) goes before it, `columns` into its SELECT list, and `settle` reads those columns' values.
    `outcome` is FIRST, REPEAT or REFUSED once settled."""

    prefix = f"WITH claimed AS ({PostgresReplayRecord.INSERT}) "
    # Whether the row was inserted only. A pair seen before (WeChat's retry, or a replay) is looked up
    # by settle_alone: asking for the stored digest in every message's statement cost the server one
    # more index lookup per message for what almost never happens (make bench, issue 20).
    columns = ("(SELECT count(*) FROM claimed)",)
    column_params = ()

    def __init__(self, record, key, digest, now):
        self.record, self.key, self.digest = record, key, digest
        self.prefix_params = (key, digest, now, now - record.window)
        self.outcome = None

    def settle(self, inserted, stored_digest=None):
        """`stored_digest`, if given, is what the statement's snapshot held; without it, or when it is
        None (a row another request committed while this statement ran is not in its snapshot), the
        row is asked for again."""
        if inserted:
            self.outcome = FIRST
            return self.outcome
        if stored_digest is None:
            self.settle_alone()
            return self.outcome
        self.outcome = REPEAT if stored_digest == self.digest else REFUSED
        return self.outcome

    def settle_alone(self):
        """The claim in a statement of its own (where the first look did not need the database)."""
        first = self.record._put_if_absent(self.key, self.digest)  # noqa: SLF001 — the same record
        self.outcome = FIRST if first is None else REPEAT if first == self.digest else REFUSED
        return self.outcome



def replay_record(config, redis_client=None):
    """The record for this deployment: Redis if configured, else beside (or in) the database."""
    window = config["wechat"]["replay_window_seconds"]
    if redis_client is not None:
        return RedisReplayRecord(window, redis_client, config["redis"].get("prefix") or "sanxiang")
    if not is_sqlite():
        return PostgresReplayRecord(window)  # its table: models/migrations/0007_used_nonce.py
    path = db.obj.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return MemoryReplayRecord(window)
    return FileReplayRecord(window, Path(path).with_name(Path(path).name + ".nonces.d"))
