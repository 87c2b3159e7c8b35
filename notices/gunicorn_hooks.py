"""gunicorn settings file of `bot.py serve`: start the clock once, in the master process, when the
server is ready; JSON logs whose access lines name the path only (notices/logs.py).

The production configuration, deploy/gunicorn.conf.py, takes its logging and worker hooks from here
but leaves the clock to its own service.
"""
import gc

import settings

_scheduler = None
_standin = None
# Never the query string (WeChat's signature, nonce, echostr …): see notices/logs.py.
logger_class = "notices.logs.JsonLogger"


def when_ready(server):
    global _scheduler, _standin
    from notices.clock import start_clock
    from notices.wechat_standin import standin_base, start_for, wanted

    config = settings.load_config()
    settings.apply_timezone(config)
    _scheduler = start_clock(config)
    server.log.info("clock started: %s", ", ".join(j.id for j in _scheduler.get_jobs()))
    # No WeChat account configured (bot.py serve pointed the workers here): the local stand-in.
    if wanted(config) and config["wechat"]["api_base"] == standin_base(config):
        _standin = start_for(config, server.log)
        if _standin is not None:
            server.log.info("local WeChat API stand-in at %s", _standin.api_base)


def on_exit(server):
    if _scheduler is not None:
        _scheduler.shutdown(wait=False)
    if _standin is not None:
        _standin.stop()


def post_worker_init(worker):
    """Everything loaded with the app (libraries, models, routes, configuration) lives as long as
    the worker: take it out of the cyclic collector's scans, which then see only what requests
    leave behind (make bench: about 3% more throughput). jieba's dictionary is loaded first, so no
    resident's question waits a second for it."""
    from models.retrieval import warm_up

    warm_up()
    gc.freeze()
