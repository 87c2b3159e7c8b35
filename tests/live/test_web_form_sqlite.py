"""The embedded default under ordinary use: the web complaint form on SQLite behind a 2-worker server,
40 complaints one after another and 4 at once, every one filed (no "database is locked")."""
import re
import sqlite3
import threading

import requests

from tests.conftest import serving

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def file_complaint(base, n):
    """One resident: open the form, fill it in, send it (from an address of their own, via the proxy)."""
    session = requests.Session()
    page = session.get(base + "/complaints/new", timeout=10).text
    form = {"csrf_token": CSRF.search(page).group(1), "form_token": TOKEN.search(page).group(1),
            "category": "performance", "content": f"演出现场第{n}次假唱，观众要求退票被拒。",
            "location": "奈曼旗文化广场", "contact": "匿名"}
    response = session.post(base + "/complaints/new", data=form, timeout=20,
                            headers={"X-Forwarded-For": f"198.51.{n // 250}.{n % 250}"})
    return response.status_code, response.text


def test_forty_in_a_row_and_four_at_once(tmp_path):
    with serving(tmp_path, backend="sqlite", TRUSTED_PROXIES="1") as server:
        base = server["url"]
        results = [file_complaint(base, n) for n in range(40)]
        barrier, lock = threading.Barrier(4), threading.Lock()

        def at_once(n):
            barrier.wait()
            outcome = file_complaint(base, n)
            with lock:
                results.append(outcome)

        threads = [threading.Thread(target=at_once, args=(100 + i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert [status for status, _ in results] == [200] * 44, [t[:300] for s, t in results if s != 200]
        assert all("查询码" in text for _, text in results)
        with sqlite3.connect(server["db_path"]) as conn:
            assert conn.execute("SELECT count(*) FROM complaint").fetchone()[0] == 44
