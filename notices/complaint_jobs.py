"""Complaint pushes and deadline reminders: plain functions, run by the clock (notices/clock.py).

- `drain_outbox` sends what models.complaints queued, after the transaction that queued it
  committed: a customer-service message (客服消息) while WeChat's 48-hour window since the user's
  last message is open, otherwise a template message (模板消息) or subscription notice (订阅通知).
  https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
- `remind_deadlines` queues 临近/超期 reminders to the responsible staff, once per cause.
- `recompute_deadlines` redoes deadlines that rested on a guessed calendar once a schedule is entered.
"""
import datetime as dt
import logging

from wechatpy.exceptions import WeChatClientException

from models import db
from models.complaints import (ACCEPTED, CLERK, HEAD, IN_PROGRESS, PENDING, ROLES, Complaint, Outbox, Staff,
                               complaint_settings)
from models.conversation import InboundMessage, utcnow
from notices.clock import job
from notices.wechat_api import make_client
from notices.workdays import load_schedules, workdays_between

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


@job("interval", minutes=1)
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


@job("cron", hour=8, minute=30)
def remind_deadlines(config, today=None, now=None):
    """Queue reminders for deadlines within `remind_before_workdays`, and daily once overdue."""
    now = now or dt.datetime.now()
    today = today or now.date()
    schedules, before = load_schedules(config), complaint_settings(config)["remind_before_workdays"]
    queued = 0
    for complaint in Complaint.select().where(Complaint.status.in_((PENDING, ACCEPTED, IN_PROGRESS))):
        due = complaint.current_due()
        if due is None:
            continue
        left, _ = workdays_between(today, due, schedules)
        what = f"投诉 {complaint.ticket}（{complaint.category}，{complaint.status}）"
        if left < 0:
            stage, text = f"overdue:{today}", f"【已超期】{what}期限{due:%m月%d日}已过{-left}个工作日，请尽快办理。"
        elif left <= before:
            stage, text = "soon", f"【临近期限】{what}须在{due:%m月%d日}前办理，还剩{left}个工作日。"
        else:
            continue
        with db.atomic():
            for receiver in responsible_staff(complaint):
                Outbox.enqueue(f"remind:{complaint.ticket}:{complaint.status}:{stage}:{receiver.openid}",
                               receiver.openid, text + f"回复“#查看 {complaint.ticket}”看详情。", now)
                queued += 1
    return queued


def responsible_staff(complaint):
    """Who must act next: clerks and heads before assignment, the handler and heads after."""
    if complaint.status == IN_PROGRESS:
        return [s for s in Staff.receivers(ROLES, complaint.officer_id)
                if s.role == HEAD or (complaint.assignee_id and s.officer_id == complaint.assignee_id)]
    return Staff.receivers((CLERK, HEAD), complaint.officer_id)


@job("cron", hour=2, minute=5)
def recompute_deadlines(config, now=None):
    return Complaint.recompute_provisional(config, now or dt.datetime.now())
