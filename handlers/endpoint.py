"""The `/wechat` endpoint: the protocol only — verify, decrypt, parse, deduplicate, dispatch, reply.

Deciding what to answer lives in the conversation modules (handlers.public, …) through the router.
接入指南: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
"""
import binascii
import datetime as dt
import logging
from xml.parsers.expat import ExpatError

from flask import Blueprint, Response, abort, current_app, request
from peewee import OperationalError
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature
from werkzeug.exceptions import HTTPException

from handlers import Context, router
from handlers.cache import AnswerCache
from handlers.conversation import render_text
from models import InboundMessage

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


def verified_request():
    """Check signature and timestamp of the query string; abort 403 on anything wrong."""
    args = request.args
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    signature = args.get("signature")
    if not signature and not (is_encrypted() and args.get("msg_signature")):
        abort(403)
    if signature:
        try:
            check_signature(settings()["token"], signature, timestamp, nonce)
        except InvalidSignatureException:
            abort(403)
    if not timestamp_is_fresh(timestamp):
        abort(403)


def timestamp_is_fresh(timestamp):
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    now = current_app.config["CLOCK"]()
    return abs(now - sent) <= settings()["replay_window_seconds"]


def is_encrypted():
    return request.args.get("encrypt_type") == "aes"


@bp.errorhandler(HTTPException)
def plain_refusal(error):
    """WeChat and forgers alike get a bare status line: no page, no trace."""
    return Response(f"{error.code} {error.name}", status=error.code, mimetype="text/plain")


@bp.get("/wechat")
def handshake():
    """服务器配置验证 — echo `echostr` once the signature checks out."""
    verified_request()
    return Response(request.args.get("echostr", ""), mimetype="text/plain")


@bp.post("/wechat")
def receive():
    verified_request()
    body = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH
    xml = decrypt(body) if is_encrypted() else body
    try:
        message = parse_message(xml)
    except (ExpatError, KeyError, TypeError, ValueError, AttributeError):
        abort(400)
    if message is None or not message.source:
        abort(400)
    reply_xml = answer(message)
    if not reply_xml:
        return Response(SUCCESS, mimetype="text/plain")
    if is_encrypted():
        reply_xml = crypto().encrypt_message(reply_xml, request.args.get("nonce", ""),
                                             request.args.get("timestamp"))
    return Response(reply_xml, mimetype="application/xml")


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


def answer(message):
    """The reply XML for `message`, computed once per delivery key and replayed for retries."""
    key = InboundMessage.dedup_key(message)
    ctx = Context(message=message, config=current_app.config["SANXIANG"],
                  cache=current_app.extensions["answer_cache"],
                  now=dt.datetime.fromtimestamp(current_app.config["CLOCK"]()))
    try:
        if router.is_read_only(ctx):
            reply = InboundMessage.answer_read_only(key, message.source,
                                                    lambda: render_reply(ctx, router.dispatch_tables))
        else:
            reply = InboundMessage.answer_once(key, message.source, lambda: render_reply(ctx, router.dispatch),
                                               settings()["retry_wait_seconds"])
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
