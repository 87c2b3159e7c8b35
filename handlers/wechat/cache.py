"""A short-lived, per-process memory of public answers, so a popular question costs no queries.

The public lists change a few times a year (Excel import, an officer's status); every answer is
rebuilt at most `answer_cache_seconds` after it was cached, so a change reaches the chat within
that time in every worker. Only handlers that read the public lists and write nothing use it.
"""
import time
from functools import wraps

from handlers.wechat.router import read_only


class AnswerCache:
    def __init__(self, max_entries=1024):
        self.max_entries = max_entries
        self._entries = {}

    def get_or_compute(self, key, ttl_seconds, compute):
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = compute()
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # crude, but bounded: the cache refills from the hottest questions
        self._entries[key] = (now + ttl_seconds, value)
        return value

    def clear(self):
        self._entries.clear()


# Cached handlers by name, so "下一页" can rebuild a long answer instead of storing its pages.
CACHED_HANDLERS = {}


def cached_answer(func):
    """Cache a read-only handler's answer per (handler, argument, day) in the context's cache.

    Only a handler that writes nothing may be cached, so this also marks it @read_only. It notes
    in `ctx.answered_by` which handler and argument gave which answer (the outermost, if one calls
    another), which is all "下一页" needs to find the rest of a long answer again.
    """
    name = f"{func.__module__}.{func.__name__}"

    @read_only
    @wraps(func)
    def wrapper(ctx, arg=""):
        ttl = ctx.config["wechat"].get("answer_cache_seconds", 0)
        if ctx.cache is None or ttl <= 0:
            answer = func(ctx, arg)
        else:
            key = (func.__module__, func.__name__, arg, ctx.now.date())  # the day: certificates expire
            answer = ctx.cache.get_or_compute(key, ttl, lambda: func(ctx, arg))
        ctx.answered_by = (name, arg, answer)
        return answer

    CACHED_HANDLERS[name] = wrapper
    return wrapper
