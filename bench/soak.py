"""`make soak`: the production setup under load and faults, checked for lost, doubled or wrong answers.

The server is what deploy/ installs: gunicorn with deploy/gunicorn.conf.py (4 sync workers, JSON
logs) and `bot.py clock` as its own process, on PostgreSQL (a throwaway schema, dropped afterwards).
Clients — 32 connections from 4 processes — send, for `--duration` seconds, a mix of public
questions and complaint dialogues (投诉 → 类别 → 经过 → 地点 → 跳过 → 匿名 → 提交, a fresh user each),
each message signed with its own nonce and a unique MsgId, the way WeChat does. Some deliveries are
retried WeChat-style: the IDENTICAL request (same query string and body) sent again after the first
was given up on; the retry must get 200 and the same reply. A request that fails at the socket
(a killed worker, the database restarting) is retried the same way, as WeChat does.

In the middle: `kill -9` of one worker (at 30 % of the run) and a restart of PostgreSQL (at 50 %,
`--pg-restart`). Checked:
- no 5xx outside the restart itself (from the restart command until PostgreSQL accepts connections
  again, plus 2 s), and every message answered with 200 within WeChat's three tries;
- every retry answered 200 with the same reply;
- every acknowledged complaint (a reply with its ticket) is in the database exactly once, and no
  complaint of the run is there twice;
- the service back without a hand: the killed worker replaced, /healthz 200 (database, clock heartbeat,
  tree head) after the faults, a question answered at the end.
Then the same clients with the same questions against the bare wechatpy echo (bench/echo_app.py)
under the same gunicorn settings, for throughput and p99 side by side.

    .venv/bin/python bench/soak.py [--duration 60] [--connections 32] [--workers 4] [--pg-restart]
                                   [--database-url URL] [--no-echo] [--json FILE]

Exit status 0 when every check passes, 1 when one fails, 2 when the soak could not run.
The load is bounded: it stops by itself after --duration seconds and talks to 127.0.0.1 only.
"""
import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.cli.chat import inbound_xml, signed_query  # noqa: E402

QUESTIONS = ["帮助", "执法主体", "执法人员", "执法事项", "网吧", "旅行社", "假唱", "抽查事项", "流程", "救济", "投诉方式",
             "下一页"]
EVENTS = ["subscribe", "click:ITEMS", "click:OFFICERS"]
DIALOGUE = [("投诉", "类别"), ("网吧", "发生了什么"), (None, "在哪里"), ("大沁他拉镇某街某网吧", "照片"), ("跳过", "姓名和电话"),
            ("匿名", "提交"), ("提交", "投诉编号")]
TICKET = re.compile(r"投诉编号：(TS\d{10})")
APOLOGY = "您的消息没有处理成功"  # both of the endpoint's apologies (handlers/wechat/endpoint.py)
COMPLAINT_SHARE = 0.05   # of scenarios that are complaint dialogues (7 messages each: about a quarter of messages)
RETRY_SHARE = 0.05       # of messages delivered again, identically, after the first try was given up on
TRIES = 3                # WeChat tries a delivery three times
TIMEOUT = 5.0            # and waits 5 s for each
RETRY_AFTER = 1.0        # a repeated delivery comes this long after the first (WeChat: 5 s)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the client ---------------------------------------------------------------------------------------
class Client:
    """One connection's worth of WeChat: builds signed deliveries and records what happened."""

    def __init__(self, port, token, run_id, worker_no, conn_no, deadline, seed):
        self.port, self.token, self.run_id = port, token, run_id
        self.prefix = f"{run_id}{worker_no:02d}{conn_no:03d}"
        self.deadline = deadline
        self.random = random.Random(seed)
        self.counter = 0
        self.complaint_share = COMPLAINT_SHARE
        self.id_base = (int(run_id, 36) % 9000 + 1000) * 10**14 + worker_no * 10**12 + conn_no * 10**9
        self.requests = []      # (start, seconds, status or error name)
        self.retries = []       # (msg, ok, detail)
        self.complaints = []    # (token, ticket or None)
        self.lost = []          # deliveries that got no 200 in three tries: (start, text, statuses)
        self.bad_replies = []   # 200 answers that were not what the step expected
        self.apologies = []     # 200 answers saying the message was not handled (database busy or down)

    def message_id(self):
        """Unique in the run and across runs: run, process and connection in the high digits."""
        self.counter += 1
        return self.id_base + self.counter

    def delivery(self, openid, text=None, event=None):
        now = int(time.time())
        query = urlencode(signed_query(self.token, now, uuid.uuid4().hex[:16]))
        xml = inbound_xml(openid, text=text, event=event, msg_id=self.message_id() if text else None, now=now)
        return "/wechat?" + query, xml.encode("utf-8")

    def post(self, path, body, read=True):
        """(status or error name, reply bytes); `read=False` sends and hangs up, as a timed-out WeChat."""
        start = time.time()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            connection.request("POST", path, body=body, headers={"Content-Type": "text/xml"})
            if not read:
                time.sleep(self.random.uniform(0, 0.02))
                return "abandoned", b""
            response = connection.getresponse()
            data = response.read()
            self.requests.append((start, time.time() - start, response.status))
            return response.status, data
        except (OSError, http.client.HTTPException) as exc:
            self.requests.append((start, time.time() - start, type(exc).__name__))
            return type(exc).__name__, b""
        finally:
            connection.close()

    def deliver(self, openid, text=None, event=None):
        """Deliver one message as WeChat does; the reply's text, or None if three tries got no 200."""
        path, body = self.delivery(openid, text, event)
        retried = self.random.random() < RETRY_SHARE
        if retried:
            self.post(path, body, read=False)  # the first try, given up on
            # WeChat retries 5 s after a try it gave up on; a read-only answer's record is written within
            # record_batch_seconds (0.2 s), which is what lets a retry reaching the other worker find it.
            # The soak has no 5 s to spare: it waits a scaled-down second.
            time.sleep(RETRY_AFTER)
        statuses, first, began = [], None, time.time()
        for attempt in range(TRIES):
            status, data = self.post(path, body)
            statuses.append(status)
            if status == 200:
                first = data
                break
            time.sleep(0.5 if isinstance(status, str) else 0.2)  # WeChat waits 5 s; the soak has no time
        if first is None:
            self.lost.append((began, time.time() - began, text or event, statuses))
            return None
        reply = reply_text(first)
        if APOLOGY in reply:  # "busy" or "something went wrong": answered, but the message was not handled
            self.apologies.append((began, time.time() - began, text or event))
        if retried or self.random.random() < RETRY_SHARE:
            time.sleep(RETRY_AFTER)  # a second delivery, never sooner than WeChat's would come
            start = time.time()
            status, data = self.post(path, body)  # the same delivery once more: the same answer
            same = status == 200 and reply_text(data) == reply
            self.retries.append((text or event, same, f"{status} {reply_text(data)[:60]!r} vs {reply[:60]!r}",
                                 start, time.time() - start))
        return reply

    def question(self):
        openid = f"o_soak_{self.prefix}_{self.random.randrange(50)}"
        if self.random.random() < 0.2:
            self.deliver(openid, event=self.random.choice(EVENTS))
        else:
            self.deliver(openid, text=self.random.choice(QUESTIONS))

    def complaint(self):
        self.counter += 1
        openid = f"o_soakc_{self.prefix}_{self.counter}"
        token = f"soak-{self.prefix}-{self.counter}"
        for text, expect in DIALOGUE:
            text = text or f"某网吧深夜接纳未成年人上网，不登记身份证。{token}"
            for _ in range(3):  # a person sends a step again when told to try later
                reply = self.deliver(openid, text=text)
                if reply is not None and expect in reply:
                    break
                if reply is not None and "稍后" not in reply and "请再发" not in reply:
                    self.bad_replies.append((text, reply[:120]))
            else:
                self.complaints.append((token, None))
                self.deliver(openid, text="取消")
                return
            if time.time() > self.deadline + 20:
                return
        match = TICKET.search(reply)
        self.complaints.append((token, match.group(1) if match else None))

    def run(self):
        while time.time() < self.deadline:
            if self.random.random() < self.complaint_share:
                self.complaint()
            else:
                self.question()


def reply_text(data):
    """The text of a reply (the XML's Content), or what came back if it is not XML."""
    text = data.decode("utf-8", "replace")
    match = re.search(r"<Content><!\[CDATA\[(.*?)\]\]></Content>", text, re.S)
    return match.group(1) if match else text


def client_process(args):
    """One client process: `connections` threads; returns what they recorded."""
    port, token, run_id, worker_no, connections, deadline, echo, share = args
    clients = [Client(port, token, run_id, worker_no, i, deadline, seed=f"{run_id}{worker_no}{i}")
               for i in range(connections)]
    for client in clients:
        client.complaint_share = share
    if echo:  # the echo answers anything; only the questions are compared
        for client in clients:
            client.complaint = client.question
    threads = [threading.Thread(target=c.run) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {key: sum((getattr(c, key) for c in clients), [])
            for key in ("requests", "retries", "complaints", "lost", "bad_replies", "apologies")}


def drive(port, token, run_id, seconds, connections, echo=False, on_start=None, share=COMPLAINT_SHARE):
    processes = 4 if connections >= 4 else 1
    # The client processes are forked before any other thread starts (`on_start`: the faults).
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        deadline = time.time() + seconds
        if on_start:
            on_start()
        jobs = [(port, token, run_id, i, connections // processes + (i < connections % processes), deadline, echo,
                 share) for i in range(processes)]
        parts = pool.map(client_process, jobs)
    merged = {key: sum((p[key] for p in parts), []) for key in parts[0]}
    merged["seconds"] = seconds
    return merged


def figures(result, start, end):
    done = [r for r in result["requests"] if r[2] == 200 and start <= r[0] <= end]
    latencies = sorted(r[1] for r in done)

    def quantile(q):
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0.0
    return {"requests": len(done), "rps": len(done) / max(end - start, 1e-9), "p50_ms": quantile(0.50),
            "p99_ms": quantile(0.99), "max_ms": latencies[-1] * 1000 if latencies else 0.0}


# -- the servers --------------------------------------------------------------------------------------
class Process:
    def __init__(self, name, argv, env, log_path, cwd=ROOT):
        self.name, self.log_path = name, log_path
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def stop(self):
        for sig, wait in ((signal.SIGTERM, 25), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        self.log.close()


def wait_http(url, process, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.process.poll() is not None:
            raise RuntimeError(f"{process.name} exited:\n{Path(process.log_path).read_text(errors='replace')[-3000:]}")
        try:
            requests.get(url, timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{process.name} did not answer at {url} within {seconds} s")


def workers_of(master_pid):
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid:
            children.append(int(stat.parent.name))
    return sorted(children)


def pg_restart():
    """Restart the machine's PostgreSQL cluster; returns (started, accepting again)."""
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    started = time.time()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True,
                   capture_output=True, timeout=120)
    for _ in range(120):
        if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"]).returncode == 0:
            break
        time.sleep(0.25)
    return started, time.time()


class Schema:
    """A throwaway PostgreSQL schema in the given database, dropped at the end."""

    def __init__(self, base_url):
        import psycopg2

        self.base, self.name = base_url, "soak_" + uuid.uuid4().hex[:10]
        with psycopg2.connect(base_url) as connection:
            connection.cursor().execute(f"CREATE SCHEMA {self.name}")
        sep = "&" if "?" in base_url else "?"
        self.url = f"{base_url}{sep}options=-csearch_path%3D{self.name}"
        # The server's connections carry this name, so the soak can cut exactly those (drop_connections).
        self.server_url = f"{self.url}&application_name={self.name}"

    def drop_connections(self):
        """Terminate every connection of the soak's server, as a restart would, without restarting the
        cluster that others use; returns (when, how many)."""
        import psycopg2

        connection = psycopg2.connect(self.base)
        connection.autocommit = True
        cursor = connection.cursor()
        at = time.time()
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
                       (self.name,))
        [(count,)] = cursor.fetchall()
        connection.close()
        return at, count, time.time()  # the backends are told to go between `at` and this

    def query(self, sql, *args):
        import psycopg2

        with psycopg2.connect(self.url) as connection:
            cursor = connection.cursor()
            cursor.execute(sql.replace("?", "%s"), args)
            return cursor.fetchall()

    def drop(self):
        import psycopg2

        connection = psycopg2.connect(self.base)
        connection.autocommit = True
        connection.cursor().execute(f"DROP SCHEMA IF EXISTS {self.name} CASCADE")
        connection.close()


class SqliteFile:
    def __init__(self, path):
        self.url = self.server_url = f"sqlite:///{path}"
        self.path = path

    def query(self, sql, *args):
        import sqlite3

        with sqlite3.connect(self.path, timeout=30) as connection:
            return connection.execute(sql, args).fetchall()

    def drop(self):
        pass


# -- the run -------------------------------------------------------------------------------------------
def soak(args, tmp):
    token = "soak-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=16))
    run_id = "".join(random.choices(string.ascii_lowercase, k=3))
    # --database-url: a PostgreSQL database to make a throwaway schema in, or "sqlite" for a temporary file
    database = Schema(args.database_url) if args.database_url.startswith("postgres") else SqliteFile(tmp / "soak.db")
    port = free_port()
    env = {**os.environ, "WECHAT_TOKEN": token, "WECHAT_AES_KEY": "", "WECHAT_APPID": "wx0000000000soak",
           "DATABASE_URL": (database.server_url.replace("postgresql://", "postgres+pool://", 1) if args.pool
                            else database.server_url),
           "PORT": str(port), "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
           "LEDGER_KEY_PATH": str(tmp / "ledger.pem"), "LEDGER_FEED_PATH": str(tmp / "heads.txt"),
           "RECORDS_PATH": str(tmp / "records"), "COMPLAINT_EVIDENCE_PATH": str(tmp / "evidence"),
           "REPLAY_RECORD_PATH": str(tmp / "replay.d"),
           "BADGE_PHOTO_DIR": str(tmp / "photos"),
           "WECHAT_API_BASE": "http://127.0.0.1:9/cgi-bin/",  # never the real WeChat API from a soak
           "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port} --workers {args.workers}"}
    env.pop("REDIS_URL", None)
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    python = sys.executable
    processes, report = [], {"checks": [], "database": "postgresql" if isinstance(database, Schema) else "sqlite"}
    try:
        subprocess.run([python, "bot.py", "init-db"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
        gunicorn = str(Path(python).with_name("gunicorn"))
        web = Process("web", [gunicorn, "--config", str(ROOT / "deploy" / "gunicorn.conf.py")], env, tmp / "web.log")
        processes.append(web)
        clock = Process("clock", [python, "bot.py", "clock"], env, tmp / "clock.log")
        processes.append(clock)
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/", web)
        for _ in range(60):  # the clock's first beat
            if requests.get(base + "/healthz", timeout=5).status_code == 200:
                break
            time.sleep(0.5)
        report["healthz_before"] = requests.get(base + "/healthz", timeout=5).json()

        events = {}

        def chaos():
            time.sleep(args.duration * 0.3)
            victims = workers_of(web.process.pid)
            if victims:
                victim = random.choice(victims)
                os.kill(victim, signal.SIGKILL)
                events["kill"] = (time.time(), victim)
            if args.pg_restart and isinstance(database, Schema):
                time.sleep(max(0.0, args.duration * 0.5 - (time.time() - started)))
                events["pg_restart"] = pg_restart()
            if isinstance(database, Schema):
                time.sleep(max(0.0, args.duration * 0.7 - (time.time() - started)))
                events["dropped"] = database.drop_connections()

        chaos_thread = threading.Thread(target=chaos, daemon=True)
        started = time.time()
        ours = drive(port, token, run_id, args.duration, args.connections, on_start=chaos_thread.start,
                     share=args.complaint_share)
        chaos_thread.join(180)

        # The service came back by itself.
        back = None
        for _ in range(120):
            response = requests.get(base + "/healthz", timeout=10)
            if response.status_code == 200:
                back = response.json()
                break
            time.sleep(1)
        report["healthz_after"] = back or response.json()
        final = requests.post(base + "/wechat", params=signed_query(token, int(time.time()), uuid.uuid4().hex),
                              data=inbound_xml("o_soak_final", text="帮助", msg_id=1, now=int(time.time())).encode(),
                              timeout=10)
        workers_now = workers_of(web.process.pid)
        web_log = (tmp / "web.log").read_text(errors="replace")
    finally:
        for process in processes:
            process.stop()

    # -- the checks ----------------------------------------------------------------------------------------
    window = None
    if "pg_restart" in events:
        window = (events["pg_restart"][0], events["pg_restart"][1] + 2.0)

    def in_window(start, seconds):
        """The request overlapped the restart (it was under way while PostgreSQL was down), or was under
        way on a connection the soak cut: the fault itself. After it, the service must be whole."""
        end = start + seconds
        if window is not None and start <= window[1] and end >= window[0]:
            return True
        if "kill" in events and start <= events["kill"][0] <= end:
            return True  # under way on the worker that was killed
        # A request under way while the backends were being terminated met the cut itself.
        return "dropped" in events and start <= events["dropped"][2] and end >= events["dropped"][0]

    five = [r for r in ours["requests"] if isinstance(r[2], int) and r[2] >= 500]
    five_outside = [r for r in five if not in_window(r[0], r[1])]
    other_status = [r for r in ours["requests"] if isinstance(r[2], int) and r[2] not in (200,) and r[2] < 500]
    socket_errors = [r for r in ours["requests"] if isinstance(r[2], str)]
    acknowledged = [(t, ticket) for t, ticket in ours["complaints"] if ticket]
    rows = database.query("SELECT ticket, content FROM complaint WHERE content LIKE ?", "%soak-%")
    database.drop()
    by_token = {}
    for ticket, content in rows:
        by_token.setdefault(re.search(r"soak-\S+$", content).group(0), []).append(ticket)
    missing = [(t, k) for t, k in acknowledged if by_token.get(t) != [k]]
    doubled = {t: k for t, k in by_token.items() if len(k) > 1}
    retry_bad = [r for r in ours["retries"] if not r[1] and not in_window(r[3], r[4])]
    # WeChat spreads its three tries over about 15 s; the soak, short of time, over about 1 s, so a
    # message all of whose tries fell in the restart is the restart's, like its 5xx.
    lost_outside = [m for m in ours["lost"] if not in_window(m[0], m[1])]
    apologies_outside = [m for m in ours["apologies"] if not in_window(m[0], m[1])]
    secrets_logged = [w for w in ("signature=", "nonce=", "echostr=", "msg_signature=") if w in web_log]
    msgid_logged = '"msgid"' in web_log

    def check(text, ok):
        report["checks"].append({"check": text, "ok": bool(ok)})

    check(f"5xx outside the PostgreSQL restart: {len(five_outside)} (target 0; {len(five) - len(five_outside)} inside it)",
          not five_outside)
    check(f"messages without a 200 in {TRIES} tries outside the restart: {len(lost_outside)} (target 0; "
          f"{len(ours['lost']) - len(lost_outside)} inside it)", not lost_outside)
    check(f"identical retries answered 200 with the same reply: {len(ours['retries']) - len(retry_bad)} of "
          f"{len(ours['retries'])} (outside the restart)", not retry_bad and ours["retries"])
    check(f"acknowledged complaints present exactly once: {len(acknowledged) - len(missing)} of {len(acknowledged)}; "
          f"complaints filed twice: {len(doubled)}", acknowledged and not missing and not doubled)
    check(f"apologies (message not handled) outside the faults: {len(apologies_outside)} (target 0; "
          f"{len(ours['apologies']) - len(apologies_outside)} during them)", not apologies_outside)
    check(f"unexpected answers in complaint dialogues: {len(ours['bad_replies'])}", not ours["bad_replies"])
    check(f"killed worker replaced: {len(workers_now)} of {args.workers} workers", len(workers_now) == args.workers
          and "kill" in events)
    check(f"/healthz 200 after the faults without a hand: {back is not None}", back is not None)
    check(f"a question answered at the end: HTTP {final.status_code}", final.status_code == 200
          and "<xml>" in final.text)
    check(f"access log without signature/nonce/echostr ({', '.join(secrets_logged) or 'none found'}) and "
          f"with message ids ({msgid_logged})", not secrets_logged and msgid_logged)
    report.update({
        "ours": figures(ours, started, started + args.duration),
        "ours_before_faults": figures(ours, started, started + args.duration * 0.3),
        "counts": {"5xx": len(five), "5xx_outside_restart": len(five_outside), "4xx": len(other_status),
                   "lost_inside_restart": len(ours["lost"]) - len(lost_outside),
                   "socket_errors": len(socket_errors), "retries": len(ours["retries"]),
                   "complaints_acknowledged": len(acknowledged),
                   "complaints_unacknowledged": len(ours["complaints"]) - len(acknowledged),
                   "complaints_in_database": len(rows)},
        "events": {"kill_at": round(events["kill"][0] - started, 1) if "kill" in events else None,
                   "pg_restart": [round(t - started, 1) for t in events["pg_restart"]] if "pg_restart" in events else None,
                   "connections_cut": ([round(events["dropped"][0] - started, 1), events["dropped"][1]]
                                       if "dropped" in events else None)},
        "examples": {"lost": lost_outside[:5], "apologies": apologies_outside[:5], "retry_bad": retry_bad[:5], "bad_replies": ours["bad_replies"][:5],
                     "5xx_outside": five_outside[:5], "missing": missing[:5]},
        "settings": {"duration": args.duration, "connections": args.connections, "workers": args.workers,
                     "cpus": os.cpu_count()},
    })
    if args.echo:
        report["echo"] = run_echo(args, token, run_id, tmp)
    return report


def run_echo(args, token, run_id, tmp):
    """The same clients, questions only, against the bare echo under the same gunicorn settings."""
    port = free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    env = {**os.environ, "WECHAT_TOKEN": token}
    echo = Process("echo", [gunicorn, "--workers", str(args.workers), "--bind", f"127.0.0.1:{port}",
                            "--access-logfile", "-", "--no-control-socket", "echo_app:app"], env, tmp / "echo.log",
                   cwd=ROOT / "bench")
    try:
        wait_http(f"http://127.0.0.1:{port}/", echo)
        started = time.time()
        result = drive(port, token, run_id + "e", args.duration, args.connections, echo=True)
        return figures(result, started, started + args.duration)
    finally:
        echo.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL")
                        or "postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--pool", action="store_true",
                        help="serve with postgres+pool:// (peewee keeps each worker's connections open)")
    parser.add_argument("--complaint-share", type=float, default=COMPLAINT_SHARE,
                        help="share of scenarios that are complaint dialogues (7 messages each)")
    parser.add_argument("--pg-restart", action="store_true", help="restart PostgreSQL in the middle (the machine's cluster!)")
    parser.add_argument("--no-echo", dest="echo", action="store_false", help="skip the echo comparison")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="sanxiang-soak-") as tmp:
        try:
            report = soak(args, Path(tmp))
        except (RuntimeError, subprocess.SubprocessError, requests.RequestException, OSError) as exc:
            print(f"FAIL: the soak could not run: {exc}")
            return 2
        if args.json:
            args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        shutil.rmtree(tmp, ignore_errors=True)

    ours = report["ours"]
    print(f"\nsoak: {args.duration}s, {args.connections} connections, gunicorn {args.workers} sync workers "
          f"(deploy/gunicorn.conf.py), {report['database']}, {os.cpu_count()} CPUs; worker killed at "
          f"{report['events']['kill_at']}s, PostgreSQL restarted at {report['events']['pg_restart']}, "
          f"server's database connections cut at [s, count] {report['events']['connections_cut']}")
    rows = [("sanxiang /wechat, the whole run with the faults", ours),
            ("sanxiang /wechat, before the first fault", report["ours_before_faults"])]
    if "echo" in report:
        rows.append(("bare echo (questions)", report["echo"]))
    for name, f in rows:
        print(f"  {name:<48} {f['rps']:8.1f} req/s  p50 {f['p50_ms']:6.1f} ms  p99 {f['p99_ms']:7.1f} ms  "
              f"max {f['max_ms']:7.1f} ms  ({f['requests']} answered)")
    print(f"  counts: {json.dumps(report['counts'])}")
    for check in report["checks"]:
        print(f"{'PASS' if check['ok'] else 'FAIL'}: {check['check']}")
    failed = [c for c in report["checks"] if not c["ok"]]
    if failed:
        print(f"examples: {json.dumps(report['examples'], ensure_ascii=False, default=str)[:3000]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
