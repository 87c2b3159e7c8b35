"""The `/wechat` endpoint: the protocol only — verify, decrypt, parse, deduplicate, dispatch, reply.

Deciding what to answer lives in the conversation modules (handlers/wechat/<area>.py) through the router.
接入指南: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
"""
import datetime as dt
import logging
import re
import time
from functools import lru_cache
from xml.etree import ElementTree

from flask import Blueprint, Response, abort, current_app, g, request
from peewee import OperationalError, PeeweeException
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.events import EVENT_TYPES
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.fields import DateTimeField, FloatField, IntegerField, StringField
from wechatpy.messages import MESSAGE_TYPES, UnknownMessage
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature
from werkzeug.exceptions import HTTPException

from handlers.wechat.router import Context, router
from handlers.wechat.cache import AnswerCache
from handlers.wechat.paging import render_text
from models.database import redis_client
from models.delivery import InboundMessage
from models.replay import FIRST, REPEAT, PendingClaim, replay_record
from notices.outbox import send_after_response

log = logging.getLogger(__name__)
bp = Blueprint("wechat", __name__)

APOLOGY = "抱歉，系统暂时出了点问题，您的消息没有处理成功。请稍后再试；急事请拨打12345。"
BUSY = "抱歉，现在咨询的人较多，您的消息没有处理成功，请稍后再发一次。"
SUCCESS = "success"  # WeChat's "received, no reply"
# An openid is 28 characters of [A-Za-z0-9_-] and the account's own id starts with gh_; printable ASCII
# is allowed (the shared samples are masked with *), but not ":" or ";", which delimit delivery keys.
ACCOUNT_ID = re.compile(r"[!-9<-~]{1,64}")
SCALAR_FIELDS = (StringField, IntegerField, FloatField, DateTimeField)


def settings():
    return current_app.config["SANXIANG"]["wechat"]


def crypto():
    """The AES helper for safe and compatible modes, or None when no EncodingAESKey is set."""
    return current_app.extensions.get("wechat_crypto")


def verified_request(wechat, encrypted):
    """Check signature and timestamp of the query string; abort 403 on anything wrong.

    `signature` is always required: WeChat sends it with every request, in every mode. (It was
    once enough to send `msg_signature` instead, which the handshake never checked.)
    """
    args = request.args
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    try:
        check_signature(wechat["token"], args.get("signature", ""), timestamp, nonce)
    except InvalidSignatureException:
        abort(403)
    if not timestamp_is_fresh(timestamp, wechat["replay_window_seconds"]):
        abort(403)
    if not encrypted and wechat_mode(wechat) == "safe":
        # 安全模式: WeChat encrypts every message, so a plaintext one was not sent by WeChat.
        abort(403)


def wechat_mode(wechat):
    """plaintext (明文), compatible (兼容) or safe (安全): configured, or safe when an EncodingAESKey is
    set. In compatible mode WeChat sends both forms with encrypt_type=aes, so only plaintext mode, or
    the switch-over to safe mode, needs plaintext accepted."""
    return wechat.get("mode") or ("safe" if wechat.get("aes_key") else "plaintext")


def timestamp_is_fresh(timestamp, window_seconds):
    if not timestamp.isdigit() or len(timestamp) > 12:
        return False
    sent = int(timestamp)
    return abs(current_app.config["CLOCK"]() - sent) <= window_seconds


def is_encrypted():
    return "encrypt_type" in request.args and request.args["encrypt_type"] == "aes"


def plain_refusal(error):
    """WeChat and forgers alike get a bare status line: no page, no trace."""
    return Response(f"{error.code} {error.name}", status=error.code, mimetype="text/plain")


# By code as well as by class: Flask prefers any handler for the code (the public pages' Chinese
# error pages) to a blueprint's handler for the class.
bp.register_error_handler(HTTPException, plain_refusal)
for _code in (400, 403, 404, 405, 413, 429):
    bp.register_error_handler(_code, plain_refusal)


@bp.get("/wechat")
def handshake():
    """服务器配置验证 — echo `echostr` once the signature checks out."""
    verified_request(settings(), is_encrypted())
    return Response(request.args.get("echostr", ""), mimetype="text/plain")


@bp.post("/wechat")
def receive():
    wechat, encrypted = settings(), is_encrypted()
    verified_request(wechat, encrypted)
    body = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH
    xml = decrypt(body) if encrypted else body
    message = well_formed(xml)
    key = InboundMessage.dedup_key(message)
    # Settled now, or (PostgreSQL's table) in answer's first statement: either way before anything is written.
    claim, known_new = current_app.extensions["replay_record"].check_in(
        request.args["timestamp"], request.args["nonce"], body, key, message.source)
    if not claim:
        refuse_replay()
    ctx = context_for(message)
    request.environ["sanxiang.msgid"] = str(getattr(message, "id", 0) or f"event:{message.time}")  # notices/logs.py
    reply_xml = answer(ctx, wechat, claim, known_new, key)
    if not reply_xml:
        response = Response(SUCCESS, mimetype="text/plain")
    elif encrypted:
        response = Response(crypto().encrypt_message(reply_xml, request.args.get("nonce", ""),
                                                     request.args.get("timestamp")), mimetype="application/xml")
    else:
        response = Response(reply_xml, mimetype="application/xml")
    if g.get("batch_full"):
        # Written once the reply has gone out; if another thread is writing already, it is left
        # for the next batch.
        response.call_on_close(lambda: InboundMessage.batch.flush(wait=False))
    if ctx.push_after_reply:
        send_after_response(response, ctx.config)
    return response


@lru_cache(maxsize=None)
def scalar_fields(message_class):
    """(attribute, XML name, whether reading it converts the text) of each scalar field of a message class."""
    return tuple((attribute, field.name, not isinstance(field, StringField))
                 for attribute, field in message_class._fields.items() if isinstance(field, SCALAR_FIELDS))


def well_formed(xml):
    """The parsed message, or 400: every field the app may read is text where text is expected and a
    number where a number is (a field given attributes, children or twice parses as a dict or list),
    and the user and account ids look like WeChat's. Nothing later has to wonder.

    Its scalar fields are then converted once and kept on the message (`settled`)."""
    try:
        message = flat_message(xml) or parse_message(xml)
        if message is None:
            abort(400)
        data = message._data  # noqa: SLF001 — the parsed fields as they came, before conversion
        values = {}
        for attribute, name, converts in scalar_fields(type(message)):
            raw = data.get(name)
            if raw is not None and not isinstance(raw, str):
                abort(400)
            values[attribute] = getattr(message, attribute)  # a number that is not one fails here
    except HTTPException:
        raise
    except Exception:  # noqa: BLE001 — whatever a malformed body breaks in the parser, it is a bad request
        abort(400)
    source, target, msg_id, sent = values["source"], values["target"], values["id"], values["time"]
    if not (ACCOUNT_ID.fullmatch(source or "") and ACCOUNT_ID.fullmatch(target or "x")
            and 0 <= (msg_id or 0) < 2**63 and isinstance(sent, int) and 0 <= sent < 2**40):
        abort(400)
    return settled(message, values)


@lru_cache(maxsize=None)
def settled_class(message_class):
    """`message_class` with its scalar fields as plain attributes of the instance: wechatpy's field
    descriptors convert the raw text again on every read, ~15 reads a message (make bench)."""
    plain = {attribute: None for attribute, _, _ in scalar_fields(message_class)}
    return type(message_class.__name__, (message_class,), {**plain, "__module__": message_class.__module__})


def settled(message, values):
    """`message`, its scalar fields fixed at `values` (what the descriptors returned)."""
    message.__class__ = settled_class(type(message))
    message.__dict__.update(values)
    return message


# What flat_message leaves to wechatpy's own parser: a declaration, a DOCTYPE (entities), a comment.
NOT_FLAT = re.compile(r"<\?|<!(?!\[CDATA\[)")


def flat_message(xml):
    """The message wechatpy's parse_message would make of `xml`, parsed by ElementTree's C parser — or
    None, for wechatpy to parse, unless `xml` is what WeChat sends: <xml> holding once each elements of
    text, no attributes, no nesting, nothing between them but white space, no declaration, DOCTYPE or
    comment. For such a document the fields are exactly xmltodict's (text joined, stripped, None when
    empty); xmltodict's handler calls per element cost every message ~10 µs (make bench).
    The event classes are chosen as wechatpy.parser.parse_message chooses them (wechatpy 1.8)."""
    try:
        text = xml.decode("utf-8") if isinstance(xml, bytes) else xml
        if not text or NOT_FLAT.search(text):
            return None
        root = ElementTree.fromstring(text)
    except (UnicodeDecodeError, ElementTree.ParseError):
        return None
    if root.tag != "xml" or root.attrib or (root.text or "").strip() or not len(root):
        return None
    fields = {}
    for child in root:
        tag = child.tag
        if (not isinstance(tag, str) or "{" in tag or tag in fields or child.attrib or len(child)
                or (child.tail or "").strip()):
            return None
        fields[tag] = (child.text or "").strip() or None
    message_type = fields.get("MsgType")
    if message_type is None:
        return None
    message_type = message_type.lower()
    if message_type.startswith("device_"):
        return None  # hardware messages: as wechatpy names them
    if message_type != "event":
        return MESSAGE_TYPES.get(message_type, UnknownMessage)(fields)
    event_type = None
    if "Event" in fields:
        if fields["Event"] is None:
            return None  # wechatpy fails on it: a bad request
        event_type = fields["Event"].lower()
    if event_type == "subscribe" and fields.get("EventKey"):
        event_key = fields["EventKey"]
        if event_key.startswith(("scanbarcode|", "scanimage|")):
            event_type = fields["Event"] = "subscribe_scan_product"
        elif event_key.startswith("qrscene_"):
            event_type = fields["Event"] = "subscribe_scan"
            fields["EventKey"] = event_key[len("qrscene_"):]
    return EVENT_TYPES.get(event_type, UnknownMessage)(fields)


def decrypt(body):
    helper = crypto()
    if helper is None:
        log.warning("encrypted message received but no EncodingAESKey is configured")
        abort(403)
    args = request.args
    try:
        return helper.decrypt_message(body, args.get("msg_signature", ""), args.get("timestamp", ""),
                                      args.get("nonce", ""))
    except (InvalidSignatureException, InvalidAppIdException):
        abort(403)
    except Exception:  # noqa: BLE001 — bad XML, base64, padding or text inside: a bad request
        abort(400)


def context_for(message):
    app = current_app._get_current_object()  # noqa: SLF001 — one proxy lookup, not five (make bench)
    return Context(message=message, config=app.config["SANXIANG"], cache=app.extensions["answer_cache"],
                   now=dt.datetime.fromtimestamp(app.config["CLOCK"]()))


def refuse_replay():
    log.warning("signed request used again with another body: refused")
    abort(403)


def answer(ctx, wechat, claim=FIRST, known_new=False, key=None):
    """The reply XML for the message of `ctx`, computed once per delivery key and replayed for retries.

    `claim`: what the replay record said of this request (models/replay.py), or a PendingClaim that the
    first look at the database settles. REPEAT: this very request was received before (WeChat delivering
    again). Its first delivery's reply may not be recorded yet — a read-only answer is written in a
    batch, possibly by another worker — and answering anew could say something else (下一页 moves on),
    so it is waited for. `known_new`: the replay record knows that no reply is stored for this delivery and
    that no hook claims the user's messages (FileReplayRecord.check_in), so the database is not asked.
    `key`: the message's delivery key, if the caller has it already.
    """
    message = ctx.message
    key = key or InboundMessage.dedup_key(message)
    pending = claim if isinstance(claim, PendingClaim) else None
    try:
        if known_new:
            stored, ctx.user_rows = None, dict.fromkeys(map(InboundMessage.column_key, router.claiming_columns(ctx)),
                                                        False)
        else:
            # A retry's stored reply, whether a hook claims the user's messages (and with PostgreSQL's
            # table the replay claim): one round trip.
            stored, ctx.user_rows = InboundMessage.first_look(key, message.source, router.claiming_columns(ctx),
                                                              claim=pending)
        if pending is not None:
            claim = pending.outcome
            if not claim:
                raise _Refused
        if stored is None and claim == REPEAT:
            stored = InboundMessage.wait_for_reply(key, wechat["repeat_wait_seconds"])
        if stored is not None:
            return stored
        if router.is_read_only(ctx):
            reply, g.batch_full = InboundMessage.answer_read_only(
                key, message.source, lambda: render_reply(ctx, router.dispatch_tables), looked_up=True)
        else:
            # It may open a dialogue (a complaint draft): from now on, the user's messages ask the database.
            current_app.extensions["replay_record"].may_have_rows(message.source)
            reply = InboundMessage.answer_once(key, message.source, lambda: render_reply(ctx, router.dispatch),
                                               wechat["retry_wait_seconds"])
    except _Refused:
        refuse_replay()
    except OperationalError:
        if pending is not None and pending.outcome is None:
            raise  # not even claimed: 503, as when a claim of its own fails (handlers/web/layout.py)
        # Nothing was written; the apology is not recorded, so the user's next try is answered. But if
        # this is WeChat's retry of a delivery that was answered meanwhile, that answer is the reply.
        log.exception("database busy while answering %s", key)
        return _stored_or(key, TextReply(message=message, content=BUSY).render())
    except Exception:  # noqa: BLE001 — a citizen must get words, not a 500; the log keeps the trace
        if pending is not None and pending.outcome is None:
            raise
        log.exception("handler failed for message %s", key)
        reply = InboundMessage.record_failure(key, message.source,
                                              TextReply(message=message, content=APOLOGY).render())
    return reply or ""


class _Refused(Exception):
    """The replay record refused this request in the first look (PostgreSQL): 403, nothing written."""


def _stored_or(key, fallback):
    try:
        stored = InboundMessage.stored_reply(key)
    except PeeweeException:  # the connection may be gone with the error: the apology, then
        stored = None
    return fallback if stored is None else stored


def render_reply(ctx, dispatch):
    """(reply XML or "" for success, pages left for "下一页")."""
    text = render_text(ctx, dispatch(ctx))
    reply = text_reply(ctx.message, text) if text else ""
    return reply, ctx.pages_left


def _text_reply_parts():
    """wechatpy's TextReply rendered once with markers, cut at them: its own layout and field order."""
    marks = {"content": "\x00content\x00", "source": "\x00source\x00", "target": "\x00target\x00"}
    xml = TextReply(time=987654321987, **marks).render()
    order = sorted([*marks, "time"], key=lambda name: xml.index(marks.get(name, "987654321987")))
    for mark in [*marks.values(), "987654321987"]:
        xml = xml.replace(mark, "\x00")
    return tuple(xml.split("\x00")), tuple(order)


_TEXT_REPLY = _text_reply_parts()


def text_reply(message, content):
    """The same XML as TextReply(message=message, content=content).render(), a seventh of the cost: wechatpy
    converts and formats field by field through descriptors, which cost every reply ~10 µs (make bench)."""
    parts, order = _TEXT_REPLY
    values = {"content": content, "source": message.target or "", "target": message.source or "",
              "time": str(int(time.time()))}  # a missing ToUserName renders empty, as in wechatpy
    out = [parts[0]]
    for name, part in zip(order, parts[1:]):
        out += (values[name], part)
    return "".join(out)


def users_in_dialogue():
    """Every openid some hook claims messages by (a complaint being filed): FileReplayRecord's seed."""
    return InboundMessage.users_with_rows(hook.claims_users_in for hook in router.interceptors)


def install(app):
    """Register the endpoint and its AES helper on `app`."""
    wechat = app.config["SANXIANG"]["wechat"]
    if wechat.get("aes_key"):
        app.extensions["wechat_crypto"] = WeChatCrypto(wechat["token"], wechat["aes_key"], wechat["appid"])
    app.extensions["answer_cache"] = AnswerCache()
    app.extensions["replay_record"] = replay_record(app.config["SANXIANG"], redis_client(app.config["SANXIANG"]),
                                                    users_with_rows=users_in_dialogue)
    InboundMessage.batch.configure(wechat["record_batch_seconds"], wechat["record_batch_size"])
    app.register_blueprint(bp)
