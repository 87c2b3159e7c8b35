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

import logging

from peewee import BlobField, CharField, CompositeKey, DateTimeField, IntegerField

from models import merkle
from models.database import BaseModel, db, insert_rows, is_sqlite

log = logging.getLogger(__name__)
SCHEMA_VERSION = 1
CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "CST")
# Tables whose rows, once written, may never change (see install_append_only_triggers).
APPEND_ONLY_TABLES = ("ledger_entry", "enforcement_case", "tree_head", "ledger_node", "cosignature")


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


class LedgerNode(BaseModel):
    """The hash of one perfect subtree of the log — leaves [index * 2^level, (index + 1) * 2^level) —
    written with the leaf that completes it, so that a proof or a head reads O(log n) of these instead of
    every leaf (issue 19). Append-only like the entries; `verify` never trusts these, it recomputes the
    tree from the entries' bytes.

    Level 0 holds a second copy of each leaf hash, written with the entry (issue 16): proofs read leaves
    from ledger_entry, but `verify` holds each recomputed leaf against this copy, so an entry whose bytes
    and hash column were both rewritten is named at its own index, not only as a range between heads."""

    level = IntegerField()
    idx = IntegerField()
    hash = BlobField()

    class Meta:
        table_name = "ledger_node"
        primary_key = CompositeKey("level", "idx")


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
        insert_rows(LedgerEntry, [row])
        _store_nodes(seq + 1, leaf)
    return LedgerEntry(**row)


def _store_nodes(new_size, leaf):
    """Write the interior nodes the leaf just appended completes (one per trailing one bit of its
    index: on average one), each from its stored left sibling and the node just computed."""
    completed = merkle.appended_nodes(new_size)
    rows, right = [{"level": 0, "idx": new_size - 1, "hash": leaf}], leaf
    left = nodes([(height - 1, 2 * index) for height, index in completed]) if completed else {}
    for height, index in completed:
        right = merkle.node_hash(left[height - 1, 2 * index], right)
        rows.append({"level": height, "idx": index, "hash": right})
    insert_rows(LedgerNode, rows)


def nodes(keys):
    """{(height, index): hash} of the perfect subtrees asked for: leaves from ledger_entry, interior nodes
    from ledger_node, in at most two queries. A node that is not stored (entries written around
    `append`) is computed from its leaves, and a warning says so; a missing leaf raises LookupError."""
    keys = list(dict.fromkeys(keys))
    found = {}
    leaves = [index for height, index in keys if height == 0]
    if leaves:
        marks = ", ".join([db.param] * len(leaves))
        for seq, value in db.execute_sql(f"SELECT seq, leaf_hash FROM ledger_entry WHERE seq IN ({marks})", leaves):
            found[0, seq] = bytes(value)
    inner = {}
    for height, index in keys:
        if height:  # level 0 is read from ledger_entry, whose leaf hash proofs have always used
            inner.setdefault(height, []).append(index)
    if inner:
        clauses, params = [], []
        for height, indexes in inner.items():
            clauses.append(f"(level = {db.param} AND idx IN ({', '.join([db.param] * len(indexes))}))")
            params += [height, *indexes]
        for level, idx, value in db.execute_sql(f"SELECT level, idx, hash FROM ledger_node WHERE {' OR '.join(clauses)}",
                                                params):
            found[level, idx] = bytes(value)
    for height, index in keys:
        if (height, index) in found:
            continue
        if height == 0:
            raise LookupError(f"ledger entry {index} is missing")
        log.warning("ledger node (%s, %s) not stored; computing it from its leaves", height, index)
        lo = index << height
        hashes = leaf_hashes_between(lo, lo + (1 << height))
        if len(hashes) != 1 << height:
            raise LookupError(f"ledger entries {lo}..{lo + (1 << height) - 1} are not all there")
        found[height, index] = merkle.root_from_hashes(hashes)
    return found


def complete_nodes(batch=1000):
    """Store every interior node the stored leaves complete and ledger_node lacks: for entries loaded
    in bulk around `append` (bench/ledger_bench.py). O(n); returns how many were added."""
    levels = merkle.Levels(leaf_hashes())
    have = {(level, idx) for level, idx in db.execute_sql("SELECT level, idx FROM ledger_node")}
    rows = [{"level": h, "idx": i, "hash": value} for h in range(len(levels.levels))
            for i, value in enumerate(levels.levels[h]) if (h, i) not in have]
    with db.atomic():
        for start in range(0, len(rows), batch):
            LedgerNode.insert_many(rows[start:start + batch]).execute()
    return len(rows)


def tree(leaves=None):
    """The log's first `leaves` leaves (default: all) as a merkle.Nodes: roots, audit paths, consistency
    proofs and the right edge, each from O(log n) stored hashes."""
    return merkle.Nodes(size() if leaves is None else leaves, nodes)


def leaf_hashes_between(lo, hi):
    return [bytes(row[0]) for row in db.execute_sql(
        f"SELECT leaf_hash FROM ledger_entry WHERE seq >= {db.param} AND seq < {db.param} ORDER BY seq", (lo, hi))]


def entries(case_no=None):
    query = LedgerEntry.select().order_by(LedgerEntry.seq)
    if case_no is not None:
        query = query.where(LedgerEntry.case_no == case_no)
    return list(query)


def leaf_hashes(limit=None):
    """Stored leaf hashes in order (the from-scratch reference the stored nodes are tested against;
    `verify` recomputes them from the bodies instead)."""
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
