"""gunicorn settings file: start the clock once, in the master process, when the server is ready."""
import gc

import settings

_scheduler = None

# The path without its query string: /wechat's query carries signature, msg_signature, nonce and
# echostr, which anyone reading the log could otherwise use within the replay window.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'


def when_ready(server):
    global _scheduler
    from notices.clock import start_clock

    config = settings.load_config()
    settings.apply_timezone(config)
    _scheduler = start_clock(config)
    server.log.info("clock started: %s", ", ".join(j.id for j in _scheduler.get_jobs()))


def on_exit(server):
    if _scheduler is not None:
        _scheduler.shutdown(wait=False)


def post_worker_init(worker):
    """Everything loaded with the app (libraries, models, routes, configuration) lives as long as
    the worker: take it out of the cyclic collector's scans, which then see only what requests
    leave behind (make bench: about 3% more throughput)."""
    gc.freeze()
