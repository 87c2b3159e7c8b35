"""Structured logs: one JSON object per line, for the web workers (gunicorn), the clock and journald.

    {"time": "2026-11-30T02:13:14+08:00", "level": "INFO", "logger": "access", "method": "POST",
     "path": "/wechat", "status": 200, "ms": 14.2, "bytes": 512, "msgid": "24623468236486", "pid": 811, …}

- Every line logged while a WeChat message is handled carries its message id (`msgid`: the MsgId, or
  `event:<CreateTime>` for an event), and the path; the endpoint puts the id in the WSGI environ
  (`sanxiang.msgid`), where this module's filter and gunicorn's access log both find it.
- The access log names the path only, never the query string: WeChat's `signature`,
  `msg_signature`, `timestamp`, `nonce` and `echostr` (and a citizen's search) stay out of the logs.
  As a second guard every line is scrubbed of those parameters wherever they appear.

`JsonLogger` is gunicorn's `logger_class` (notices/gunicorn_hooks.py, deploy/gunicorn.conf.py);
`use_json_logs()` sets up the same for a process that is not gunicorn (`bot.py clock`).
"""
import datetime as dt
import json
import logging
import re
import sys

from flask import has_request_context, request
from gunicorn.glogging import Logger

from models.database import process_id

MSGID_ENVIRON = "sanxiang.msgid"

SECRET_PARAMS = re.compile(r"(?i)\b(signature|msg_signature|nonce|echostr|timestamp)=[^&\s\"']*")


def scrub(text):
    return SECRET_PARAMS.sub(r"\1=-", text)


class JsonFormatter(logging.Formatter):
    """A record as one JSON line; a dict message (the access log) is merged in as fields."""

    def format(self, record):
        entry = {"time": dt.datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name}
        if isinstance(record.msg, dict):
            entry.update(record.msg)
        else:
            entry["message"] = scrub(record.getMessage())
        for key in ("msgid", "method", "path"):
            value = getattr(record, key, None)
            if value and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        entry["pid"] = process_id()  # asked of the kernel once per process, not per line
        return json.dumps(entry, ensure_ascii=False, default=str)


class RequestContext(logging.Filter):
    """Adds the request's path and method, and the WeChat message id being handled, to each record."""

    def filter(self, record):
        if has_request_context():
            record.method, record.path = request.method, request.path
            msgid = request.environ.get(MSGID_ENVIRON)
            if msgid:
                record.msgid = msgid
        return True


def json_handler(stream):
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContext())
    return handler


def use_json_logs(level=logging.INFO, stream=None):
    """Send every logger's records to `stream` (stderr) as JSON lines, replacing the root's handlers."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(json_handler(stream or sys.stderr))
    root.setLevel(level)
    # What a JSON line does not show is not gathered for each record: the caller's file and line (a
    # walk up the stack), the thread and the process (asked of the kernel); the pid comes from
    # models.database.process_id.
    logging._srcfile = None  # noqa: SLF001 — the documented switch (logging/__init__.py)
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False


class JsonLogger(Logger):
    """gunicorn's logger, writing JSON: its own messages, the app's (through the root logger) and an
    access line per request with the path only."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())
        use_json_logs(self.LOG_LEVELS.get(cfg.loglevel.lower(), logging.INFO))

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
        entry = {"logger": "access", "request": f"{method} {path} {environ.get('SERVER_PROTOCOL')}",
                 "method": method, "path": path,
                 "status": int(status) if str(status).isdigit() else status,
                 "ms": round(request_time.total_seconds() * 1000, 1), "bytes": getattr(resp, "sent", None),
                 "remote": environ.get("REMOTE_ADDR"), "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR")}
        msgid = environ.get(MSGID_ENVIRON)
        if msgid:
            entry["msgid"] = msgid
        try:
            self.access_log.info({k: v for k, v in entry.items() if v is not None})
        except Exception:  # noqa: BLE001 — as gunicorn's own access(): a log line never fails a request
            self.exception("access log failed")
