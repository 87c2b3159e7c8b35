"""Shared fixtures: a seeded database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set), the app,
a WeChat-speaking test client, a live gunicorn server and a fake WeChat API."""
import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import tempfile
import uuid
from pathlib import Path

import pytest
import requests
from wechatpy import parse_message

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bot  # noqa: E402
from models.seed import prepare_database  # noqa: E402
from handlers.cli.chat import inbound_xml, signed_query  # noqa: E402
from models import InboundMessage, db  # noqa: E402
from tests.fake_wechat import FakeWeChat  # noqa: E402

SAMPLES = ROOT.parent / "shared" / "wechat-samples"
TOKEN = "test-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wx2c2769f8efd9abc2"


def backends():
    """The databases the tests run on: TEST_BACKENDS (sqlite, postgresql or both, comma-separated), else
    SQLite, and PostgreSQL too when the environment names one. CI runs the suite once per backend."""
    chosen = [b.strip() for b in os.environ.get("TEST_BACKENDS", "").split(",") if b.strip()]
    names = chosen or (["sqlite", "postgresql"] if os.environ.get("TEST_DATABASE_URL") else ["sqlite"])
    if "postgresql" in names and not postgresql_reachable():
        pytest.exit("TEST_BACKENDS asks for PostgreSQL, but TEST_DATABASE_URL is unset or unreachable", returncode=3)
    return names


def postgresql_reachable():
    import psycopg2

    try:
        psycopg2.connect(os.environ["TEST_DATABASE_URL"], connect_timeout=5).close()
        return True
    except (KeyError, psycopg2.Error):
        return False


# A server started by a test (the live tests, the browser) runs the production pair, PostgreSQL with
# Redis, when the suite runs on PostgreSQL only (CI's second pass), else the embedded default.
SERVER_BACKEND = "postgresql" if backends() == ["postgresql"] else "sqlite"


@contextlib.contextmanager
def postgresql_schema():
    """A throwaway schema of the test PostgreSQL; yields its URL."""
    import psycopg2

    base = os.environ["TEST_DATABASE_URL"]
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = psycopg2.connect(base)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        admin.cursor().execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


@pytest.fixture(params=backends())
def database_url(request, tmp_path):
    """A fresh, empty database URL: a temporary SQLite file, or a throwaway PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    with postgresql_schema() as url:
        yield url
        if db.obj is not None and not db.is_closed():
            db.close()


def make_config(database_url, **wechat):
    """An app's configuration for a test. On PostgreSQL it has Redis too (if the environment names one),
    as the production deployment does, under a prefix of its own."""
    redis = {"url": os.environ.get("TEST_REDIS_URL", ""), "prefix": "sanxiang-t-" + uuid.uuid4().hex[:8]}
    if not database_url.startswith("postgresql"):
        redis["url"] = ""
    else:
        # the replay record's files (beside a SQLite file anyway): in a folder of the test's, not var/
        wechat.setdefault("replay_record_path", tempfile.mkdtemp(prefix="sanxiang-replay-"))
    return {"database": {"url": database_url}, "redis": redis,
            # Compatible mode: most tests post plaintext; test_endpoint covers safe mode.
            "wechat": {"token": TOKEN, "aes_key": AES_KEY, "appid": APPID, "mode": "compatible", **wechat},
            "server": {"public_base_url": "http://testserver", "secret_key": "test-secret"}}


@pytest.fixture
def redis_url():
    """The test Redis (TEST_REDIS_URL; .ci/run sets it), emptied of this app's keys afterwards."""
    import redis

    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL not set (.ci/run sets it)")
    client = redis.Redis.from_url(url)
    yield url
    for key in client.scan_iter("sanxiang*"):
        client.delete(key)
    client.close()


@pytest.fixture
def fake_wechat():
    fake = FakeWeChat().start()
    yield fake
    fake.stop()


@pytest.fixture
def app(database_url, fake_wechat):
    config = make_config(database_url, api_base=fake_wechat.api_base)
    application = bot.create_app({"SANXIANG": config, "TESTING": True})
    prepare_database(application.config["SANXIANG"])
    yield application
    InboundMessage.batch.flush()  # this test's delivery records, before its database goes
    if db.obj is not None and not db.is_closed():
        db.close()


@pytest.fixture
def client(app):
    return app.test_client()


class WeChatUser:
    """Talks to the endpoint the way WeChat does: signed query, optional AES, real XML."""

    def __init__(self, client, app, openid="o_citizen_1"):
        self.client, self.app, self.openid = client, app, openid

    def query(self, timestamp=None, nonce=None):
        """A freshly signed query: WeChat signs each request with a new nonce, and the endpoint accepts
        a (timestamp, nonce) pair with one body only."""
        return signed_query(TOKEN, int(timestamp or self.app.config["CLOCK"]()), nonce or uuid.uuid4().hex[:10])

    def post(self, xml, query=None, **kwargs):
        return self.client.post("/wechat", query_string=query or self.query(), data=xml,
                                content_type="text/xml", **kwargs)

    def say(self, text, **kwargs):
        """Send a text message; return the reply's text."""
        response = self.post(inbound_xml(self.openid, text=text, **kwargs))
        assert response.status_code == 200, response.data
        return parse_message(response.data).content

    def event(self, event):
        response = self.post(inbound_xml(self.openid, event=event))
        assert response.status_code == 200, response.data
        return response.data.decode() if response.data == b"success" else parse_message(response.data).content


class Visitor:
    """A browser's visit: the session cookie kept, and each form posted with the CSRF token the page
    gave it (as the real pages do). Anything else is the test client's own."""

    CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')

    def __init__(self, client):
        self.client = client

    def csrf_token(self, page="/complaints/status"):
        return self.CSRF_FIELD.search(self.client.get(page).get_data(as_text=True)).group(1)

    def post(self, path, data=None, **kwargs):
        return self.client.post(path, data={"csrf_token": self.csrf_token(), **(data or {})}, **kwargs)

    def __getattr__(self, name):
        return getattr(self.client, name)


@pytest.fixture
def visitor(app):
    return Visitor(app.test_client())


@pytest.fixture
def wechat_user(client, app):
    return WeChatUser(client, app)


def wait_until(predicate, timeout, message, interval=0.05):
    """Poll `predicate` until it is true; fail with `message` once `timeout` seconds have passed.

    For what happens in another process or thread: a test waits for it, never sleeps and hopes."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} (waited {timeout} s)")
        time.sleep(interval)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """`python bot.py serve` (gunicorn, 2 workers) on a free port with its own SQLite database."""
    with serving(tmp_path_factory.mktemp("live")) as server:
        yield server


@contextlib.contextmanager
def serving(folder, backend=None, **extra_env):
    """Run `python bot.py serve` with its files in `folder` and `extra_env` added, on SERVER_BACKEND
    (or `backend`): SQLite in `folder`, or a PostgreSQL schema of its own with Redis."""
    with contextlib.ExitStack() as stack:
        if (backend or SERVER_BACKEND) == "postgresql":
            url = stack.enter_context(postgresql_schema())
            extra_env = {"REDIS_URL": os.environ.get("TEST_REDIS_URL", ""),
                         "REDIS_PREFIX": "sanxiang-live-" + uuid.uuid4().hex[:8], **extra_env}
        else:
            url = f"sqlite:///{folder / 'live.db'}"
        yield stack.enter_context(serving_on(folder, url, extra_env))


@contextlib.contextmanager
def serving_on(folder, database_url, extra_env):
    """`bot.py serve` on `database_url` with a fake WeChat API, its files in `folder`."""
    port = free_port()
    fake = FakeWeChat().start()
    db_path = folder / "live.db"
    env = {**os.environ, "PORT": str(port), "DATABASE_URL": database_url,
           "WECHAT_TOKEN": TOKEN, "WECHAT_AES_KEY": AES_KEY, "WECHAT_APPID": APPID, "WECHAT_MODE": "compatible",
           "WECHAT_API_BASE": fake.api_base, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
           # keep the server's files in the test's own folder, not the project's var/
           "LEDGER_KEY_PATH": str(db_path.parent / "ledger.pem"),
           "LEDGER_FEED_PATH": str(db_path.parent / "heads.txt"), "RECORDS_PATH": str(db_path.parent / "records"),
           "COMPLAINT_EVIDENCE_PATH": str(db_path.parent / "evidence"), "REPLAY_RECORD_PATH": str(db_path.parent / "replay.d"),
           "SECRET_KEY": "live-test-secret", **extra_env}
    try:
        with server_process(env, folder):
            yield {"url": f"http://127.0.0.1:{port}", "env": env, "db_path": db_path, "fake": fake, "port": port,
                   "database_url": database_url, "log": folder / "server.log",
                   "sql": lambda statement, *args: run_sql(database_url, statement, args)}
    finally:
        fake.stop()


@contextlib.contextmanager
def server_process(env, folder):
    """`python bot.py serve` with `env`, its log in folder/server.log, until the block ends."""
    # The server's log goes to a file: a pipe nobody reads would fill up and stall the server.
    log = open(folder / "server.log", "w")
    process = subprocess.Popen([sys.executable, "bot.py", "serve"], cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        wait_until_serving(f"http://127.0.0.1:{env['PORT']}", process, log)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


def run_sql(database_url, statement, args=()):
    """Run one statement (with ? placeholders) on a server's database from outside; its rows, committed."""
    if database_url.startswith("sqlite"):
        import sqlite3

        with contextlib.closing(sqlite3.connect(database_url[len("sqlite:///"):], timeout=10)) as conn:
            with conn:
                return conn.execute(statement, args).fetchall()
    import psycopg2

    with contextlib.closing(psycopg2.connect(database_url)) as conn:
        with conn, conn.cursor() as cursor:
            cursor.execute(statement.replace("?", "%s"), args or None)
            return cursor.fetchall() if cursor.description else []


def wait_until_serving(base, process, log, seconds=60):
    """Poll until the server answers; a slow machine gets time, a dead server fails with its log."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {Path(log.name).read_text(errors='replace')[-2000:]}")
        try:
            requests.get(base + "/", timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"server at {base} did not answer within {seconds} s")


CHROMIUM = "/usr/bin/chromium"
# Without these, Chromium reaches for Google's hosts, which this closed network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (installed by `make browser`)."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail("chromium is missing: run `make browser` (make test does)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def phone(browser):
    """A page the size of a phone (390×844) in WeChat's browser, Chinese locale."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page
    context.close()
