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

from models.delivery import InboundMessage


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
    # (table, column) -> whether this user has a row there, looked up with the delivery (endpoint.answer)
    user_rows: dict = None

    @property
    def openid(self):
        return self.message.source

    def user_has_row(self, column):
        """Whether this user has a row in `column`'s table: as looked up with the delivery, or asked now."""
        known = (self.user_rows or {}).get(InboundMessage.column_key(column))
        if known is None:
            _, rows = InboundMessage.first_look(None, self.openid, [column])
            known = rows[InboundMessage.column_key(column)]
        return known


# Full-width letters, digits, space and ＃ typed on a phone become their ASCII forms; punctuation stays
# as written ("经核查，…处理。" is stored, replied and pushed exactly so).
TEXT_FOLD = str.maketrans({0x3000: " ", 0xFF03: "#",
                           **{c: c - 0xFEE0 for r in ((0xFF10, 0xFF1A), (0xFF21, 0xFF3B), (0xFF41, 0xFF5B))
                              for c in range(*r)}})
EDGE_PUNCTUATION = "?？!！。.,，;；:：、~～…·'\"“”‘’()（）[]【】<>《》 \t\r\n"


def normalize(text):
    """The message as handlers get it: full-width letters, digits and spaces folded, ends trimmed;
    its punctuation kept, since what a citizen or a clerk wrote is stored and sent as written."""
    return (text or "").translate(TEXT_FOLD).strip()


def plain(text):
    """`text` without the punctuation around it, for looking things up ("执法人员　张三？" → 张三)."""
    return normalize(text).strip(EDGE_PUNCTUATION)


def match_form(text):
    """A same-length form of normalized `text` to compare with keywords: each character in its NFKC
    form (？→?, Ｋ→K) where that is one character, lower case."""
    folded = []
    for char in text:
        form = unicodedata.normalize("NFKC", char)
        folded.append(form.lower() if len(form) == 1 else char)
    return "".join(folded)


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
        self.intents = {}  # intent name -> handler(ctx, arg)
        self.understanders = []  # (func(ctx, text) -> (intent, arg) | None, before_keywords)
        self._name_lengths = {}  # id(table) -> (its size, its longest name's length)

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

    def intent(self, *names):
        """What a text means when no keyword says it (a greeting, "我想投诉"), as an understander found."""
        return self._register(self.intents, names)

    def understand(self, before_keywords=False):
        """A function `func(ctx, text) -> (intent name, arg) or None` that reads free text.

        One `before_keywords` sees the text before the keyword table (so "投诉电话是多少" can be a
        question rather than a complaint "电话是多少"); the others only text no keyword took. They read
        only; the intent's handler does the rest.
        """
        def decorator(func):
            self.understanders.append((func, before_keywords))
            return func
        return decorator

    def text_fallback(self, func):
        self.fallback = func
        return func

    def intercept(self, claims_users_in):
        """A hook that takes a non-event message before the tables, as `func(ctx, proceed)`.

        It claims the messages of every user who has a row in the table of `claims_users_in` (a field
        holding openids): an ongoing dialogue (a complaint being filed) takes all of one user's messages
        this way. The endpoint asks for those rows in the same round trip as the delivery's stored reply
        (`InboundMessage.first_look`): on PostgreSQL each question is a wait for the server (make bench).
        `proceed()` hands the message on to the ordinary dispatch and returns its answer.
        """
        def decorator(func):
            func.claims_users_in = claims_users_in
            self.interceptors.append(func)
            return func
        return decorator

    def claiming_columns(self, ctx):
        """The columns whose rows would let a hook claim this message (none for an event)."""
        return [] if ctx.message.type == "event" else [hook.claims_users_in for hook in self.interceptors]

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
        if any(ctx.user_has_row(column) for column in self.claiming_columns(ctx)):
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
            return self._resolve_text(ctx, normalize(message.content))
        if message.type == "event":
            return self._resolve_event(message)
        return self.message_types.get(message.type) or self.message_types.get("*"), ()

    def _resolve_text(self, ctx, text):
        folded = match_form(text)
        lead = len(folded) - len(folded.lstrip(EDGE_PUNCTUATION))
        body = folded[lead:]
        exact = body.rstrip(EDGE_PUNCTUATION)
        if exact in self.keywords:  # a message that is just a keyword ("抽查结果") means that keyword
            return self.keywords[exact], ("",)
        understood = self._understood(ctx, text, before_keywords=True)
        if understood:
            return understood
        word = self.keyword_at(body)
        if word is not None:
            return self.keywords[word], (text[lead + len(word):].strip(),)
        return self._understood(ctx, text, before_keywords=False) or (self.fallback, (text,))

    def keyword_at(self, folded):
        """The longest keyword `folded` (a match_form text) starts with, or None."""
        return self._longest_prefix(self.keywords, folded)

    def _understood(self, ctx, text, before_keywords):
        for func, early in self.understanders:
            if early == before_keywords:
                found = func(ctx, text)
                if found and found[0] in self.intents:
                    return self.intents[found[0]], (found[1],)
        return None

    def _resolve_event(self, message):
        scene = self._scene_of(message)
        if scene is not None:
            prefix = self._longest_prefix(self.scenes, scene)
            if prefix is not None:
                return self.scenes[prefix], (scene[len(prefix):],)
        if message.event == "click":
            return self.clicks.get(message.key), ("",)
        return self.events.get(message.event), ()

    def _longest_prefix(self, table, text):
        """The longest name in `table` that `text` starts with, or None, so "执法人员" wins over "人员": one
        lookup per length up to the longest name, not a startswith per name (~60 a message, make bench)."""
        known = self._name_lengths.get(id(table))
        if known is None or known[0] != len(table):
            known = self._name_lengths[id(table)] = (len(table), max(map(len, table), default=0))
        for end in range(min(len(text), known[1]), -1, -1):
            if text[:end] in table:
                return text[:end]
        return None

    @staticmethod
    def _scene_of(message):
        if message.event in ("subscribe_scan", "scan"):
            return getattr(message, "scene_id", None) or None
        return None


router = Router()
