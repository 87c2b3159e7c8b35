"""Scale benchmark (make bench-scale): what requests and jobs cost once the bureau has years of history.

    .venv/bin/python bench/scale.py [--n 1000 --n 100000] [--entries M] [--db sqlite|postgresql|both] [--repeat 30]

For each N it builds — once, then cached under var/bench-scale/ (SQLite files; PostgreSQL schemas
`bench_scale_<N>` in BENCH_DATABASE_URL or TEST_DATABASE_URL, when reachable) — a database grown
through the models' own calls over two years:
- N complaints (Complaint.file, then accept / assign / reply / close for the closed ones): about 4 % still
  open, spread over the last months so that some are overdue for weeks;
- N case-file entries and a signed tree head every day of those two years (notices.ledger.publish_tree_head,
  as the daily job signs): in every 20 entries a 决定 step (ledger.append; its proof is public) and a case
  (cases.open_case, 17 inspections, then cases.record_step 撤案; the latest 4 % still running);
- a thousand model calls to a transaction (the calls' own transactions nest as savepoints).
Then it prints p50/p95 (ms) of: `查询 编号` through /wechat, `#待办` for each role, the reminder pass,
the Open311 list and one request, /ledger/proof/<n>.json, signing a head, and appending an entry.
Requests go through the app in-process (Flask test client): the app's own cost, not gunicorn's.
`--entries M` grows the case file to M entries instead of N (the log builds ten times faster than the
complaints, so its figures can be taken at a larger size on a small machine).
"""
import argparse
import datetime as dt
import os
import random
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CACHE = ROOT / "var" / "bench-scale"
TOKEN = "bench-token"
OPEN_SHARE = 0.04
BATCH = 1000  # model calls to a transaction while building
CERTS = ("15052501001", "15052501002")  # the two handlers of every bench case (valid over the two years)
TARGETS = {"chat": 100, "web": 100, "reminders": 1000, "proof": 10, "sign": 50}


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def make_app(url, tmp, name):
    import bot

    config = {"database": {"url": url}, "redis": {"url": ""},
              "wechat": {"token": TOKEN, "aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
                         "appid": "wx2c2769f8efd9abc2", "mode": "compatible", "api_base": "http://127.0.0.1:9"},
              "server": {"public_base_url": "http://bench", "secret_key": "bench"},
              "ledger": {"private_key_path": str(tmp / "bench-key.pem"), "feed_path": str(tmp / f"{name}.heads.txt"),
                         "create_key_if_missing": True},
              "evidence": {"store_path": str(tmp / "records")},
              "complaints": {"evidence_path": str(tmp / "complaint-evidence")}}
    return bot.create_app({"SANXIANG": config, "TESTING": True})


def build(app, n, log, entries=None):
    """Grow the database through the models' own calls (see the module's docstring), a thousand calls to
    a transaction (each call's own transaction nests in it as a savepoint): the same rows and checks,
    without a commit, and on SQLite an fsync, per call."""
    from models import Officer, Staff, db
    from models.complaints import complaint_settings
    from models.seed import prepare_database

    config = app.config["SANXIANG"]
    prepare_database(config)
    db.connect(reuse_if_open=True)
    officers = [Officer.by_cert_no(c) for c in CERTS]
    clerk = Staff.add("o_bench_clerk", "张丽", "受理员")
    head = Staff.add("o_bench_head", "吴局长", "负责人")
    handler = Staff.add("o_bench_handler", officers[0].name, "承办人", officers[0])
    Staff.add("o_bench_reviewer", "白斯琴", "法制审核员")
    rng = random.Random(19)
    start = dt.date.today() - dt.timedelta(days=730)
    t0 = time.perf_counter()
    categories = [c["name"] for c in complaint_settings(config)["categories"]]
    for first in range(0, n, BATCH):
        with db.atomic():
            for i in range(first, min(n, first + BATCH)):
                _complaint(config, i, n, start, rng, categories, clerk, handler, officers[0])
        log(f"  {min(n, first + BATCH):,} complaints ({time.perf_counter() - t0:.0f} s)")
    _case_file(config, n if entries is None else entries, start, log, t0)
    db.execute_sql("CREATE TABLE IF NOT EXISTS bench_scale_built (n INTEGER)")
    db.execute_sql(f"INSERT INTO bench_scale_built VALUES ({int(n)})")
    db.close()
    return head, clerk, handler


def _complaint(config, i, n, start, rng, categories, clerk, handler, officer):
    """The i-th of n complaints, filed evenly over two years; the open ones are the latest, some months
    old (overdue), half of them still waiting to be accepted."""
    from models.complaints import Complaint

    day = start + dt.timedelta(days=int(730 * i / n))
    at = dt.datetime.combine(day, dt.time(9)) + dt.timedelta(minutes=rng.randrange(480))
    c = Complaint.file(config, at, category=rng.choice(categories), content=f"第{i}号投诉：网吧晚上接纳未成年人上网，没有登记身份证。",
                       submitter=f"o_citizen_{i % 500}", openid=f"o_citizen_{i % 500}", check_limit=False)
    still_open = i >= n - max(1, int(n * OPEN_SHARE))
    if not still_open or rng.random() < 0.5:
        c.accept(clerk, at + dt.timedelta(hours=2), config)
        c.assign(clerk, at + dt.timedelta(hours=3), config, officer)
        if not still_open:
            c.reply(handler, at + dt.timedelta(days=5), config, "经查属实，已责令整改并处以警告。")
            c.close(clerk, at + dt.timedelta(days=6), config)


def _case_file(config, entries, start, log, t0):
    """`entries` case-file entries over two years with a signed head every day, a day to a transaction:
    in every 20, a 决定 (whose proof is public), a case opened (cases.open_case), 17 inspections
    appended to it, and its 撤案 (cases.record_step) — except for the latest cases (OPEN_SHARE), still
    running, so #待办 and the reminders have their 90-day limits."""
    from models import cases, db, ledger
    from notices.ledger import publish_tree_head

    per_day = max(1, entries // 730)
    total_cases = entries // 20
    written = 0
    case = None
    for d in range(730):
        at = dt.datetime.combine(start + dt.timedelta(days=d), dt.time(10), tzinfo=ledger.CHINA_TZ)
        with db.atomic():
            for _ in range(per_day if d < 729 else entries - written):
                k, place = written // 20, written % 20
                if place == 0:
                    ledger.append("step", {"facts": f"第{written}条记录", "officers": CERTS[:1]},
                                  case_no=f"BENCH-{k}", step="决定", by=CERTS[0], at=at)
                elif place == 1:
                    case = cases.open_case(config, party={"kind": "法人或其他组织", "name": f"第{k}号网吧"},
                                           handlers=list(CERTS), by=CERTS[0], at=at,
                                           data={"item_code": "CF-002", "source": "日常检查", "facts": "接纳未成年人",
                                                 "approver": "局长"})
                elif place == 19 and k < total_cases * (1 - OPEN_SHARE):
                    cases.record_step(config, case.number, "撤案", {"reason": "违法事实不能成立", "approver": "局长"},
                                      by=CERTS[0], at=at)
                else:
                    ledger.append("step", {"facts": f"第{written}条记录", "officers": list(CERTS)},
                                  case_no=case.number if case else f"BENCH-{k}", step="现场检查", by=CERTS[0], at=at)
                written += 1
            publish_tree_head(config, at=at.replace(hour=23))
        if d % 100 == 99:
            log(f"  day {d + 1}: {written:,} entries ({time.perf_counter() - t0:.0f} s)")


def built(app):
    from models import db

    db.connect(reuse_if_open=True)
    try:
        return "bench_scale_built" in db.get_tables()
    finally:
        db.close()


def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return percentile(times, 0.5), percentile(times, 0.95)


def measure(app, repeat):
    from handlers.cli.chat import inbound_xml, signed_query
    from models import Staff, db, is_sqlite, ledger, treehead
    from models.complaints import Complaint, OPEN_STATUSES
    from notices.cases import remind_case_limits
    from notices.complaints import remind_deadlines
    from notices.ledger import publish_tree_head

    from models.seed import prepare_database

    config = app.config["SANXIANG"]
    client = app.test_client()
    prepare_database(config)  # as `bot.py serve` starts: a database cached by an older version is upgraded
    db.connect(reuse_if_open=True)
    if not is_sqlite():
        db.execute_sql("ANALYZE")  # the statistics autovacuum keeps in production; a fresh build has none yet
    mine = Complaint.select().where(Complaint.status.in_(OPEN_STATUSES)).order_by(Complaint.id.desc()).first()
    any_ticket = Complaint.select().order_by(Complaint.id).first().ticket
    decision = ledger.LedgerEntry.select().where(ledger.LedgerEntry.step == "决定").order_by(ledger.LedgerEntry.seq).first().seq
    staff = {s.role: s.openid for s in Staff.select().where(Staff.openid.startswith("o_bench_"))}
    # The newest 100 requests, whatever the history: what a list costs per request it returns (the default
    # 90-day window returns more the busier the bureau, up to max_results).
    hundredth = Complaint.select(Complaint.created_at).order_by(Complaint.created_at.desc()).offset(99).first()
    newest = "/open311/v2/requests.json?start_date=" + hundredth.created_at.strftime("%Y-%m-%dT%H:%M:%S") + "%2B08:00"
    default_rows = len(client.get("/open311/v2/requests.json").get_json())
    print(f"[scale] {Complaint.select().count():,} complaints: the default Open311 window returns {default_rows:,}", flush=True)
    db.close()

    def chat(openid, text):
        def run():
            ts = str(int(time.time()))
            query = signed_query(TOKEN, ts, uuid.uuid4().hex)
            r = client.post("/wechat", query_string=query, data=inbound_xml(openid, text), content_type="text/xml")
            assert r.status_code == 200, r.status_code
        return run

    def get(path):
        def run():
            r = client.get(path)
            assert r.status_code == 200, (path, r.status_code)
        return run

    def proof(seq):
        def run():
            db.connect(reuse_if_open=True)
            assert treehead.inclusion_proof_document(config, seq) is not None
            db.close()
        return run

    def reminders():
        with app.app_context():
            db.connect(reuse_if_open=True)
            remind_deadlines(config)
            remind_case_limits(config)
            db.close()

    def sign():
        db.connect(reuse_if_open=True)
        publish_tree_head(config)
        db.close()

    def append():
        db.connect(reuse_if_open=True)
        ledger.append("note", {"bench": True}, case_no="BENCH-APPEND")
        db.close()

    rows = [("查询 编号 (/wechat)", "chat", chat(mine.openid, f"查询 {mine.ticket}"))]
    rows += [(f"#待办 {role} (/wechat)", "chat", chat(openid, "#待办")) for role, openid in sorted(staff.items())]
    rows += [("reminder pass (complaints and cases)", "reminders", reminders),
             ("Open311 list, newest 100 (/open311/v2/requests.json?start_date=…)", "web", get(newest)),
             ("Open311 list, default 90-day window (up to 1,000 rows)", "web", get("/open311/v2/requests.json")),
             ("Open311 one request", "web", get(f"/open311/v2/requests/{any_ticket}.json")),
             # /ledger/proof serves a decision only while its disclosure is published (issue 13); what grows
             # with history is the proof itself, measured through the call the page makes.
             (f"inclusion proof of entry {decision} (/ledger/proof's document)", "proof", proof(decision)),
             ("sign a head (incremental check + sign)", "sign", sign),
             ("append an entry", None, append)]
    results = []
    for name, kind, fn in rows:
        fn()  # warm
        p50, p95 = timed(fn, repeat if kind != "reminders" else max(5, repeat // 3))
        results.append((name, kind, p50, p95))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="complaints and entries (repeatable; default 1000 and 100000)")
    parser.add_argument("--entries", type=int, help="case-file entries (default: N)")
    parser.add_argument("--db", default="both", choices=("sqlite", "postgresql", "both"))
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    sizes = args.n or [1000, 100_000]
    CACHE.mkdir(parents=True, exist_ok=True)
    backends = []
    if args.db in ("sqlite", "both"):
        backends.append("sqlite")
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if args.db in ("postgresql", "both"):
        if pg and _reachable(pg):
            backends.append("postgresql")
        else:
            print("[scale] PostgreSQL not reachable (BENCH_DATABASE_URL / TEST_DATABASE_URL): skipped")
    table = {}
    for backend in backends:
        for n in sizes:
            tag = f"{n}" if args.entries in (None, n) else f"{n}_{args.entries}"
            url = f"sqlite:///{CACHE / f'scale-{tag}.db'}" if backend == "sqlite" else _pg_schema(pg, f"bench_scale_{tag}")
            app = make_app(url, CACHE, f"{backend}-{tag}")
            if not built(app):
                print(f"[scale] building {backend} N={n:,} (cached for the next run)…", flush=True)
                t = time.perf_counter()
                build(app, n, lambda text: print(text, flush=True), args.entries)
                print(f"[scale] built in {time.perf_counter() - t:.0f} s", flush=True)
            for name, kind, p50, p95 in measure(app, args.repeat):
                table[(backend, name)] = table.get((backend, name), {})
                table[(backend, name)][n] = (p50, p95, kind)
    if args.entries not in (None, *sizes):
        print(f"[scale] case file: {args.entries:,} entries and two years of daily heads in every database below")
    print_table(table, sizes)


def print_table(table, sizes):
    head = "| database | measure | " + " | ".join(f"N={n:,} p50 / p95 ms" for n in sizes) + " | target |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for (backend, name), by_n in table.items():
        kind = next(iter(by_n.values()))[2]
        cells = [f"{by_n[n][0]:.1f} / {by_n[n][1]:.1f}" if n in by_n else "—" for n in sizes]
        target = f"p95 ≤ {TARGETS[kind]} ms" if kind else ""
        print(f"| {backend} | {name} | " + " | ".join(cells) + f" | {target} |")


def _reachable(url):
    import psycopg2

    try:
        psycopg2.connect(url, connect_timeout=5).close()
        return True
    except psycopg2.Error:
        return False


def _pg_schema(base, schema):
    import psycopg2

    conn = psycopg2.connect(base)
    conn.autocommit = True
    conn.cursor().execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    conn.close()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


if __name__ == "__main__":
    main()
