"""gunicorn settings file: start the clock once, in the master process, when the server is ready."""
import settings

_scheduler = None


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
