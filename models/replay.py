"""已用随机数 — the record of signed requests already seen, so a signed URL cannot be used twice.

WeChat's `signature` covers only token, timestamp and nonce, not the message: anyone who saw one signed
URL could, within the replay window, post any message as any user. So each (timestamp, nonce) pair is
bound to the first body it came with. The same pair with the same body again is WeChat retrying a
delivery (it resends the identical request), and the delivery record answers it once; the same pair with
another body is a replay, refused.

The record is shared by every worker of the server, kept for the replay window only. By default
(`wechat.replay_record: files`, one server) it is append-only files beside the SQLite database or under
var/replay/ (PostgreSQL), which also remember, for the same cost, which deliveries this server has seen and
which users may be in a dialogue (`check_in`): a new message from a user in no dialogue is then answered
without asking the database anything first. With `replay_record: shared` (several servers behind one
address) it is Redis when REDIS_URL is configured, else a table of PostgreSQL's.
"""
import contextlib
import hashlib
import os
import threading
import time
from pathlib import Path

from models.database import db, execute_often, is_sqlite, taking_turns
from models.treehead import resolve
from settings import resolve_database_url

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

    def check_in(self, timestamp, nonce, body, delivery_key, openid):
        """(the claim as `pending` makes it, whether the delivery is known to be new): new means that no
        reply can be stored for `delivery_key` and that `openid` has no row a hook claims messages by, so
        the database need not be asked. Only a record that remembers both can say so (FileReplayRecord)."""
        return self.pending(timestamp, nonce, body), False

    def may_have_rows(self, openid):
        """Called before a message that may write (a complaint dialogue may begin): from now on
        check_in does not call this user's deliveries new."""

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
    """One server: append-only files in a folder, one per `window` of time, shared by its workers.

    Every worker appends its claims in turn (database.taking_turns) and, before deciding, reads what the
    others appended since its last look, so each keeps the same sets in memory. A claim is then a lock,
    one read and one write: a SQLite side file took five times the system calls and twice the time (make
    bench). Files older than the previous window are deleted; an entry kept longer than `window` does no
    harm, as a request that old is refused for its timestamp. Written without fsync: a power cut only
    reopens the window for the requests of its last seconds.

    The lines are "<digest> <pair>" (the claim alone, as written before `check_in`), "+<digest> <delivery>
    <pair>" (a claim and a hash of its delivery key) and "@<openid>" (a user who may have a row a hook claims
    messages by: one who sent a message that may write, or who had such a row when the period began). So
    `check_in` knows, with no round trip to the database, that a delivery is the first of its key and its
    user is in no dialogue — the common case, where the database's answer is known to be "nothing": on
    PostgreSQL that question was a third of a message's cost (make bench, issue 20).

    Why a user in a dialogue is never missed: `may_have_rows` appends the mark before the message that
    may open the dialogue is answered, and the workers read it before deciding; when a worker enters a new
    period it marks again everyone who has such a row (`users_with_rows`), and a worker reads the marks of
    the previous period as well as the current one. A mark lasts at least one whole period (600 s), longer
    than any transaction, so a row committed after a period began is seen marked until the next period's
    seeding finds it. A mark for a user with no row (the dialogue ended) only sends their messages the
    usual way, through the database.
    """

    # Read in pieces this big: os.pread allocates the whole buffer first, and a MiB of it cost a claim up to
    # 15 µs (malloc's mmap and munmap) where the new lines since the last look are a few hundred bytes.
    CHUNK = 1 << 16

    def __init__(self, window_seconds, folder, users_with_rows=None):
        super().__init__(window_seconds)
        self.folder = Path(folder)
        self.folder.parent.mkdir(parents=True, exist_ok=True)  # for the lock file beside the folder
        self._turn = str(self.folder) + ".turn"
        self._periods = {}  # period number -> _Period
        # () -> the openids that have a row some hook claims messages by; None: check_in never says "new"
        self.users_with_rows = users_with_rows

    def _put_if_absent(self, key, digest):
        first, _, _ = self._settle(key, digest)
        return first

    def check_in(self, timestamp, nonce, body, delivery_key, openid):
        if not nonce or len(nonce) > MAX_NONCE_LENGTH:
            return REFUSED, False
        digest = body_digest(body)
        first, seen, marked = self._settle(f"{timestamp}:{nonce}", digest, delivery_hash(delivery_key), openid)
        claim = FIRST if first is None else REPEAT if first == digest else REFUSED
        return claim, claim == FIRST and not seen and not marked and self.users_with_rows is not None

    def may_have_rows(self, openid):
        if "\n" in openid or "\r" in openid:
            return
        with taking_turns(self._turn):
            current = self._catch_up_now()
            if openid not in current.users:
                self._append(current, f"@{openid}\n")

    def _settle(self, key, digest, delivery=None, openid=None):
        """Claim `key` for `digest` (noting `delivery` with it); return (the digest stored before or None,
        whether `delivery` was noted before, whether `openid` is marked)."""
        if "\n" in key or "\r" in key:
            return "a key that cannot be a line", True, True  # not WeChat's: refused, as another body would be
        with taking_turns(self._turn):
            current = self._catch_up_now()
            previous = self._periods.get(current.number - 1)
            periods = (current, previous) if previous is not None else (current,)
            for period in periods:
                first = period.claims.get(key)
                if first is not None:
                    return first, True, True
            seen = delivery is not None and any(delivery in period.deliveries for period in periods)
            marked = (openid is not None and not current.seeded) or any(openid in period.users for period in periods)
            line = f"+{digest} {delivery} {key}\n" if delivery is not None else f"{digest} {key}\n"
            self._append(current, line)
            return None, seen, marked

    def _catch_up_now(self):
        """The current period, with every line the workers appended to it and the previous one read."""
        number = int(time.time() // self.window)
        if number not in self._periods:
            self._keep_only(number - 1, number)
            self._catch_up(self._periods[number - 1])  # once: from now on every worker appends to this period's
        current = self._periods[number]
        self._catch_up(current)
        if not current.seeded:
            self._seed(current)
        return current

    def _seed(self, period):
        """Mark everyone who has a row a hook claims messages by (see the class). If the database cannot
        say, the period stays unseeded and every user counts as marked until it can."""
        if self.users_with_rows is None:
            return
        try:
            openids = set(self.users_with_rows())
        except Exception:  # noqa: BLE001 — the database away: check_in sends everyone the usual way
            return
        lines = "".join(f"@{openid}\n" for openid in openids - period.users if "\n" not in openid)
        if lines:
            self._append(period, lines)
        period.seeded = True

    def _append(self, period, text):
        os.write(period.descriptor, text.encode())  # O_APPEND: after the others' lines
        period.read(text)  # what this worker wrote is read again at its next catch-up, harmlessly

    def _keep_only(self, *numbers):
        for number in [n for n in self._periods if n not in numbers]:
            os.close(self._periods.pop(number).descriptor)
            with contextlib.suppress(FileNotFoundError):
                (self.folder / f"{number}.log").unlink()
        for number in numbers:
            if number not in self._periods:
                self.folder.mkdir(parents=True, exist_ok=True)
                descriptor = os.open(self.folder / f"{number}.log", os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
                self._periods[number] = _Period(number, descriptor)

    def _catch_up(self, period):
        """Read the lines appended to `period`'s file since the last look (whole lines only)."""
        while True:
            data = os.pread(period.descriptor, self.CHUNK, period.offset)
            complete = data[:data.rfind(b"\n") + 1]
            period.read(complete.decode("utf-8", "replace"))
            period.offset += len(complete)
            if len(data) < self.CHUNK or not complete:
                return


class _Period:
    """What one period's file of a FileReplayRecord holds, as far as this worker has read it."""

    def __init__(self, number, descriptor):
        self.number, self.descriptor, self.offset = number, descriptor, 0
        self.claims = {}  # "<timestamp>:<nonce>" -> digest of the first body
        self.deliveries = set()  # delivery_hash of the claims' delivery keys
        self.users = set()  # openids marked
        self.seeded = False  # whether this worker marked the users with rows in this period (_seed)

    def read(self, text):
        # Lines end at "\n" only: splitlines() would also cut a line at \r, \x85 or \u2028 in a nonce.
        for line in text.split("\n"):
            if not line:
                continue
            if line.startswith("@"):
                self.users.add(line[1:])
            elif line.startswith("+"):
                digest, _, rest = line[1:].partition(" ")
                delivery, _, key = rest.partition(" ")
                self.claims.setdefault(key, digest)
                self.deliveries.add(delivery)
            else:
                digest, _, key = line.partition(" ")
                self.claims.setdefault(key, digest)


def delivery_hash(delivery_key):
    """A short fixed form of a delivery key for a line of the record (an event's key may hold spaces). Two
    keys alike by chance would only send the second the usual way, through the database."""
    if delivery_key is None:
        return None
    return hashlib.blake2b(delivery_key.encode(), digest_size=8).hexdigest()


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



def replay_record(config, redis_client=None, users_with_rows=None):
    """The record for this deployment (`wechat.replay_record`): `files` (the default: one server, its
    workers sharing a folder) or `shared` (several servers: Redis if configured, else PostgreSQL's table).
    An in-memory SQLite database (tests) keeps it in memory. `users_with_rows`: see FileReplayRecord."""
    wechat = config["wechat"]
    window = wechat["replay_window_seconds"]
    path = db.obj.database if is_sqlite() else ""
    if is_sqlite() and (not path or path == ":memory:" or path.startswith("file:")):
        return MemoryReplayRecord(window)
    if (wechat.get("replay_record") or "files") == "shared":
        if redis_client is not None:
            return RedisReplayRecord(window, redis_client, config["redis"].get("prefix") or "sanxiang")
        if not is_sqlite():
            return PostgresReplayRecord(window)  # its table: models/migrations/0007_used_nonce.py
    return FileReplayRecord(window, record_folder(config), users_with_rows)


def record_folder(config):
    """wechat.replay_record_path, else beside the SQLite file, else var/replay/<a digest of the database's
    address> (one record per database, so a test's or a scratch database's never meets the real one's)."""
    if config["wechat"].get("replay_record_path"):
        return resolve(config["wechat"]["replay_record_path"])
    if is_sqlite():
        path = Path(db.obj.database)
        return path.with_name(path.name + ".nonces.d")
    url = resolve_database_url(config["database"]["url"])
    return resolve("var/replay") / hashlib.blake2b(url.encode(), digest_size=8).hexdigest()
