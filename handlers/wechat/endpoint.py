"""The `/wechat` endpoint: the protocol only — verify, decrypt, parse, deduplicate, dispatch, reply.

Deciding what to answer lives in the conversation modules (handlers/wechat/<area>.py) through the router.
接入指南: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
"""
import binascii
import datetime as dt
import logging
from xml.parsers.expat import ExpatError

from flask import Blueprint, Response, abort, current_app, g, request
from peewee import OperationalError
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature
from werkzeug.exceptions import HTTPException

from handlers.wechat.router import Context, router
from handlers.wechat.cache import AnswerCache
from handlers.wechat.paging import render_text
from models.delivery import InboundMessage
from notices.outbox import send_after_response

log = logging.getLogger(__name__)
bp = Blueprint("wechat", __name__)

APOLOGY = "抱歉，系统暂时出了点问题，您的消息没有处理成功。请稍后再试；急事请拨打12345。"
BUSY = "抱歉，现在咨询的人较多，您的消息没有处理成功，请稍后再发一次。"
SUCCESS = "success"  # WeChat's "received, no reply"


def settings():
    return current_app.config["SANXIANG"]["wechat"]


def crypto():
    """The AES helper for safe and compatible modes, or None when no EncodingAESKey is set."""
    return current_app.extensions.get("wechat_crypto")


def verified_request(wechat, encrypted):
    """Check signature and timestamp of the query string; abort 403 on anything wrong."""
    args = request.args
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    signature = args.get("signature")
    if not signature and not (encrypted and args.get("msg_signature")):
        abort(403)
    if signature:
        try:
            check_signature(wechat["token"], signature, timestamp, nonce)
        except InvalidSignatureException:
            abort(403)
    if not timestamp_is_fresh(timestamp, wechat["replay_window_seconds"]):
        abort(403)


def timestamp_is_fresh(timestamp, window_seconds):
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    return abs(current_app.config["CLOCK"]() - sent) <= window_seconds


def is_encrypted():
    return "encrypt_type" in request.args and request.args["encrypt_type"] == "aes"


@bp.errorhandler(HTTPException)
def plain_refusal(error):
    """WeChat and forgers alike get a bare status line: no page, no trace."""
    return Response(f"{error.code} {error.name}", status=error.code, mimetype="text/plain")


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
    try:
        message = parse_message(xml)
    except (ExpatError, KeyError, TypeError, ValueError, AttributeError):
        abort(400)
    if message is None or not message.source:
        abort(400)
    ctx = context_for(message)
    reply_xml = answer(ctx, wechat)
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
    except (ExpatError, KeyError, TypeError, ValueError, binascii.Error, UnicodeDecodeError):
        abort(400)


def context_for(message):
    app = current_app._get_current_object()  # noqa: SLF001 — one proxy lookup, not five (make bench)
    return Context(message=message, config=app.config["SANXIANG"], cache=app.extensions["answer_cache"],
                   now=dt.datetime.fromtimestamp(app.config["CLOCK"]()))


def answer(ctx, wechat):
    """The reply XML for the message of `ctx`, computed once per delivery key and replayed for retries."""
    message = ctx.message
    key = InboundMessage.dedup_key(message)
    try:
        # A retry's stored reply, and whether a hook claims the user's messages: one round trip.
        stored, ctx.user_rows = InboundMessage.first_look(key, message.source, router.claiming_columns(ctx))
        if stored is not None:
            return stored
        if router.is_read_only(ctx):
            reply, g.batch_full = InboundMessage.answer_read_only(
                key, message.source, lambda: render_reply(ctx, router.dispatch_tables), looked_up=True)
        else:
            reply = InboundMessage.answer_once(key, message.source, lambda: render_reply(ctx, router.dispatch),
                                               wechat["retry_wait_seconds"])
    except OperationalError:
        # Nothing was written; the apology is not recorded, so the user's next try is answered.
        log.exception("database busy while answering %s", key)
        return TextReply(message=message, content=BUSY).render()
    except Exception:  # noqa: BLE001 — a citizen must get words, not a 500; the log keeps the trace
        log.exception("handler failed for message %s", key)
        reply = InboundMessage.record_failure(key, message.source,
                                              TextReply(message=message, content=APOLOGY).render())
    return reply or ""


def render_reply(ctx, dispatch):
    """(reply XML or "" for success, pages left for "下一页")."""
    text = render_text(ctx, dispatch(ctx))
    reply = TextReply(message=ctx.message, content=text).render() if text else ""
    return reply, ctx.pages_left


def install(app):
    """Register the endpoint and its AES helper on `app`."""
    wechat = app.config["SANXIANG"]["wechat"]
    if wechat.get("aes_key"):
        app.extensions["wechat_crypto"] = WeChatCrypto(wechat["token"], wechat["aes_key"], wechat["appid"])
    app.extensions["answer_cache"] = AnswerCache()
    InboundMessage.batch.configure(wechat["record_batch_seconds"], wechat["record_batch_size"])
    app.register_blueprint(bp)
