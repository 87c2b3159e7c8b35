"""The live server (gunicorn, 2 workers) on PostgreSQL: exactly-once delivery across workers, and pooled
connections — a worker keeps its sessions from one request to the next instead of reconnecting.

Runs when TEST_DATABASE_URL names a PostgreSQL server (CI does); the server gets a schema of its own."""
import contextlib
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from handlers.cli.chat import inbound_xml, post_message
from tests.conftest import AES_KEY, APPID, TOKEN, postgresql_schema, serving_on, wait_until

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="TEST_DATABASE_URL not set")

CONFIG = {"wechat": {"token": TOKEN, "aes_key": AES_KEY, "appid": APPID}}


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory):
    """`python bot.py serve` (2 workers) on a throwaway schema, without Redis (the replay record in its
    files, the default for one server); its sessions are named `application`."""
    import psycopg2

    application = "sanxiang_" + uuid.uuid4().hex[:10]
    folder = tmp_path_factory.mktemp("live_pg")
    with postgresql_schema() as schema_url:
        url = f"{schema_url}&application_name={application}"

        def query(sql, *args):
            # on a session of its own, not named `application`: sessions() counts only the server's
            with contextlib.closing(psycopg2.connect(schema_url)) as conn, conn, conn.cursor() as cursor:
                cursor.execute(sql, args)
                return cursor.fetchall() if cursor.description else None

        # No Redis: the default replay record (files), whose deliveries known new ask the database nothing
        # first; retries, repeats and dialogues still do (tests/wechat/test_two_workers.py, in one process).
        with serving_on(folder, url, {"REDIS_URL": ""}) as server:
            yield {"url": server["url"] + "/wechat", "query": query, "fake": server["fake"],
                   "application": application}


def sessions(pg_server):
    """(pid, backend_start) of the server's sessions (the workers' pools; the clock's while a job runs)."""
    return set(pg_server["query"]("SELECT pid, backend_start FROM pg_stat_activity WHERE application_name = %s",
                                  pg_server["application"]))


def test_workers_keep_their_sessions_between_requests(pg_server):
    """No reconnect per request: a burst of messages is answered on the sessions the workers already
    had, and no more of them than the pools allow (2 workers × config database.pool_size)."""
    def burst(recorded):
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda i: post_message(pg_server["url"], CONFIG,
                                                           inbound_xml(f"o_pool_{i % 5}", text="执法主体")),
                                    range(40)))
        assert {status for status, _ in results} == {200}
        # the workers' batch writers have written (so they have their sessions too)
        wait_until(lambda: pg_server["query"]("SELECT count(*) FROM inboundmessage WHERE openid LIKE 'o_pool_%%'")
                   == [(recorded,)], 5, "the answers were not recorded")

    burst(40)
    before = sessions(pg_server)
    burst(80)
    after = sessions(pg_server)
    assert 2 <= len(after) <= 2 * 4
    # Sessions are not replaced: the second burst ran on those open before it (a reconnect per
    # request would show 40 new backend_start times).
    # At most: the clock's, if a job ran meanwhile, and the two (request, batch writer) of a worker the first
    # burst happened not to reach — a reconnect per request would show dozens.
    assert len(after - before) <= 3, (before, after)


def test_duplicate_read_only_deliveries_get_one_answer(pg_server):
    """WeChat's retries racing the first delivery on two workers: one record, the same words for all."""
    xml = inbound_xml("o_pg_race", text="执法事项", msg_id=987654321000001)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: post_message(pg_server["url"], CONFIG, xml), range(8)))
    assert {status for status, _ in results} == {200}
    assert len({text for _, text in results}) == 1

    def recorded():
        return pg_server["query"]("SELECT count(*) FROM inboundmessage WHERE key LIKE %s", "%987654321000001")[0][0]

    # written in a batch just after the reply, well before WeChat's first retry (5 s)
    wait_until(recorded, 3, "the answer was not recorded")
    assert recorded() == 1
    # A later retry, on whichever worker, gets the stored words and does not move the paging on.
    assert {post_message(pg_server["url"], CONFIG, xml)[1] for _ in range(4)} == {results[0][1]}
    following = post_message(pg_server["url"], CONFIG, inbound_xml("o_pg_race", text="下一页"))[1]
    assert "（第2/" in following


def test_duplicate_complaint_deliveries_file_one_complaint(pg_server):
    """A complaint is filed once however many deliveries race, each gets its ticket, and the reply
    goes out only once the complaint is committed."""
    query, fake = pg_server["query"], pg_server["fake"]
    query("INSERT INTO staff (openid, name, role, active) VALUES (%s, %s, %s, %s)", "o_pg_clerk", "张丽", "受理员", True)
    assert post_message(pg_server["url"], CONFIG, inbound_xml("o_pg_clerk", text="#帮助"))[0] == 200  # 48 h window

    # A one-message complaint is shown back first; "提交" files it — that is the delivery repeated.
    status, text = post_message(pg_server["url"], CONFIG, inbound_xml(
        "o_pg_citizen", text="投诉 网吧 某网吧深夜接纳未成年人上网，不登记身份证。地点：某网吧 联系：匿名"))
    assert status == 200 and "确认无误请回复“提交”" in text
    xml = inbound_xml("o_pg_citizen", text="提交", msg_id=9100000000000777)
    barrier, replies = threading.Barrier(6), []

    def deliver(encrypt):
        barrier.wait()
        replies.append(post_message(pg_server["url"], CONFIG, xml, encrypt=encrypt))

    threads = [threading.Thread(target=deliver, args=(i % 2 == 1,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    rows = query("SELECT ticket FROM complaint WHERE openid = %s", "o_pg_citizen")
    assert len(rows) == 1
    ticket = rows[0][0]
    assert len(replies) == 6 and all(status == 200 and ticket in text for status, text in replies), replies
    # A retry long after gets the same words, and files nothing more.
    time.sleep(0.3)
    status, again = post_message(pg_server["url"], CONFIG, xml)
    assert status == 200 and ticket in again
    assert query("SELECT count(*) FROM complaint WHERE openid = %s", "o_pg_citizen") == [(1,)]

    def outbox_drained():
        [(queued, sent)] = query("SELECT count(*), count(sent_at) FROM complaint_outbox")
        return queued > 0 and queued == sent

    wait_until(outbox_drained, 10, "the complaint's notices were not all sent")
    notices = [b for b in fake.sent("message/custom/send") if b["touser"] == "o_pg_clerk"]
    assert len(notices) == 1 and ticket in notices[0]["text"]["content"]


def test_pages_are_served_by_either_worker(pg_server):
    """下一页 continues the user's long answer whichever worker the next message reaches."""
    first = post_message(pg_server["url"], CONFIG, inbound_xml("o_pg_pages", text="执法事项"))[1]
    assert "（第1/" in first
    pages = []
    for _ in range(2):
        # a person reads a page before asking for the next: by then the row of the page shown has left
        # its worker's batch (record_batch_seconds, 0.2 s) for the table the other worker reads
        time.sleep(0.5)
        pages.append(post_message(pg_server["url"], CONFIG, inbound_xml("o_pg_pages", text="下一页"))[1])
    assert "（第2/" in pages[0] and "（第3/" in pages[1]
    assert requests.get(pg_server["url"].replace("/wechat", "/"), timeout=5).status_code == 200
