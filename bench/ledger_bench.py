"""Case-file log benchmark (make bench): append rate, and `verify` over N entries next to the SHA-256 floor.

    .venv/bin/python bench/ledger_bench.py [--entries 1000000] [--appends 3000] [--db sqlite|URL]

- append: `models.ledger.append`, one transaction per entry, as a step is recorded (target ≥ 2,000/s);
- floor: SHA-256 of the same canonical leaf bytes in a plain loop, measured in this run;
- verify: `models.verify.verify_log` reading every entry from the database, rehashing, rebuilding the tree
  and checking a signed head at the full size (target ≥ 150,000/s on SQLite and within 4× the floor);
  what `bot.py verify` adds for the data derived from the log (issue 16) is timed and printed apart.
The million rows are bulk-loaded in the log's exact format (canonical bytes, leaf hashes) to save time.
"""
import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from models import db, ledger, merkle, migrations, open_database  # noqa: E402
from models.treehead import PublishedHead, key_id, signed_message  # noqa: E402
from models.audit import verify_log  # noqa: E402

ORIGIN = "bench"
# Targets of the case-file issue: append rate, verify rate on SQLite, verify within this factor of the floor.
MIN_APPEND_PER_S = 2_000
MIN_VERIFY_PER_S = 150_000
MAX_FLOOR_FACTOR = 4.0


def sample_data(i):
    return {"place": "大沁他拉镇某网吧", "findings": f"检查发现第{i}号记录的情况，未成年人0名", "officers": ["15052501001", "15052501002"],
            "started": "2026-09-01 21:10", "ended": "2026-09-01 21:50"}


def bench_append(n):
    start = time.perf_counter()
    for i in range(n):
        ledger.append("step", sample_data(i), case_no="BENCH-1", step="现场检查", by="15052501001")
    return n / (time.perf_counter() - start)


def bulk_fill(total, at):
    """Rows exactly as `append` writes them, inserted in large transactions."""
    have = ledger.size()
    batch = []
    stamp = at.isoformat()
    naive = at.replace(tzinfo=None)
    for seq in range(have, total):
        content = {"v": 1, "seq": seq, "kind": "step", "case": f"BENCH-{seq // 20}", "step": "现场检查",
                   "by": "15052501001", "at": stamp, "alg": "sha256", "data": sample_data(seq)}
        body = ledger.canonical_bytes(content)
        batch.append((seq, content["case"], "step", "现场检查", body, merkle.leaf_hash(body), "sha256", naive))
        if len(batch) == 20000 or seq == total - 1:
            with db.atomic():
                db.execute_sql("INSERT INTO ledger_entry (seq, case_no, kind, step, body, leaf_hash, alg, recorded_at) "
                               "VALUES " + ",".join(["(%s)" % ",".join([db.param] * 8)] * len(batch)),
                               [v for row in batch for v in row]) if not ledger.is_sqlite() else \
                    db.connection().executemany("INSERT INTO ledger_entry VALUES (?,?,?,?,?,?,?,?)", batch)
            batch = []


def floor(bodies):
    sha256 = hashlib.sha256
    start = time.perf_counter()
    for body in bodies:
        sha256(b"\x00" + body).digest()
    return len(bodies) / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=3000)
    parser.add_argument("--db", default="sqlite")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{os.path.join(tmp, 'bench.db')}" if args.db == "sqlite" else args.db
        open_database(url)
        db.connect(reuse_if_open=True)
        migrations.upgrade()
        backend = "SQLite" if ledger.is_sqlite() else "PostgreSQL"
        append_rate = bench_append(args.appends)
        print(f"[ledger] append ({backend}, one transaction per entry): {append_rate:,.0f} entries/s (target ≥ 2,000)")
        bulk_fill(args.entries, ledger.now())
        ledger.complete_nodes()  # the subtree hashes `append` would have stored (issue 19)
        key = Ed25519PrivateKey.generate()
        hashes = ledger.leaf_hashes()
        root_hex = merkle.root_from_hashes(hashes).hex()
        stamp = ledger.now().isoformat()
        signature = __import__("base64").b64encode(key.sign(signed_message(ORIGIN, "sha256", len(hashes), root_hex, stamp)))
        head = PublishedHead(len(hashes), root_hex, stamp, "sha256", key_id(key.public_key()), signature.decode(), ORIGIN, "bench")
        del hashes
        bodies = [bytes(row[0]) for row in db.execute_sql("SELECT body FROM ledger_entry ORDER BY seq")]
        floor_rate = floor(bodies)
        size = len(bodies)
        del bodies
        start = time.perf_counter()
        report = verify_log([head], key.public_key(), derived=False)
        seconds = time.perf_counter() - start
        assert report.ok, report.problems[:3]
        # What `bot.py verify` adds (issue 16): every stored subtree hash, the case index and the triggers.
        start = time.perf_counter()
        assert verify_log([head], key.public_key()).ok
        derived_seconds = time.perf_counter() - start - seconds
        verify_rate = size / seconds
        print(f"[ledger] SHA-256 floor (same canonical bytes, plain loop): {floor_rate:,.0f} entries/s")
        print(f"[ledger] verify {size:,} entries ({backend}): {seconds:.2f} s = {verify_rate:,.0f} entries/s, "
              f"{floor_rate / verify_rate:.1f}× the floor (targets ≥ 150,000/s and ≤ 4×)")
        print(f"[ledger] verify's checks of data derived from the log (ledger_node, case index, triggers): "
              f"+{derived_seconds:.2f} s")
        db.close()
    return {"append_per_s": append_rate, "floor_per_s": floor_rate, "verify_per_s": verify_rate,
            "verify_seconds": seconds, "entries": size}


def verdicts(result):
    """PASS/FAIL lines for the targets; True when all are met."""
    factor = result["floor_per_s"] / result["verify_per_s"]
    checks = [
        (result["append_per_s"] >= MIN_APPEND_PER_S, f"append {result['append_per_s']:,.0f}/s (target >= {MIN_APPEND_PER_S:,})"),
        (result["verify_per_s"] >= MIN_VERIFY_PER_S, f"verify {result['verify_per_s']:,.0f}/s (target >= {MIN_VERIFY_PER_S:,})"),
        (factor <= MAX_FLOOR_FACTOR, f"verify {factor:.1f}x the SHA-256 floor (target <= {MAX_FLOOR_FACTOR:.0f}x)"),
    ]
    for ok, text in checks:
        print(f"[ledger] {'PASS' if ok else 'FAIL'}: {text}")
    return all(ok for ok, _ in checks)


if __name__ == "__main__":
    sys.exit(0 if verdicts(main()) else 1)
