"""Opening the database: PostgreSQL through a pool of connections per process (models/database.py)."""
import os

import psycopg2
import pytest
from peewee import PostgresqlDatabase

from models.database import (Pool, connection, db, execute_often, open_configured, open_database, request_finished,
                             request_started)

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="TEST_DATABASE_URL not set")


@pytest.fixture
def url():
    return os.environ["TEST_DATABASE_URL"]


@pytest.fixture(autouse=True)
def close_afterwards():
    yield
    if db.obj is not None:
        if not db.is_closed():
            db.close()
        if isinstance(db.obj, Pool):
            db.obj.close_idle()


def backend_pid():
    with connection():
        return db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]


def test_a_postgresql_url_opens_a_pool_sized_by_the_configuration(url):
    database = open_configured({"database": {"url": url, "pool_size": 3, "pool_wait_seconds": 2}})
    assert isinstance(database, Pool) and db.obj is database
    assert database._max_connections == 3 and database._wait_timeout == 2


def test_the_url_wins_over_the_configuration(url):
    sep = "&" if "?" in url else "?"
    database = open_database(f"{url}{sep}max_connections=7", pool={"pool_size": 3})
    assert database._max_connections == 7


def test_the_clock_opens_it_unpooled(url):
    """gunicorn's master runs the clock and forks the workers: it must hold no connections between jobs."""
    database = open_configured({"database": {"url": url}}, pooled=False)
    assert isinstance(database, PostgresqlDatabase) and not isinstance(database, Pool)


def test_a_closed_connection_goes_back_to_the_pool_and_is_used_again(url, monkeypatch):
    open_database(url)
    opened = []
    real_connect = psycopg2.connect
    monkeypatch.setattr(psycopg2, "connect", lambda *a, **k: opened.append(1) or real_connect(*a, **k))
    pids = {backend_pid() for _ in range(20)}
    assert len(pids) == 1 and len(opened) == 1


def test_a_connection_ended_by_the_server_is_replaced_after_idling(url):
    """A restarted server (or an administrator's pg_terminate_backend) leaves dead connections in the
    pool: one idle past ping_idle_seconds is asked before use and replaced, unnoticed by the request."""
    open_database(url, pool={"pool_ping_idle_seconds": 0})
    first = backend_pid()
    admin = psycopg2.connect(url)
    admin.autocommit = True
    admin.cursor().execute("SELECT pg_terminate_backend(%s)", (first,))
    admin.close()
    second = backend_pid()
    assert second != first


def test_a_connection_just_handed_back_is_not_asked_again(url, monkeypatch):
    """The ping is a round trip per request: skipped for a connection used a moment ago (make bench)."""
    database = open_database(url, pool={"pool_ping_idle_seconds": 60})
    backend_pid()
    asked = []
    real = type(database._adapter).is_connection_closed
    monkeypatch.setattr(type(database._adapter), "is_connection_closed",
                        lambda self, conn: asked.append(1) or real(self, conn))
    for _ in range(5):
        backend_pid()
    assert asked == []
    open_database(url, pool={"pool_ping_idle_seconds": 0})
    backend_pid()
    backend_pid()
    assert asked == [1]


def test_a_statement_run_on_every_message_is_prepared_once_per_session(url):
    open_database(url)
    with connection():
        statements = lambda: db.execute_sql(  # noqa: E731
            "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'sanxiang_%%'").fetchone()[0]
        assert execute_often("SELECT {}::int + {}::int", (1, 2)).fetchone() == (3,)
        assert statements() == 1
        assert execute_often("SELECT {}::int + {}::int", (3, 4)).fetchone() == (7,) and statements() == 1
        # A session that lost it (a pooler's DISCARD ALL, a new connection) prepares it again.
        db.execute_sql("DEALLOCATE ALL")
        assert execute_often("SELECT {}::int + {}::int", (5, 6)).fetchone() == (11,) and statements() == 1
        # Inside a transaction a failed EXECUTE would abort it: the plain statement runs instead.
        db.execute_sql("DEALLOCATE ALL")
        with db.atomic():
            assert execute_often("SELECT {}::int + {}::int", (7, 8)).fetchone() == (15,)
            assert statements() == 0


def test_a_worker_keeps_its_connection_from_one_request_to_the_next(url, monkeypatch):
    """Checked out once, not per request (make bench); still checked as a checkout would check it."""
    database = open_database(url, pool={"pool_ping_idle_seconds": 60})
    checkouts = []
    real = Pool._connect
    monkeypatch.setattr(Pool, "_connect", lambda self: checkouts.append(1) or real(self))
    pids = set()
    for _ in range(5):
        request_started()
        pids.add(db.execute_sql("SELECT pg_backend_pid()").fetchone()[0])
        request_finished()
    assert len(pids) == 1 and checkouts == [1] and not database.is_closed()


def test_a_kept_connection_left_in_a_transaction_is_rolled_back_before_the_next_request(url):
    open_database(url)
    request_started()
    request_finished()
    db.connection().cursor().execute("BEGIN")  # as a push after the reply might leave it
    db.connection().cursor().execute("CREATE TEMPORARY TABLE left_open (x int)")
    request_started()
    assert db.connection().get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    assert db.execute_sql("SELECT to_regclass('pg_temp.left_open')").fetchone() == (None,)
    request_finished()


def test_a_kept_connection_ended_by_the_server_is_replaced_at_the_next_request(url):
    open_database(url, pool={"pool_ping_idle_seconds": 0})
    request_started()
    first = db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    request_finished()
    admin = psycopg2.connect(url)
    admin.autocommit = True
    admin.cursor().execute("SELECT pg_terminate_backend(%s)", (first,))
    admin.close()
    request_started()
    assert db.execute_sql("SELECT pg_backend_pid()").fetchone()[0] != first
    request_finished()
