"""事后公开 benchmark (make bench): the clock's pass and the public list with 100,000 decisions.

    .venv/bin/python bench/disclosure_bench.py [--decisions 100000] [--runs 50] [--db sqlite|URL]

The decisions are bulk-loaded as `sync` would have made them (95% published over two years, the rest
waiting, withdrawn, withheld or expired; among the waiting some served, some due within days, some overdue
and some on a provisional 2027 date). Then:
- clock pass: `notices.publication.publication_pass` once to catch up (it publishes, reminds and escalates
  what the load left waiting), then again over every open deadline — the target is the steady pass, < 1 s;
- list: GET /disclosures/ (first page) and a filtered search (?q=网吧&category=行政处罚&from=…) through
  the app, rendered; the target is < 50 ms median each.
"""
import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_PASS_S = 1.0
TARGET_LIST_MS = 50.0
PARTIES = ["网吧", "网咖", "歌舞厅", "KTV", "旅行社有限公司", "书店", "演艺有限公司", "文化传媒有限公司"]
ITEMS = [("CF-002", "接纳未成年人进入营业场所"), ("CF-015", "未经许可经营旅行社业务"), ("CF-020", "擅自从事营业性演出"),
         ("CF-031", "未核对登记上网消费者身份证件")]


def make_app(url, tmp):
    import bot

    config = {"database": {"url": url}, "redis": {"url": ""},
              "wechat": {"token": "bench", "aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
                         "appid": "wx2c2769f8efd9abc2", "mode": "compatible", "api_base": "http://127.0.0.1:9"},
              "server": {"public_base_url": "http://bench", "secret_key": "bench"},
              "ledger": {"private_key_path": str(tmp / "k.pem"), "feed_path": str(tmp / "heads.txt"),
                         "create_key_if_missing": True},
              "evidence": {"store_path": str(tmp / "records")},
              "complaints": {"evidence_path": str(tmp / "complaint-evidence")}}
    return bot.create_app({"SANXIANG": config, "TESTING": True})


def load(config, n, today, rng):
    """n decisions as `sync` makes them, inserted in batches."""
    from models import db, publication
    from models.publication import Disclosure

    rows = []
    for i in range(n):
        decided = today - dt.timedelta(days=rng.randrange(1, 730))
        category = "行政处罚" if i % 10 else rng.choice(["行政许可", "行政检查", "行政强制"])
        due = publication.due_date(config, decided, category)
        roll = rng.random()
        status, served, published, expires = publication.PUBLISHED, decided, None, None
        if roll < 0.03:  # waiting: recent decisions, some served, some overdue
            status = publication.PENDING
            decided = today - dt.timedelta(days=rng.randrange(0, 20))
            due = publication.due_date(config, decided, category)
            served = decided if rng.random() < 0.3 else None
        elif roll < 0.035:
            status = publication.PENDING
            decided = dt.date(2026, 12, 28)  # a provisional 2027 due date
            due = publication.due_date(config, decided, category)
            served = None
        elif roll < 0.045:
            status = publication.WITHDRAWN
        elif roll < 0.05:
            status = publication.WITHHELD
        elif roll < 0.06:
            status = publication.EXPIRED
        if status in (publication.PUBLISHED, publication.WITHDRAWN, publication.EXPIRED):
            published = dt.datetime.combine(decided + dt.timedelta(days=rng.randrange(1, 9)), dt.time(9))
            expires = published.date() + dt.timedelta(days=rng.choice([90, 365, 1095]))
            if status == publication.PUBLISHED and expires < today:
                expires = today + dt.timedelta(days=rng.randrange(1, 300))
        code, item = rng.choice(ITEMS)
        party = f"奈曼旗{rng.choice('星空极速蓝海金嗓子阳光飞鸟彩虹红叶')}{i}{rng.choice(PARTIES)}"
        rows.append(dict(key=f"case:{i}", source="case", case_no=f"B{i // 3}", entry_seq=i, decision_kind="决定",
                         category=category, item_code=code, item_name=item, authority="奈曼旗文化和旅游局", party=party,
                         party_kind="法人或其他组织", decision_no=f"奈文旅罚〔{decided.year}〕{i}号", decided_on=decided,
                         basis="《互联网上网服务营业场所管理条例》第三十一条", conclusion=f"警告，罚款人民币{rng.randrange(1, 50)}000元",
                         original="当事人……", masked="当事人……", status=status, due_on=due.due,
                         due_provisional=due.provisional, served_on=served, published_at=published,
                         on_time=None if published is None else published.date() <= due.due, expires_on=expires,
                         handlers="15052501001,15052501002",
                         public_note="已撤回：该决定已被行政复议决定撤销" if status == publication.WITHDRAWN else ""))
    for row in rows:
        row["search_text"] = publication.search_text_of(row["status"], row["decision_no"], row["party"], row["item_name"],
                                                        row["item_code"], row["category"], row["conclusion"], "决定")
        row["listed"] = row["status"] in publication.PUBLIC_STATUSES
    with db.atomic():
        for start in range(0, len(rows), 500):
            Disclosure.insert_many(rows[start:start + 500]).execute()
    publication.PublicationState.insert(name="ledger", value=10**9).execute()  # nothing to read from the log


def median_ms(client, url, runs):
    client.get(url)  # warm: templates compiled, statements prepared
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--db", default="sqlite")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        url = f"sqlite:///{os.path.join(tmp, 'bench.db')}" if args.db == "sqlite" else args.db
        app = make_app(url, tmp)
        from models import Staff, db, publication
        from models.database import is_sqlite
        from models.seed import prepare_database
        from notices.publication import publication_pass

        config = app.config["SANXIANG"]
        prepare_database(config)
        db.connect(reuse_if_open=True)
        Staff.add("o_bench_head", "吴局长", "负责人")
        today = dt.date(2026, 11, 30)
        start = time.perf_counter()
        load(config, args.decisions, today, random.Random(13))
        backend = "SQLite" if is_sqlite() else "PostgreSQL"
        print(f"[disclosure] loaded {args.decisions:,} decisions ({backend}) in {time.perf_counter() - start:.1f} s")
        now = dt.datetime.combine(today, dt.time(9))
        open_rows = publication.Disclosure.select().where(publication.Disclosure.status == publication.PENDING).count()
        start = time.perf_counter()
        first = publication_pass(config, today=today, now=now)
        catch_up = time.perf_counter() - start
        print(f"[disclosure] clock pass catching up ({open_rows:,} open deadlines): {catch_up * 1000:.0f} ms {first}")
        passes = []
        for minute in range(1, 6):
            start = time.perf_counter()
            publication_pass(config, today=today, now=now + dt.timedelta(minutes=10 * minute))
            passes.append(time.perf_counter() - start)
        steady = statistics.median(passes)
        print(f"[disclosure] clock pass over open deadlines, steady: {steady * 1000:.0f} ms median of 5 (target < 1 s)")
        db.close()
        client = app.test_client()
        first_page = median_ms(client, "/disclosures/", args.runs)
        query = "/disclosures/?q=网吧&category=行政处罚&from=2026-01-01&to=2026-11-30"
        filtered = median_ms(client, query, args.runs)
        party = median_ms(client, "/disclosures/?party=星空1", args.runs)
        print(f"[disclosure] list first page: {first_page:.1f} ms median of {args.runs} (target < 50 ms)")
        print(f"[disclosure] filtered search (q, category, dates): {filtered:.1f} ms; by party: {party:.1f} ms")
        if not db.is_closed():
            db.close()
    return {"catch_up_s": catch_up, "pass_s": steady, "list_ms": first_page, "search_ms": filtered, "party_ms": party}


def verdicts(result):
    checks = [(result["pass_s"] < TARGET_PASS_S, f"clock pass {result['pass_s'] * 1000:.0f} ms (target < 1 s)"),
              (result["list_ms"] < TARGET_LIST_MS, f"list first page {result['list_ms']:.1f} ms (target < 50 ms)"),
              (result["search_ms"] < TARGET_LIST_MS, f"filtered search {result['search_ms']:.1f} ms (target < 50 ms)")]
    for ok, text in checks:
        print(f"[disclosure] {'PASS' if ok else 'FAIL'}: {text}")
    return all(ok for ok, _ in checks)


if __name__ == "__main__":
    sys.exit(0 if verdicts(main()) else 1)
