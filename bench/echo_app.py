"""The baseline for `make bench`: the least a WeChat endpoint can do with Flask and wechatpy.

Check the signature, parse the message, echo its text in a TextReply — no database, no routing.
`bench/run.py` serves it with the same gunicorn settings as the bot and compares the two.
"""
import os

from flask import Flask, Response, abort, request
from wechatpy import parse_message
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

TOKEN = os.environ.get("WECHAT_TOKEN", "sanxiang-dev-token")

app = Flask(__name__)


@app.post("/wechat")
def echo():
    args = request.args
    try:
        check_signature(TOKEN, args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", ""))
    except InvalidSignatureException:
        abort(403)
    message = parse_message(request.get_data())
    content = getattr(message, "content", None) or getattr(message, "event", "") or message.type
    return Response(TextReply(message=message, content=content).render(), mimetype="application/xml")
