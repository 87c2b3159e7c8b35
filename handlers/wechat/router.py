"""Who answers what: handlers register themselves by keyword, menu key, event, message type or scene.

A registry, not an if-chain (as wechatpy registers its message classes): each conversation module
decorates its functions, and `dispatch` picks the one that fits an incoming message. Staff `#`
commands are a sub-table of the same registry (`router.staff`); handlers/wechat/staff.py is the gate
that checks who sent one.
"""
import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from functools import partial


def read_only(func):
    """Mark a handler that writes nothing (reads only), so its answer needs no transaction.

    Router.is_read_only trusts this mark; tests/test_router.py checks every marked handler.
    """
    func.read_only = True
    return func


@dataclass
class Context:
    """What a handler gets: the parsed message, who sent it, the configuration and the time."""

    message: object
    config: dict
    now: dt.datetime = field(default_factory=dt.datetime.now)
    cache: object = None  # handlers.wechat.cache.AnswerCache of the app, for read-only answers
    # What "下一页" will show of a long answer (handlers/wechat/paging.py): the pages themselves, or
    # where to rebuild them from; None: this answer leaves the user's earlier long answer as it was.
    pages_left: object = None
    answered_by: tuple = None  # (handler name, argument, answer) of a cached answer (handlers/wechat/cache.py)
    route: tuple = None  # (handler, args) once Router.resolve has found them for this message
    # Set by a handler that queued messages (a complaint filed, a staff action): the endpoint sends
    # them once the reply is out (notices/outbox.py).
    push_after_reply: bool = False

    @property
    def openid(self):
        return self.message.source


def normalize(text):
    """Fold full-width characters and surrounding punctuation so "执法人员　张三？" finds 执法人员."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    return text.strip("?？!！。.,，;； ")


class Router:
    def __init__(self):
        self.keywords = {}
        self.clicks = {}
        self.events = {}
        self.message_types = {}
        self.scenes = {}
        self.fallback = None
        self.interceptors = []
        self.staff_commands = {}  # "#受理 …" -> func(ctx, staff, rest)
        self.staff_help = {}  # section -> usage lines, for #帮助
        self._sorted = {}

    # -- registration -------------------------------------------------------------------------
    def keyword(self, *words):
        """Text that equals or starts with one of `words`; the handler gets the rest as `arg`."""
        return self._register(self.keywords, [w.lower() for w in words])

    def click(self, *keys):
        """A custom-menu CLICK with one of `keys`."""
        return self._register(self.clicks, keys)

    def event(self, *names):
        """An event by wechatpy's lower-case event name (subscribe, scan, …)."""
        return self._register(self.events, names)

    def message(self, *types):
        """A non-text message type (image, voice, location, …)."""
        return self._register(self.message_types, types)

    def scene(self, prefix):
        """A parametric-QR scene string starting with `prefix` (subscribe_scan and scan events)."""
        return self._register(self.scenes, [prefix])

    def staff(self, name, usage, section):
        """A staff command `#name …`, answered by `func(ctx, staff, rest)` for people on the staff list
        (handlers/wechat/staff.py checks that); `usage` is its line in #帮助, under `section`."""
        def decorator(func):
            self.staff_commands[name] = func
            self.staff_help.setdefault(section, []).append(usage)
            return func
        return decorator

    def text_fallback(self, func):
        self.fallback = func
        return func

    def intercept(self, claims):
        """A hook that takes a non-event message before the tables, as `func(ctx, proceed)`.

        `claims(ctx)` says, reading only, whether the hook wants this message: an ongoing dialogue
        (a complaint being filed) takes all of one user's messages this way. `proceed()` hands the
        message on to the ordinary dispatch and returns its answer.
        """
        def decorator(func):
            func.claims = claims
            self.interceptors.append(func)
            return func
        return decorator

    @staticmethod
    def _register(table, names):
        def decorator(func):
            for name in names:
                table[name] = func
            return func
        return decorator

    # -- dispatch ---------------------------------------------------------------------------------
    def dispatch(self, ctx):
        """Return the handler's answer (text, Paged or None for a silent `success`)."""
        proceed = partial(self.dispatch_tables, ctx)
        if ctx.message.type != "event":
            for interceptor in reversed(self.interceptors):
                proceed = partial(interceptor, ctx, proceed)
        return proceed()

    def is_read_only(self, ctx):
        """Whether answering `ctx` writes nothing: no hook claims it, and its handler is @read_only.

        Such an answer needs no transaction of its own (see InboundMessage.answer_read_only), and is
        then computed by `dispatch_tables`, since no hook wanted it.
        """
        if ctx.message.type != "event" and any(hook.claims(ctx) for hook in self.interceptors):
            return False
        handler, args = self.resolve(ctx)
        if handler is None:
            return True
        # A handler that dispatches further (the `#` gate) says per message whether what it reaches reads only.
        read_only_for = getattr(handler, "read_only_for", None)
        if read_only_for is not None:
            return read_only_for(*args)
        return getattr(handler, "read_only", False)

    def dispatch_tables(self, ctx):
        handler, args = self.resolve(ctx)
        return handler(ctx, *args) if handler else None

    def resolve(self, ctx):
        """The table handler for the message and its arguments after ctx, or (None, ()).

        Found once per message: is_read_only and then dispatch_tables both ask."""
        if ctx.route is None:
            ctx.route = self._resolve(ctx)
        return ctx.route

    def _resolve(self, ctx):
        message = ctx.message
        if message.type == "text":
            return self._resolve_text(normalize(message.content))
        if message.type == "event":
            return self._resolve_event(message)
        return self.message_types.get(message.type) or self.message_types.get("*"), ()

    def _resolve_text(self, text):
        lowered = text.lower()
        for word in self._longest_first(self.keywords):
            if lowered.startswith(word):
                return self.keywords[word], (text[len(word):].strip(),)
        return self.fallback, (text,)

    def _resolve_event(self, message):
        scene = self._scene_of(message)
        if scene is not None:
            for prefix in self._longest_first(self.scenes):
                if scene.startswith(prefix):
                    return self.scenes[prefix], (scene[len(prefix):],)
        if message.event == "click":
            return self.clicks.get(message.key), ("",)
        return self.events.get(message.event), ()

    def _longest_first(self, table):
        """The table's names, longest first, so "执法人员" wins over "人员"; sorted once per size."""
        cached = self._sorted.get(id(table))
        if cached is None or len(cached) != len(table):
            cached = self._sorted[id(table)] = sorted(table, key=len, reverse=True)
        return cached

    @staticmethod
    def _scene_of(message):
        if message.event in ("subscribe_scan", "scan"):
            return getattr(message, "scene_id", None) or None
        return None


router = Router()
