"""What `/healthz` reports, and the clock's heartbeat it reads.

A county server has one person on call. `/healthz` answers the questions that person (or a monitor
polling it) asks first: does the database answer, does Redis (when configured), is the clock alive
(it writes a heartbeat row every minute: `ClockHeartbeat`), and how old is the last signed tree head
(one is signed every day; an old one means the daily job has stopped or refused to sign).
Each check is cheap and bounded in time, so a monitor can poll every few seconds.
"""
import datetime as dt
import socket
import time

from peewee import CharField, DateTimeField

from models import ledger
from models.database import BaseModel, db

CLOCK = "clock"


class ClockHeartbeat(BaseModel):
    """One row per beating process (today only the clock): when it last beat, and where from."""

    name = CharField(primary_key=True)
    beat_at = DateTimeField()  # UTC, naive: compared with utcnow() whatever the process zone
    host = CharField(default="")

    class Meta:
        table_name = "clock_heartbeat"


def beat(name=CLOCK, now=None):
    """Record that `name` is alive now (an upsert: one row, whatever the backend)."""
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    (ClockHeartbeat.insert(name=name, beat_at=now, host=socket.gethostname()[:200])
     .on_conflict(conflict_target=[ClockHeartbeat.name],
                  update={ClockHeartbeat.beat_at: now, ClockHeartbeat.host: socket.gethostname()[:200]})
     .execute())
    return now


def _check(fn):
    """Run one check: (ok, details). An exception is a failed check, never a 500."""
    started = time.monotonic()
    try:
        ok, details = fn()
    except Exception as exc:  # noqa: BLE001 — whatever broke, the monitor must get a JSON answer
        ok, details = False, {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    details = {"ok": ok, **details, "ms": round((time.monotonic() - started) * 1000, 1)}
    return details


def _database():
    db.execute_sql("SELECT 1").fetchone()
    return True, {"backend": type(db.obj).__name__}


def _redis(url, timeout):
    import redis

    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()
    return True, {}


def _clock(max_age, now):
    row = ClockHeartbeat.get_or_none(ClockHeartbeat.name == CLOCK)
    if row is None:
        return False, {"error": "the clock has never beaten: is the clock service running?"}
    age = (now - row.beat_at).total_seconds()
    return age <= max_age, {"age_seconds": round(age, 1), "max_age_seconds": max_age, "host": row.host}


def _tree_head(max_age, now):
    from models.treehead import TreeHead

    head = TreeHead.select().order_by(TreeHead.id.desc()).first()
    if head is None:
        # An empty log needs no head yet; entries with no head at all mean signing never ran.
        entries = ledger.LedgerEntry.select().count()
        return entries == 0, {"entries": entries, "error": None if entries == 0 else "no tree head signed yet"}
    signed = dt.datetime.fromisoformat(head.timestamp).astimezone(dt.timezone.utc).replace(tzinfo=None)
    age = (now - signed).total_seconds()
    return age <= max_age, {"age_seconds": round(age), "max_age_seconds": max_age, "size": head.size}


def health_report(config, now=None):
    """(healthy, report): every check, each {"ok": …, details, "ms": …}; healthy only if all are ok."""
    section = config.get("health") or {}
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    timeout = float(section.get("check_timeout_seconds", 2))
    checks = {"database": _check(_database)}
    if config.get("redis", {}).get("url"):
        checks["redis"] = _check(lambda: _redis(config["redis"]["url"], timeout))
    if checks["database"]["ok"]:
        checks["clock"] = _check(lambda: _clock(int(section.get("clock_max_age_seconds", 180)), now))
        checks["tree_head"] = _check(lambda: _tree_head(int(section.get("tree_head_max_age_hours", 26)) * 3600, now))
    else:
        # Both live in the database: without it they cannot be known, which is not healthy either.
        checks["clock"] = {"ok": False, "error": "database unavailable"}
        checks["tree_head"] = {"ok": False, "error": "database unavailable"}
    healthy = all(check["ok"] for check in checks.values())
    return healthy, {"status": "ok" if healthy else "fail", "checks": checks,
                     "time": now.replace(tzinfo=dt.timezone.utc).isoformat(timespec="seconds")}

