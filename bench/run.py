"""`make bench`: throughput and latency of POST /wechat against a bare wechatpy echo, in one run, on
SQLite and on PostgreSQL.

All servers run under gunicorn with the same settings (2 sync workers, access log on), each on a
free loopback port; the bot gets a fresh database seeded by `bot.py serve` (init-db): a temporary
SQLite file, and — when the server of BENCH_DATABASE_URL (default: the local test server) answers — a
schema of its own there (bench_<run>, dropped afterwards), so it never meets the tests' schemas.
The same wrk client drives them all with 32 connections: signed plaintext-mode messages, a mix of the
public queries and menu events, a unique MsgId per request and many openids. Each database's rounds
alternate with rounds of the echo, and its ratio is against those: the ratio is what counts on a
shared machine; the latency targets are absolute.

    .venv/bin/python bench/run.py [--duration 20] [--rounds 5] [--warmup 3] [--connections 32]
                                  [--databases sqlite,postgresql]

Exit status 0 when every target is met, 1 when one is missed, 2 when the bench could not run.
"""
import argparse
import os
import random
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))

from handlers.cli.chat import inbound_xml, signed_query  # noqa: E402

# What citizens ask (texts) and press (events); cycled through in this order by every connection.
TEXTS = ["帮助", "执法主体", "执法人员", "执法人员 包海龙", "执法事项", "网吧", "旅行社", "假唱", "抽查事项",
         "流程", "救济", "投诉方式", "下一页"]
# Questions in residents' own words (tests/wechat/questions.yaml has more): over a third of the mix.
NATURAL = ["网吧几点关门？", "导游没证怎么办", "你们电话多少", "我被罚款了不服怎么办", "网咖能通宵吗", "你好",
           "KTV开到几点", "怎么投诉", "楼上太吵了😡", "谢谢！"]
TEXTS += NATURAL
EVENTS = ["subscribe", "click:ITEMS", "click:OFFICERS", "click:FLOWS"]

MIN_RATIO = {"sqlite": 0.7, "postgresql": 0.6}  # ours >= this x the echo's requests/s
MAX_P99_MS = 100.0       # p99 latency
MAX_LATENCY_S = 4.5      # no reply slower than this (WeChat gives up after 5 s)
GUNICORN_WORKERS = 2
DEFAULT_POSTGRESQL = "postgresql://postgres@127.0.0.1:5432/test"
DATABASES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_wrk():
    if shutil.which("wrk"):
        return shutil.which("wrk")
    print("wrk is missing: installing the Debian package", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "wrk"]
    if subprocess.run(install, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
        subprocess.run(install, env=env, stdout=subprocess.DEVNULL, check=False)
    return shutil.which("wrk")


def write_templates(path, now):
    """One inbound XML per line, from the terminal chat's builder, with placeholders for wrk."""
    lines = [inbound_xml("@OPENID@", text=text, msg_id="@MSGID@", now=now) for text in TEXTS]
    lines += [inbound_xml("@OPENID@", event=event, now=now) for event in EVENTS]
    assert all("\n" not in line for line in lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class Server:
    """A gunicorn started in its own process group; stop() ends that group, whatever happens."""

    def __init__(self, name, argv, env, cwd, port):
        self.name, self.port = name, port
        self.url = f"http://127.0.0.1:{port}"
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                                        stderr=self.log, start_new_session=True)

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                requests.get(self.url + "/", timeout=5)
                return
            except requests.RequestException:
                time.sleep(0.1)
        self.log.seek(0)
        raise RuntimeError(f"{self.name} did not start:\n" + self.log.read().decode(errors="replace")[-3000:])

    def stop(self):
        """SIGTERM to the whole group (gunicorn's master and workers), SIGKILL if that is not enough."""
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(wait)
                time.sleep(0.2)  # let the workers see their master go
            except subprocess.TimeoutExpired:
                continue
        self.log.close()


def gunicorn_argv(port, app):
    """The echo baseline's gunicorn: the worker settings `bot.py serve` uses (sync, access log on)."""
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    return [gunicorn, "--workers", str(GUNICORN_WORKERS), "--bind", f"127.0.0.1:{port}",
            "--access-logfile", "-", app]


def check_reply(url, query, xml):
    """One request by hand before the load, so a broken server fails loudly, not as 100% errors."""
    response = requests.post(url + "/wechat", params=query, data=xml.encode("utf-8"), timeout=10,
                             headers={"Content-Type": "text/xml"})
    if response.status_code != 200 or not response.text.lstrip().startswith("<xml>"):
        raise RuntimeError(f"smoke request failed: HTTP {response.status_code} {response.text[:300]!r}")


def run_wrk(wrk, server, query, templates, seconds, connections, run_id):
    run_id = run_id.replace(" ", "")  # part of every nonce (wechat.lua): unique per run, no spaces
    argv = [wrk, "--threads", "2", "--connections", str(connections), "--duration", f"{seconds}s",
            "--timeout", "10s", "--script", str(BENCH / "wechat.lua"), server.url + "/wechat",
            "--", query, str(templates), run_id]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    stats, quantiles = None, []
    for line in result.stdout.splitlines():
        if line.startswith("BENCH "):
            stats = {k: float(v) for k, v in (item.split("=") for item in line.split()[1:])}
        elif line.startswith("QUANTILES "):
            quantiles = [int(v) for v in line.split()[1].split(",")]
    if stats is None:
        raise RuntimeError(f"wrk failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    stats["quantiles"] = quantiles
    return stats


def merge(rounds):
    """One figure set from several wrk runs: totals added, latency quantiles weighted by requests."""
    total = {key: sum(r[key] for r in rounds) for key in
             ("requests", "duration_us", "bad", "bad_status", "connect", "read", "write", "status", "timeout")}
    total["rps"] = total["requests"] / (total["duration_us"] / 1e6)
    total["errors"] = total["bad"] + total["connect"] + total["read"] + total["write"] + total["timeout"]
    total["max_us"] = max(r["max_us"] for r in rounds)
    points = sorted((value, r["requests"] / len(r["quantiles"])) for r in rounds for value in r["quantiles"])
    weight = sum(w for _, w in points)

    def percentile(p):
        seen = 0.0
        for value, w in points:
            seen += w
            if seen >= weight * p / 100:
                return value
        return points[-1][0] if points else 0

    total["p50_us"], total["p99_us"] = percentile(50), percentile(99)
    return total


def measure(wrk, echo, ours, query, templates, args, run_id):
    """Warm every server up, then measure in alternating rounds — the echo, then one database, the
    echo, the next — so a burst of other load on this shared machine falls on both sides of each
    comparison. Returns {database: (echo figures, ours figures)}: each against the echo rounds run
    next to it."""
    rounds = {name: ([], []) for name in ours}
    each = max(1, args.duration // args.rounds)
    print(f"warm-up {args.warmup}s each, then {args.rounds} alternating rounds of {each}s each, "
          f"{args.connections} connections", flush=True)
    for server in [echo, *ours.values()]:
        if args.warmup:
            run_wrk(wrk, server, query, templates, args.warmup, args.connections, f"{run_id}{server.name}w")
    for i in range(args.rounds):
        for name, server in ours.items():
            for side, runner in zip(rounds[name], (echo, server)):
                stats = run_wrk(wrk, runner, query, templates, each, args.connections,
                                f"{run_id}{name[0]}{runner.name}{i}")
                side.append(stats)
                print(f"  round {i + 1} {runner.name:<10}: {stats['requests'] / (stats['duration_us'] / 1e6):7.1f} "
                      "req/s", flush=True)
    return {name: (merge(echo_rounds), merge(ours_rounds)) for name, (echo_rounds, ours_rounds) in rounds.items()}


ROWS = [  # (label, figure of one server's merged rounds)
    ("req/s", lambda s: f"{s['rps']:.1f}"),
    ("p50 ms", lambda s: f"{s['p50_us'] / 1000:.1f}"),
    ("p99 ms", lambda s: f"{s['p99_us'] / 1000:.1f}"),
    ("max ms", lambda s: f"{s['max_us'] / 1000:.1f}"),
    ("requests", lambda s: f"{int(s['requests'])}"),
    ("errors", lambda s: f"{int(s['errors'])}"),
]


def side_by_side(figures):
    """One table per database, side by side: echo and ours, each database against its own echo rounds."""
    names = list(figures)
    width = 22
    lines = ["".ljust(10) + " │ ".join(DATABASES[n].ljust(width) for n in names),
             "".ljust(10) + " │ ".join(f"{'echo':>10}{'ours':>12}" for _ in names)]
    for label, value in ROWS:
        lines.append(label.ljust(10) + " │ ".join(
            f"{value(figures[n][0]):>10}{value(figures[n][1]):>12}" for n in names))
    ratios = []
    for n in names:
        echo, ours = figures[n]
        ratio = ours["rps"] / echo["rps"] if echo["rps"] else 0.0
        ratios.append(f"{'':>10}{f'{ratio:.2f}x':>12}")
    lines.append("ratio".ljust(10) + " │ ".join(ratios))
    return "\n".join(lines)


def verdicts(name, ours, echo):
    ratio = ours["rps"] / echo["rps"] if echo["rps"] else 0.0
    label = DATABASES[name]
    checks = [
        (f"{label}: throughput ratio {ratio:.2f}x of the echo (target >= {MIN_RATIO[name]}x)",
         ratio >= MIN_RATIO[name]),
        (f"{label}: p99 latency {ours['p99_us'] / 1000:.1f} ms (target <= {MAX_P99_MS:.0f} ms)",
         ours["p99_us"] / 1000 <= MAX_P99_MS),
        (f"{label}: max latency {ours['max_us'] / 1e6:.2f} s (target <= {MAX_LATENCY_S} s, no timeouts)",
         ours["max_us"] / 1e6 <= MAX_LATENCY_S and ours["timeout"] == 0),
        (f"{label}: errors {int(ours['errors'])} of {int(ours['requests'])} (non-200, non-XML, socket; target 0)",
         ours["errors"] == 0),
    ]
    return ratio, checks


class PostgreSQLSchema:
    """A schema of this run's own on the bench's PostgreSQL server, dropped at the end; None if the
    server does not answer (then only SQLite is measured)."""

    def __init__(self, base_url, run_id):
        self.base_url, self.name, self.admin = base_url, f"bench_{run_id}", None

    def create(self):
        import psycopg2

        try:
            self.admin = psycopg2.connect(self.base_url, connect_timeout=3)
        except psycopg2.Error as exc:
            return f"not reachable ({str(exc).strip().splitlines()[0]})"
        self.admin.autocommit = True
        with self.admin.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA {self.name}")
            cursor.execute("SELECT current_setting('server_version'), current_setting('synchronous_commit'), "
                           "current_setting('shared_buffers'), current_setting('fsync'), "
                           "current_setting('max_connections')")
            self.settings = dict(zip(("version", "synchronous_commit", "shared_buffers", "fsync", "max_connections"),
                                     cursor.fetchone()))
        return None

    @property
    def url(self):
        sep = "&" if "?" in self.base_url else "?"
        return f"{self.base_url}{sep}options=-csearch_path%3D{self.name}"

    def drop(self):
        if self.admin is None:
            return
        with self.admin.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {self.name} CASCADE")
        self.admin.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=20, help="measured seconds per server and database")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds the duration is cut into")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured seconds per server first")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--databases", default="sqlite,postgresql",
                        help="which of sqlite,postgresql (PostgreSQL: BENCH_DATABASE_URL, default "
                             f"{DEFAULT_POSTGRESQL}; skipped when it does not answer)")
    args = parser.parse_args()
    wanted = [name.strip() for name in args.databases.split(",") if name.strip()]
    if not wanted or any(name not in DATABASES for name in wanted):
        parser.error(f"--databases: a list of {', '.join(DATABASES)}")

    wrk = ensure_wrk()
    if not wrk:
        print("FAIL: wrk is not installed and could not be installed (apt-get install wrk)")
        return 2

    token = "bench-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=16))
    now = int(time.time())
    query = f"{token}|{now}"  # wechat.lua signs each request with a nonce of its own
    run_id = "".join(random.choices(string.ascii_lowercase, k=4))

    postgresql, notes = None, []
    if "postgresql" in wanted:
        postgresql = PostgreSQLSchema(os.environ.get("BENCH_DATABASE_URL") or DEFAULT_POSTGRESQL, run_id)
        problem = postgresql.create()
        if problem:
            notes.append(f"PostgreSQL at {postgresql.base_url} {problem}: not measured "
                         "(set BENCH_DATABASE_URL to measure it)")
            wanted.remove("postgresql")
            postgresql = None
        if not wanted:
            print("FAIL: " + notes[0])
            return 2

    servers = []
    with tempfile.TemporaryDirectory(prefix="sanxiang-bench-") as tmp:
        tmp = Path(tmp)
        templates = tmp / "messages.txt"
        write_templates(templates, now)
        base_env = {**os.environ, "WECHAT_TOKEN": token, "WECHAT_AES_KEY": "", "WECHAT_APPID": "wx0000000000bench",
                    # never reach the real WeChat API from a bench
                    "WECHAT_API_BASE": "http://127.0.0.1:9/cgi-bin/", "SECRET_KEY": "bench-" + token}
        base_env.pop("REDIS_URL", None)
        urls = {"sqlite": f"sqlite:///{tmp / 'bench.db'}", "postgresql": postgresql and postgresql.url}
        try:
            echo_port = free_port()
            echo = Server("echo", gunicorn_argv(echo_port, "echo_app:app"), base_env, BENCH, echo_port)
            servers.append(echo)
            ours = {}
            for name in wanted:
                port, files = free_port(), tmp / name
                env = {**base_env, "DATABASE_URL": urls[name], "PORT": str(port),
                       "LEDGER_KEY_PATH": str(files / "ledger.pem"), "LEDGER_FEED_PATH": str(files / "heads.txt"),
                       "RECORDS_PATH": str(files / "records"),
                       "COMPLAINT_EVIDENCE_PATH": str(files / "evidence"), "REPLAY_RECORD_PATH": str(files / "replay.d"),
                       "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
                ours[name] = Server(f"ours {name}", [sys.executable, "bot.py", "serve", "--workers",
                                                     str(GUNICORN_WORKERS)], env, ROOT, port)
                servers.append(ours[name])
            smoke = inbound_xml("o_bench_smoke", text="帮助", msg_id=1, now=now)
            for server in servers:
                server.wait_ready()
                check_reply(server.url, signed_query(token, now, "".join(random.choices(string.digits, k=10))), smoke)
            figures = measure(wrk, echo, ours, query, templates, args, run_id)
        except (RuntimeError, subprocess.TimeoutExpired, requests.RequestException) as exc:
            print(f"FAIL: the bench could not run: {exc}")
            return 2
        finally:
            for server in servers:
                server.stop()
            if postgresql is not None:
                postgresql.drop()

    print(f"\nPOST /wechat, {args.connections} connections, gunicorn {GUNICORN_WORKERS} sync workers, "
          f"{args.duration}s each ({args.rounds} rounds) after {args.warmup}s warm-up, {os.cpu_count()} CPUs:")
    print(side_by_side(figures))
    if postgresql is not None:
        print("PostgreSQL " + ", ".join(f"{k} {v}" for k, v in postgresql.settings.items())
              + f" (schema {postgresql.name}, dropped)")
    print()
    results = []
    for name, (echo_stats, ours_stats) in figures.items():
        _, checks = verdicts(name, ours_stats, echo_stats)
        results += checks
        if echo_stats["errors"]:
            notes.append(f"the echo next to {DATABASES[name]} had {int(echo_stats['errors'])} errors; "
                         "its throughput may be off")
    for text, ok in results:
        print(f"{'PASS' if ok else 'FAIL'}: {text}")
    for note in notes:
        print(f"note: {note}")
    return 0 if all(ok for _, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())
