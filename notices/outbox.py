"""The outbox: messages the bureau's rules queued (models/complaints.py, Outbox) go out through WeChat.

`drain_outbox` sends what was queued, after the transaction that queued it committed: a
customer-service message (客服消息) while WeChat's 48-hour window since the user's last message is
open, otherwise a template message (模板消息) or subscription notice (订阅通知). The clock runs it every
minute; a request that queued something calls `send_after_response` so it goes out at once.
https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
"""
import datetime as dt
import logging

from wechatpy.exceptions import WeChatClientException

from models.complaints import Outbox, complaint_settings
from models.database import connection
from models.delivery import InboundMessage, utcnow
from notices.wechat_api import make_client

log = logging.getLogger(__name__)

# 45015: 回复时间超过限制 (outside the 48 h window); 45047: 客服下行消息超过上限 (more than 5).
OUTSIDE_WINDOW_ERRORS = {45015, 45047}


def in_service_window(config, openid, now_utc=None):
    heard = InboundMessage.last_heard(openid)
    hours = complaint_settings(config)["notify"]["service_window_hours"]
    return heard is not None and (now_utc or utcnow()) - heard < dt.timedelta(hours=hours)


def push(client, config, openid, text):
    """Send `text` to `openid` the best way WeChat allows now; return (channel, error)."""
    notify = complaint_settings(config)["notify"]
    if in_service_window(config, openid):
        try:
            client.message.send_text(openid, text)
            return "custom", ""
        except WeChatClientException as exc:
            if exc.errcode not in OUTSIDE_WINDOW_ERRORS:
                return "failed", f"custom {exc.errcode}: {exc.errmsg}"
    try:
        if notify.get("template_id"):
            client.message.send_template(openid, notify["template_id"], {
                "first": {"value": text[:200]}, "remark": {"value": "回复“查询 编号”查看详情"}},
                url=config["server"]["public_base_url"] + "/complaints/status")
            return "template", ""
        if notify.get("subscribe_template_id"):
            client.post("message/subscribe/bizsend", data={
                "touser": openid, "template_id": notify["subscribe_template_id"],
                "data": {"thing1": {"value": text[:20]}}})
            return "subscribe", ""
    except WeChatClientException as exc:
        return "failed", f"{exc.errcode}: {exc.errmsg}"
    return "failed", "outside the 48 h window and no template or subscription id configured"


def drain_outbox(config, now=None, client=None):
    """Send every queued message not yet sent; return how many went out."""
    now = now or dt.datetime.now()
    notify = complaint_settings(config)["notify"]
    client = client or make_client(config)
    sent = 0
    for row in Outbox.due(notify["max_attempts"]):
        if not row.claim(now):
            continue
        try:
            channel, error = push(client, config, row.openid, row.text)
        except Exception as exc:  # noqa: BLE001 — a network error must not lose the row
            channel, error = "failed", repr(exc)
        if error:
            log.warning("outbox %s to %s not sent: %s", row.key, row.openid, error)
        row.mark(now, channel, error)
        sent += channel != "failed"
    return sent


def send_after_response(response, config):
    """Send what this request queued once `response` is out (its transaction has committed by then).

    Called by the handler that queued something (a complaint filed, a staff action), so the push is
    read where it is caused; whatever fails here the clock sends within a minute."""
    response.call_on_close(lambda: drain_in_background(config))
    return response


def drain_in_background(config):
    """drain_outbox on a connection of its own; a failure is logged, never raised to a request."""
    try:
        with connection(keep_sqlite_open=True):
            drain_outbox(config)
    except Exception:  # noqa: BLE001 — the citizen already has the reply; the clock retries
        log.exception("outbox drain after response failed")
