"""全过程记录 — the append-only log every case-file entry is written to.

Each entry is a leaf of one RFC 6962 Merkle tree (models/merkle.py) over its canonical bytes: JSON with
sorted keys, no spaces, UTF-8, integers and strings only. The bytes are stored as they were hashed, the
hash algorithm beside them. Three things keep the log append-only:

1. this module is the only writer, and it has no update or delete path (a correction is a new entry
   that names the one it corrects — see models/cases.py);
2. database triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on the log tables;
3. signed tree heads (models/treehead.py) are published outside the database, so even someone who
   drops the triggers cannot change an entry without `python bot.py verify` noticing and naming it.
"""
import datetime as dt
import json

from peewee import BlobField, CharField, DateTimeField, IntegerField

from models import merkle
from models.database import BaseModel, db, is_sqlite

SCHEMA_VERSION = 1
CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "CST")
# Tables whose rows, once written, may never change (see install_append_only_triggers).
APPEND_ONLY_TABLES = ("ledger_entry", "enforcement_case", "tree_head")


class LedgerError(ValueError):
    """An entry that may not be written; the message is Chinese and says what to fix."""


class LedgerEntry(BaseModel):
    """One leaf of the log. `body` is authoritative; the other columns are copies kept for lookups."""

    seq = IntegerField(primary_key=True)  # leaf index, 0-based, gapless
    case_no = CharField(null=True, index=True)
    kind = CharField()
    step = CharField(default="")
    body = BlobField()
    leaf_hash = BlobField()
    alg = CharField(default="sha256")
    recorded_at = DateTimeField()

    class Meta:
        table_name = "ledger_entry"

    @classmethod
    def by_seq(cls, seq):
        """The entry with leaf index `seq`, or None (also for anything that is not a whole number)."""
        try:
            seq = int(seq)
        except (TypeError, ValueError):
            return None
        if not 0 <= seq < 2**62:  # beyond any integer column: no such entry, not an overflow
            return None
        return cls.get_or_none(cls.seq == seq)

    @property
    def content(self):
        """The entry as recorded (parsed from its canonical bytes)."""
        return json.loads(bytes(self.body))

    @property
    def leaf_hash_hex(self):
        return bytes(self.leaf_hash).hex()


def canonical_bytes(obj):
    """Canonical JSON: sorted keys, no insignificant whitespace, UTF-8; floats refused (no one form)."""
    _check_canonical(obj)
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _check_canonical(obj, path="$"):
    if isinstance(obj, float):
        raise LedgerError(f"记录中不能使用小数（{path}），金额请以元或分为整数记录。")
    if isinstance(obj, dict):
        for key, value in obj.items():
            if not isinstance(key, str):
                raise LedgerError(f"记录字段名必须是文字（{path}）。")
            _check_canonical(value, f"{path}.{key}")
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            _check_canonical(value, f"{path}[{i}]")
    elif not (obj is None or isinstance(obj, (str, int, bool))):
        raise LedgerError(f"记录中有无法保存的值（{path}）。")


def now():
    return dt.datetime.now(CHINA_TZ).replace(microsecond=0)


def writing():
    """A transaction holding the log's write lock, so the next leaf index is ours alone.

    SQLite: BEGIN IMMEDIATE takes the write lock before we read. PostgreSQL: a transaction-scoped
    advisory lock (the key is RFC 6962's number), which every writer of the log takes first.
    """
    if is_sqlite():
        return db.atomic(lock_type="IMMEDIATE") if not db.in_transaction() else db.atomic()
    return _PgWriting()


class _PgWriting:
    def __enter__(self):
        self._tx = db.atomic()
        self._tx.__enter__()
        db.execute_sql("SELECT pg_advisory_xact_lock(6962)")
        return self._tx

    def __exit__(self, *exc):
        return self._tx.__exit__(*exc)


def size():
    """How many entries the log holds (= the next leaf index when nothing is missing)."""
    value = db.execute_sql("SELECT MAX(seq) FROM ledger_entry").fetchone()[0]
    return 0 if value is None else value + 1


def append(kind, data, *, case_no=None, step="", by="", corrects=None, at=None, alg="sha256"):
    """Write one entry at the end of the log and return it. Call inside `writing()` when the
    decision to write depends on what the log already holds (models/cases.py does)."""
    if alg not in merkle.ALGORITHMS:
        raise LedgerError(f"不支持的哈希算法：{alg}")
    at = at or now()
    with writing():
        seq = size()
        content = {"v": SCHEMA_VERSION, "seq": seq, "kind": kind, "case": case_no, "step": step,
                   "by": by, "at": at.isoformat(), "alg": alg, "data": data}
        if corrects is not None:
            content["corrects"] = corrects
        body = canonical_bytes(content)
        leaf = merkle.leaf_hash(body, alg)
        row = dict(seq=seq, case_no=case_no, kind=kind, step=step, body=body, leaf_hash=leaf, alg=alg,
                   recorded_at=at.replace(tzinfo=None))
        LedgerEntry.insert(**row).execute()
    return LedgerEntry(**row)


def entries(case_no=None):
    query = LedgerEntry.select().order_by(LedgerEntry.seq)
    if case_no is not None:
        query = query.where(LedgerEntry.case_no == case_no)
    return list(query)


def leaf_hashes(limit=None):
    """Stored leaf hashes in order (for serving proofs; `verify` recomputes them instead)."""
    sql = "SELECT leaf_hash FROM ledger_entry ORDER BY seq"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [bytes(row[0]) for row in db.execute_sql(sql)]


def install_append_only_triggers():
    """Refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on the log tables, at the database."""
    for table in APPEND_ONLY_TABLES:
        for statement in (_sqlite_triggers(table) if is_sqlite() else _pg_triggers(table)):
            db.execute_sql(statement)


def _sqlite_triggers(table):
    return [f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END"
            for op in ("UPDATE", "DELETE")]


def _pg_triggers(table):
    # The function lives in the current schema (tests run each in a schema of their own).
    return [
        """CREATE OR REPLACE FUNCTION sanxiang_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN RAISE EXCEPTION '%% is append-only: %% refused', TG_TABLE_NAME, TG_OP; END $$""",  # %% for psycopg2
        f"CREATE OR REPLACE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION sanxiang_append_only()",
        f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION sanxiang_append_only()",
    ]
