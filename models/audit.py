"""`python bot.py verify`: recompute the whole log from the database and hold it against every published
head. Nothing here trusts the database's own hash columns: each leaf is rehashed from its bytes.

What it finds, and how it names the entry:
- an entry whose bytes changed: its rehash differs from the stored leaf hash → that entry; if the
  stored hash was forged too, the first published head it breaks bounds it to a range of entries;
- an entry deleted: a gap in the leaf indexes → the missing index; the last ones deleted: a published
  head larger than the log → the first missing index;
- entries swapped or moved: every entry's bytes carry its own index → the first entry out of place;
- a published head the log no longer extends (or a forged head): named with its size and time;
- an evidence file that changed or vanished under var/: named with its entry.

The common case, nothing wrong, takes a fast path (`fast_scan`); at the first thing out of the
ordinary the log is read again row by row (`scan`), which names every problem.

`verify_appended` is the incremental check (issue 19): given the compact range of a tree already
checked (by a previous run of `verify`, or by the last signed head before a new one is signed), it
rehashes only the entries appended since and holds the later heads against the roots they lead to;
of what is kept beside the log it checks the triggers and the index rows of the cases opened since
(a row of an older case edited behind the triggers is named by the full check, `bot.py verify`).
"""
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from itertools import repeat
from operator import add, itemgetter

from models import ledger, merkle
from models.database import db, is_sqlite

SEQ_MARK = b',"seq":'
HEX64 = re.compile(r"[0-9a-f]{64}")
HASH_MISMATCH = "：内容被改动。"


@dataclass
class Problem:
    seq: object  # the first entry concerned (int), or None for a problem with a head
    message: str
    exact: bool = True  # False: only a range is known (a head broken by entries whose hash was forged too)


@dataclass
class Report:
    entries: int = 0
    heads_checked: int = 0
    files_checked: int = 0
    root: str = ""
    problems: list = field(default_factory=list)
    right_edge: list = field(default_factory=list)  # hex hashes of merkle.subtrees(0, entries)
    covered: int = 0  # the largest size of a published head that matched the recomputed tree

    @property
    def ok(self):
        return not self.problems

    def first_bad_entry(self):
        exact = [p.seq for p in self.problems if p.seq is not None and p.exact]
        ranged = [p.seq for p in self.problems if p.seq is not None]
        return min(exact or ranged) if ranged else None


def body_seq(body):
    """The index an entry's own bytes claim. Canonical JSON sorts keys, so the top-level "seq" is the
    last one: every key after it ("step", "v") holds a string or a number, never an object."""
    at = body.rfind(SEQ_MARK)
    if at < 0:
        return None
    start = at + len(SEQ_MARK)
    end = start
    while end < len(body) and 48 <= body[end] <= 57:
        end += 1
    return int(body[start:end]) if end > start else None


def scan(rows, report, start=0):
    """Check each (seq, body, stored leaf hash, alg) row in order; return recomputed leaf hashes.

    This loop is the cost of `verify` (make bench): locals bound once, the common case inline."""
    sha256 = hashlib.sha256
    hashes = []
    append = hashes.append
    mark, mark_len = SEQ_MARK, len(SEQ_MARK)
    expected = start
    for seq, body, stored, row_alg in rows:
        if not isinstance(body, bytes) or not isinstance(seq, int) or row_alg != "sha256":
            seq, body, stored, row_alg = _odd_row(report, seq, body, stored, row_alg, expected)
        leaf = sha256(b"\x00" + body).digest() if row_alg == "sha256" else merkle.leaf_hash(body, row_alg)
        # The entry's own index follows its last "seq" key (see body_seq), then a comma.
        if seq != expected or leaf != stored or not body.startswith(b"%d," % seq, body.rfind(mark) + mark_len):
            _row_problems(report, seq, expected, body, leaf, stored)
            expected = seq
        append(leaf)
        expected += 1
    return hashes


def _as_bytes(value):
    """bytes of a BLOB as the driver returns it, or None for a value of any other type."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return None


def _odd_row(report, seq, body, stored, alg, expected):
    """A row that is not (int, bytes, bytes, known algorithm): name its entry, never crash (issue 16).

    A body stored as text is hashed as its UTF-8 bytes (what it most likely was), so the tree and the heads
    can still be checked; the wrong type itself is reported."""
    if not isinstance(seq, int) or isinstance(seq, bool):
        try:
            seq = int(seq)
        except (TypeError, ValueError):
            report.problems.append(Problem(expected, f"第{expected}条位置上的记录序号“{seq!r:.40}”不是整数：记录被改动。"))
            seq = expected
    raw = _as_bytes(body)
    if raw is None:
        kind = type(body).__name__
        report.problems.append(Problem(seq, f"第{seq}条记录的内容不是字节串（存成了{kind}）：记录在记录系统之外被改动。"))
        raw = body.encode("utf-8", "replace") if isinstance(body, str) else str(body).encode("utf-8", "replace")
    if alg not in merkle.ALGORITHMS:
        if alg is not None and _as_bytes(stored) is not None:
            report.problems.append(Problem(seq, f"第{seq}条记录的哈希算法“{alg!r:.20}”无法识别：记录被改动。"))
        alg = "sha256"
    return seq, raw, stored, alg


def fast_scan(batch=1000):  # small batches stay in the CPU cache: faster than 10,000 (make bench)
    """The leaf hashes of an untouched log of SHA-256 entries, or None if anything is out of the ordinary.

    Checks what `scan` checks for such a log — indexes 0..n-1 without a gap, each body rehashed equal to
    its stored leaf hash, each body naming its own index — in a few C-level passes per batch instead
    of one Python loop per entry: reading seq and alg per row costs as much as hashing (make bench).
    An entry of another algorithm does not hash to its stored leaf under SHA-256, so it too sends
    `verify` to the row-by-row scan. (The alg column, like case_no, kind and step, is a copy of what
    the body itself records; the body is what is hashed and signed.)
    """
    # MIN and MAX of the primary key cost a lookup each, COUNT(*) a scan: seq is unique, so reading
    # high + 1 rows at seq 0..high below means none is missing.
    low, high = db.execute_sql("SELECT MIN(seq), MAX(seq) FROM ledger_entry").fetchone()
    if high is None:
        return []
    if low != 0:
        return None
    count = high + 1
    cursor = db.execute_sql(f"SELECT body, leaf_hash FROM ledger_entry WHERE seq <= {db.param} ORDER BY seq",
                            (high,))
    leaf = hashlib.sha256(merkle.LEAF_PREFIX).copy  # cheaper than hashing LEAF_PREFIX + body afresh
    mark, skip = SEQ_MARK, len(SEQ_MARK)
    first, second = itemgetter(0), itemgetter(1)
    hashes = []
    while True:
        chunk = cursor.fetchmany(batch)
        if not chunk:
            break
        bodies, stored = list(map(first, chunk)), list(map(second, chunk))
        if not isinstance(bodies[0], bytes):
            # psycopg2 returns memoryviews, which do not compare equal to bytes
            try:
                bodies, stored = list(map(bytes, bodies)), list(map(bytes, stored))
            except TypeError:
                return None  # a value of another type: the row-by-row scan names it
        try:
            leaves = [(h := leaf()).update(body) or h.digest() for body in bodies]
        except TypeError:
            return None
        if leaves != stored:
            return None
        start = len(hashes)
        # The index each body names follows its last ',"seq":' (see body_seq), then a comma.
        claims = map(b"%d,".__mod__, range(start, start + len(bodies)))
        try:
            if not all(map(bytes.startswith, bodies, claims, map(add, map(bytes.rfind, bodies, repeat(mark)), repeat(skip)))):
                return None
        except TypeError:  # a text body among bytes ones
            return None
        hashes += leaves
    return hashes if len(hashes) == count else None


def _row_problems(report, seq, expected, body, leaf, stored):
    if seq > expected:
        missing = f"第{expected}条" if seq == expected + 1 else f"第{expected}至{seq - 1}条"
        report.problems.append(Problem(expected, f"{missing}记录缺失（被删除）。"))
    elif seq < expected:
        report.problems.append(Problem(seq, f"第{seq}条记录重复出现。"))
    claimed = body_seq(body) if isinstance(body, bytes) else None
    if claimed != seq:
        report.problems.append(Problem(seq, f"第{seq}条位置上的记录内容自称第{claimed}条：记录被调换或移动。"))
    if _as_bytes(stored) is None:
        report.problems.append(Problem(seq, f"第{seq}条记录的哈希列不是字节串（存成了{type(stored).__name__}）：记录被改动。"))
    elif _as_bytes(stored) != leaf:
        report.problems.append(Problem(seq, f"第{seq}条记录内容与记录时的哈希不符{HASH_MISMATCH}"))


def check_heads(hashes, heads, public_key, report):
    """Hold the recomputed tree against each published head, and prove each head extends the last."""
    levels = merkle.Levels(hashes)
    report.root = levels.root().hex()
    previous = None
    for head in heads:
        report.heads_checked += 1
        if not head.signature_ok(public_key):
            report.problems.append(Problem(None, f"{head.describe()}签名无效：不是本局密钥签发的树头。"))
            continue
        if head.size > len(hashes):
            report.problems.append(Problem(len(hashes), f"{head.describe()}已发布{head.size}条，数据库只剩{len(hashes)}条："
                                                         f"第{len(hashes)}条起的记录缺失。"))
            continue
        if levels.root(head.size).hex() != head.root:
            low = previous.size if previous else 0
            report.problems.append(Problem(low, f"{head.describe()}与数据库不符：第{low}至{head.size - 1}条之间有记录被改动。",
                                           exact=False))
            continue
        if previous is not None:
            proof = levels.consistency_proof(previous.size, head.size)
            try:
                merkle.verify_consistency(previous.size, head.size, bytes.fromhex(previous.root),
                                          bytes.fromhex(head.root), proof)
            except merkle.ProofError as exc:
                report.problems.append(Problem(previous.size, f"{head.describe()}与前一树头不一致：{exc}"))
                continue
        previous = head
        report.covered = max(report.covered, head.size)
    report.right_edge = [levels.node(h, i).hex() for h, i in merkle.subtrees(0, len(hashes))]
    return levels


def check_files(store, report, since=0):
    """Rehash every evidence file the log names (from entry `since` on); a changed or missing file is a problem."""
    rows = db.execute_sql(f"SELECT seq, body FROM ledger_entry WHERE kind = 'evidence' AND seq >= {db.param} "
                          "ORDER BY seq", (since,))
    for seq, body in rows:
        try:
            content = json.loads(_as_bytes(body) or str(body))
        except ValueError:
            continue  # already reported by the scan: its bytes no longer hash to what was recorded
        if not isinstance(content, dict) or content.get("kind") != "evidence":
            continue  # a row moved here from elsewhere; the scan names it
        data = content.get("data")
        if not isinstance(data, dict) or not HEX64.fullmatch(str(data.get("sha256"))) or not isinstance(data.get("size"), int):
            report.problems.append(Problem(seq, f"第{seq}条音像/文书登记缺少文件哈希或大小：记录被改动。"))
            continue
        report.files_checked += 1
        problem = store.check(data["sha256"], data["size"])
        if problem:
            report.problems.append(Problem(seq, f"第{seq}条登记的音像/文书文件{data.get('filename', '')}{problem}"))


# -- what is derived from the log, checked against it (issue 16) ---------------------------------------------

def check_witnesses(hashes, report, start=0):
    """Hold each recomputed leaf hash against the copy written with it in ledger_node (level 0): an entry
    whose bytes and hash column were both rewritten is named at its own index. Entries written around
    `append` (bulk loads) have no copy until complete_nodes(); they are bounded by the heads alone."""
    named = {p.seq: p for p in report.problems if p.exact and p.message.endswith(HASH_MISMATCH)}
    if not named and _column_equals(0, start, hashes):
        return  # the common case, compared in C (make bench)
    exact = {p.seq for p in report.problems if p.exact}
    rows = db.execute_sql(f"SELECT idx, hash FROM ledger_node WHERE level = 0 AND idx >= {db.param} ORDER BY idx", (start,))
    total = start + len(hashes)
    for idx, value in rows:
        if not isinstance(idx, int) or not start <= idx < total:
            continue  # a copy past the log's end: the missing entries are reported by the heads and the scan
        if idx in named and _as_bytes(value) == hashes[idx - start]:
            # The bytes still hash to what was recorded: only the hash column was changed.
            named[idx].message = f"第{idx}条记录的哈希列被改动（记录内容未变，与写入时另存的哈希副本一致）。"
        elif _as_bytes(value) != hashes[idx - start] and idx not in exact:
            report.problems.append(Problem(idx, f"第{idx}条记录内容与记录时的哈希不符：内容被改动，且哈希列也被改写以作掩盖"
                                                f"（与写入时另存的哈希副本不符）。"))


def _column_equals(level, start, expected):
    """Whether ledger_node holds exactly `expected` at `level` from index `start` on (one ordered read)."""
    rows = db.execute_sql(f"SELECT hash FROM ledger_node WHERE level = {db.param} AND idx >= {db.param} ORDER BY idx",
                          (level, start)).fetchall()
    if len(rows) != len(expected):
        return False
    stored = list(map(itemgetter(0), rows))
    if stored and not isinstance(stored[0], bytes):
        try:
            stored = list(map(bytes, stored))  # psycopg2's memoryviews
        except TypeError:
            return False
    return stored == expected


def check_stored_nodes(levels, report):
    """The stored subtree hashes (ledger_node, issue 19) that proofs and heads are served from must be the
    ones the entries' bytes give; a wrong one not explained by a changed entry below it is named."""
    if all(_column_equals(level, 0, hashes) for level, hashes in enumerate(levels.levels) if level):
        return  # the common case: every stored level equals the recomputed one, compared in C (make bench)
    bad_entries = sorted(p.seq for p in report.problems if p.seq is not None)
    for level, idx, value in db.execute_sql("SELECT level, idx, hash FROM ledger_node WHERE level > 0"):
        if not isinstance(level, int) or not isinstance(idx, int) or level >= len(levels.levels) \
                or not 0 <= idx < len(levels.levels[level]):
            continue  # a node past the log's end (entries deleted): the heads name the missing entries
        if _as_bytes(value) == levels.levels[level][idx]:
            continue
        lo, hi = idx << level, (idx + 1) << level
        if any(lo <= seq < hi for seq in bad_entries):
            continue
        report.problems.append(Problem(lo, f"保存的子树哈希（ledger_node 第{level}层第{idx}个，覆盖第{lo}至{hi - 1}条）与记录重算的不符："
                                           "据此提供的证明会出错，请联系管理员重建。", exact=False))


def expected_triggers():
    """{table: {trigger name: what it must refuse}} as models/ledger.py installs them on this backend."""
    ops = ("update", "delete") if is_sqlite() else ("change", "truncate")
    return {table: {f"{table}_no_{op}": op.upper() for op in ops} for table in ledger.APPEND_ONLY_TABLES}


def check_triggers(report):
    """Name every append-only trigger that is missing, disabled or no longer refuses (issue 16)."""
    expected = expected_triggers()
    if is_sqlite():
        found = {name: (table, sql or "") for name, table, sql in
                 db.execute_sql("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")}
    else:
        found = {}
        for name, table, enabled, body in db.execute_sql(
                "SELECT t.tgname, c.relname, t.tgenabled, p.prosrc FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid "
                "WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal"):
            found[name] = (table, (body or "") if enabled != "D" else "")
    for table, triggers in expected.items():
        for name, op in triggers.items():
            if name not in found:
                report.problems.append(Problem(None, f"表 {table} 缺少防删改触发器 {name}（拒绝{op}）：有人删除了它，"
                                                     "请查明原因，并运行 python bot.py ledger triggers 重新安装。"))
                continue
            on, text = found[name]
            if on != table or "RAISE" not in text.upper():
                report.problems.append(Problem(None, f"表 {table} 的防删改触发器 {name} 被改动或停用，已不再拒绝{op}："
                                                     "请查明原因并重新安装。"))


def check_index(report, since=0):
    """The case index (enforcement_case) against the 立案 entries it copies (models/cases.py); from
    entry `since` on when checking incrementally."""
    from models import cases  # cases builds on this layer's ledger; imported here to keep audit light

    for seq, message in cases.index_problems(since):
        report.problems.append(Problem(seq, message))


def check_derived(report, since=0):
    """Everything kept beside the log that a reader might trust: the triggers and the case index (the
    cases opened from entry `since` on, when checking incrementally)."""
    check_triggers(report)
    check_index(report, since)


def verify_log(heads, public_key, store=None, batch=10000, derived=True):
    """The whole check; returns a Report whose problems are sorted by the entry they concern.

    `derived`: also hold what is kept beside the log against it — every stored subtree hash, the case
    index, the triggers (`bot.py verify` does; make bench times the log check without them and these
    apart). The leaf hash copies are always checked for the entries no matching head vouches for, and
    for all entries once anything is wrong, to name a forged entry at its own index."""
    report = Report()
    hashes = fast_scan()
    if hashes is None:
        cursor = db.execute_sql("SELECT seq, body, leaf_hash, alg FROM ledger_entry ORDER BY seq")

        def rows():
            while True:
                chunk = cursor.fetchmany(batch)
                if not chunk:
                    return
                yield from chunk

        hashes = scan(rows(), report)
    report.entries = len(hashes)
    levels = check_heads(hashes, heads, public_key, report)
    if report.problems:
        check_witnesses(hashes, report)
    else:  # a head that matched vouches for every entry below it
        check_witnesses(hashes[report.covered:], report, report.covered)
    if derived:
        check_stored_nodes(levels, report)
        check_derived(report)
    if store is not None:
        check_files(store, report)
    report.problems.sort(key=lambda p: (not p.exact, p.seq is None, p.seq if p.seq is not None else 0))
    return report


# -- incremental checks (issue 19) --------------------------------------------------------------------------

def log_is_whole():
    """The log starts at entry 0: the cheap test (two primary-key lookups, no count, which would cost a
    scan of the whole log) that sends a log whose first entries were deleted to the full check. A gap
    among the entries after the checked tree is found by the incremental scan itself; one before it,
    like a changed entry there, is for the full `verify` to find."""
    # Two subqueries: SQLite answers a lone MIN or MAX from the index, but scans for both in one SELECT.
    low, high = db.execute_sql("SELECT (SELECT MIN(seq) FROM ledger_entry), (SELECT MAX(seq) FROM ledger_entry)").fetchone()
    return high is None or low == 0


def _rows_from(start, batch=1000):
    cursor = db.execute_sql(f"SELECT seq, body, leaf_hash, alg FROM ledger_entry WHERE seq >= {db.param} ORDER BY seq",
                            (start,))
    while True:
        chunk = cursor.fetchmany(batch)
        if not chunk:
            return
        yield from chunk


def verify_appended(start, right_edge, root_hex, heads, public_key, store=None):
    """Check what was appended after a tree of `start` entries already checked, known by its compact
    range (`right_edge`, hashes of merkle.subtrees(0, start)) and root: rehash each later entry from its
    bytes, hold every head of `start` entries or more against the root they lead to. Costs the new
    entries plus O(log n) per head; returns a Report like verify_log."""
    report = Report()
    tree = merkle.CompactTree.resume(start, right_edge)
    if tree.root().hex() != root_hex:
        report.problems.append(Problem(None, f"上次核验记下的第{start}条处的树与其根哈希不符：核验记录被改动。"))
        return report
    hashes = scan(_rows_from(start), report, start)
    check_witnesses(hashes, report, start)
    check_derived(report, since=start)
    later = sorted((h for h in heads if h.size >= start), key=lambda h: h.size)
    roots = {start: root_hex}
    wanted = {h.size for h in later}
    for leaf in hashes:
        tree.append_hash(leaf)
        if tree.size in wanted:
            roots[tree.size] = tree.root().hex()
    total = start + len(hashes)
    for head in later:
        report.heads_checked += 1
        if not head.signature_ok(public_key):
            report.problems.append(Problem(None, f"{head.describe()}签名无效：不是本局密钥签发的树头。"))
        elif head.size > total:
            report.problems.append(Problem(total, f"{head.describe()}已发布{head.size}条，数据库只剩{total}条："
                                                  f"第{total}条起的记录缺失。"))
        elif roots[head.size] != head.root:
            report.problems.append(Problem(start, f"{head.describe()}与数据库不符：第{start}至{head.size - 1}条之间有记录被改动。",
                                           exact=False))
    report.entries = total
    report.root = tree.root().hex()
    report.right_edge = [h.hex() for h in tree._stack]
    if store is not None:
        check_files(store, report, since=start)
    report.problems.sort(key=lambda p: (not p.exact, p.seq is None, p.seq if p.seq is not None else 0))
    return report


def heads_digest(heads, upto):
    """A fingerprint of the published heads of at most `upto` entries: an incremental run trusts only
    the heads the previous run saw; any other at or below its size sends it to the full check."""
    lines = sorted(f"{h.size} {h.root} {h.timestamp} {h.signature}" for h in heads if h.size <= upto)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def save_checkpoint(path, report, heads):
    """Remember what a clean run checked (size, root, compact range, heads seen) for `verify --since`."""
    state = {"format": "sanxiang-verify-checkpoint/v1", "size": report.entries, "root": report.root,
             "right_edge": report.right_edge, "heads": heads_digest(heads, report.entries)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state), encoding="utf-8")
    os.replace(tmp, path)


def load_checkpoint(path):
    """The previous run's checkpoint, or None when there is none (or it cannot be read)."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        return {"size": int(state["size"]), "root": str(state["root"]),
                "right_edge": [bytes.fromhex(h) for h in state["right_edge"]], "heads": str(state["heads"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def verify_since(checkpoint, heads, public_key, store=None):
    """`verify --since`: the incremental check from a previous run's checkpoint, or None when it cannot
    be trusted to be enough (no checkpoint, entries missing, heads at or below its size that it did not
    see) and the full check must run instead."""
    if checkpoint is None or not log_is_whole() or heads_digest(heads, checkpoint["size"]) != checkpoint["heads"]:
        return None
    if len(checkpoint["right_edge"]) != bin(checkpoint["size"]).count("1"):
        return None
    return verify_appended(checkpoint["size"], checkpoint["right_edge"], checkpoint["root"], heads, public_key, store)
