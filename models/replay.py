"""已用随机数 — the record of signed requests already seen, so a signed URL cannot be used twice.

WeChat's `signature` covers only token, timestamp and nonce, not the message: anyone who saw one signed
URL could, within the replay window, post any message as any user. So each (timestamp, nonce) pair is
bound to the first body it came with. The same pair with the same body again is WeChat retrying a
delivery (it resends the identical request), and the delivery record answers it once; the same pair with
another body is a replay, refused.

The record is shared by every worker of the server: in Redis when REDIS_URL is configured, otherwise in
a small SQLite file beside the database (or a table of PostgreSQL's), kept for the replay window only.
"""
import hashlib
import os
import sqlite3
import threading
import time
from pathlib import Path

from models.database import db, execute_often, is_sqlite

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


class SqliteReplayRecord(ReplayRecord):
    """A file of its own next to the SQLite database: its write lock is not the database's, so claiming
    a nonce never waits for a handler's transaction. Losing the last seconds of it in a power cut only
    reopens the window for requests seen in those seconds, so it is written without fsync."""

    def __init__(self, window_seconds, path):
        super().__init__(window_seconds)
        self.path = str(path)
        self._local = threading.local()
        self._next_purge = 0.0

    def _connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=4, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("CREATE TABLE IF NOT EXISTS used_nonce (key TEXT PRIMARY KEY, digest TEXT NOT NULL, "
                         "seen REAL NOT NULL)")
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _put_if_absent(self, key, digest):
        conn, now = self._connection(), time.time()
        if now >= self._next_purge:
            self._next_purge = now + 60
            conn.execute("DELETE FROM used_nonce WHERE seen < ?", (now - self.window,))
        if conn.execute("INSERT INTO used_nonce VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                        (key, digest, now)).rowcount == 1:
            return None
        row = conn.execute("SELECT digest, seen FROM used_nonce WHERE key = ?", (key,)).fetchone()
        if row is None or row[1] < now - self.window:  # purged meanwhile, or a stale row not yet purged
            conn.execute("REPLACE INTO used_nonce VALUES (?, ?, ?)", (key, digest, now))
            return None
        return row[0]


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
    which only reopens the window for its last minutes)."""

    def _put_if_absent(self, key, digest):
        now = time.time()
        if now >= getattr(self, "_next_purge", 0):
            self._next_purge = now + 60
            db.execute_sql("DELETE FROM used_nonce WHERE seen < %s", (now - self.window,))
        # prepared once per session: it runs on every message (models/database.py execute_often)
        cursor = execute_often(
            "INSERT INTO used_nonce VALUES ({}, {}, {}) ON CONFLICT (key) DO UPDATE SET digest = EXCLUDED.digest, "
            "seen = EXCLUDED.seen WHERE used_nonce.seen < {} RETURNING 1", (key, digest, now, now - self.window))
        if cursor.fetchone() is not None:
            return None
        row = db.execute_sql("SELECT digest FROM used_nonce WHERE key = %s", (key,)).fetchone()
        return row[0] if row else None



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
    return SqliteReplayRecord(window, Path(path).with_name(Path(path).name + ".nonces"))
