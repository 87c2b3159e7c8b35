"""gunicorn configuration for production (deploy/systemd/sanxiang-web.service):

    /opt/sanxiang/.venv/bin/gunicorn --config /opt/sanxiang/deploy/gunicorn.conf.py

- listens on loopback only (server.host:PORT, default 127.0.0.1:8080); nginx in front terminates TLS
  (deploy/nginx/sanxiang.conf) — WeChat calls only ports 80 and 443;
- 4 sync workers: each answers one request at a time, well inside WeChat's 5 s; a worker that hangs
  is killed after `timeout` and replaced, so does one killed by the kernel (`make soak` checks it);
- JSON logs on stdout/stderr (journald keeps them); the access log names the path only, never the query
  string with WeChat's signature and nonce (notices/logs.py);
- no clock here: it runs once, as its own service (deploy/systemd/sanxiang-clock.service).

Override per machine without editing this file, e.g. in /etc/sanxiang/env:
    GUNICORN_CMD_ARGS="--workers 8"
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import settings  # noqa: E402
from notices.gunicorn_hooks import logger_class, post_worker_init  # noqa: E402,F401 — gunicorn reads these names

_server = settings.load_config()["server"]

wsgi_app = "bot:create_app()"
chdir = str(ROOT)
bind = f"{_server['host']}:{_server['port']}"
workers = 4
worker_class = "sync"
timeout = 30            # a worker silent this long is killed and replaced
graceful_timeout = 20   # on stop/restart, requests under way get this long to finish
keepalive = 5
accesslog = "-"
errorlog = "-"
loglevel = "info"
# Where X-Forwarded-Proto is believed from: nginx on this machine. The client address the app trusts
# is decided by the app's configured proxy count, not here.
forwarded_allow_ips = "127.0.0.1,::1"
# gunicorn's control socket would default to one path in $HOME shared by every gunicorn of the user.
control_socket_disable = True
