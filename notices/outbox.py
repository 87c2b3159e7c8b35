"""The outbox sender: every queued message (models/outbox.py) goes out through WeChat, once, or is
marked 发送失败 after days of trying — never dropped.

`drain_outbox` sends what is due, after the transaction that queued it committed, by the channel WeChat
allows at that moment: a customer-service message (客服消息) while the 48-hour window since the user's
last message is open and fewer than five were sent in it, otherwise a template message (模板消息) or
subscription notice (订阅通知); a mass row goes as one mass send (群发) with its clientmsgid. What WeChat
did not accept is tried again with exponential backoff and jitter (config notices.outbox): an outage of
seconds, minutes or hours is outlasted; an API's daily quota (45009) waits for tomorrow; an error that
no retry can cure (an invalid openid, a user who unfollowed) fails at once. The clock runs it every
minute; a request that queued something calls `send_after_response` so it goes out at once.
https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html

What "once" rests on: a row is claimed before it is sent (two senders never both send it), marked sent
the moment WeChat accepts it, and a mass send carries a clientmsgid derived from the row, so WeChat
itself refuses a second copy (45065). WeChat has no such key for single messages: a reply lost after
WeChat accepted (a read timeout, a crash between the send and the mark) is sent again — at least once,
rather than never.
"""
import datetime as dt
import logging
import random
from dataclasses import dataclass

from wechatpy.exceptions import WeChatClientException

from models.complaints import complaint_settings
from models.database import connection
from models.delivery import InboundMessage
from models.outbox import Outbox, SentMessage, outbox_settings, retry_delay
from models.staff import CLERK, HEAD, Staff
from notices.wechat_api import make_client

log = logging.getLogger(__name__)

# 45015: 回复时间超过限制 (outside the 48 h window); 45047: 客服下行消息超过上限 (more than 5).
OUTSIDE_WINDOW_ERRORS = {45015, 45047}
# 45009: 接口调用超过限额 (the API's daily quota): nothing goes through that API until tomorrow.
QUOTA_ERRORS = {45009}
# Errors no retry cures: the row fails at once, for staff to see.
PERMANENT_ERRORS = {40003: "openid无效", 43004: "用户已取消关注", 40037: "模板ID无效", 43101: "用户拒收订阅通知",
                    47003: "模板参数不正确", 40008: "消息类型不正确"}
# What a row that met no answer from WeChat (an outage, not a refusal) says in last_error.
UNREACHABLE = "微信接口无应答"
# 45065: 相同 clientmsgid 已存在群发记录 — WeChat already has this mass send: it was sent.
MASS_ALREADY_SENT = 45065


@dataclass
class Outcome:
    result: str  # sent | retry | fail | quota
    channel: str = ""
    msg_id: str = ""
    error: str = ""


def local_to_utc(moment):
    """A naive local time (what the outbox stores) as naive UTC (what delivery records store)."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def utc_to_local(moment):
    return moment.replace(tzinfo=dt.UTC).astimezone().replace(tzinfo=None)


def window_opened(config, openid, now):
    """When the user's open 48-hour window began (their last message, local time), or None if closed."""
    heard = InboundMessage.last_heard(openid)
    hours = complaint_settings(config)["notify"]["service_window_hours"]
    if heard is None or local_to_utc(now) - heard >= dt.timedelta(hours=hours):
        return None
    return utc_to_local(heard)


def in_service_window(config, openid, now=None):
    return window_opened(config, openid, now or dt.datetime.now()) is not None


def custom_allowed(config, openid, now):
    """A customer-service message may go: the window is open and its quota (5) not used up."""
    opened = window_opened(config, openid, now)
    return opened is not None and \
        SentMessage.count_since(openid, "custom", opened) < config["notices"]["custom_per_window"]


def classify(exc, prefix=""):
    """What to do about a refusal from WeChat."""
    code = getattr(exc, "errcode", None)
    error = f"{prefix}{code}: {getattr(exc, 'errmsg', exc)}" if code is not None else f"{prefix}{UNREACHABLE}: {exc}"
    if code in PERMANENT_ERRORS:
        return Outcome("fail", error=f"{error}（{PERMANENT_ERRORS[code]}）")
    if code in QUOTA_ERRORS:
        return Outcome("quota", error=f"{error}（接口今日额度已用完，明日再发）")
    return Outcome("retry", error=error)


def send_text(client, config, row, now):
    """One user's message by the best channel WeChat allows now."""
    notify = complaint_settings(config)["notify"]
    if custom_allowed(config, row.openid, now):
        try:
            result = client.message.send_text(row.openid, row.text)
            return Outcome("sent", "custom", str((result or {}).get("msgid", "")))
        except WeChatClientException as exc:
            if exc.errcode not in OUTSIDE_WINDOW_ERRORS:
                return classify(exc, "客服消息 ")
    try:
        if notify.get("template_id"):
            result = client.message.send_template(row.openid, notify["template_id"], {
                "first": {"value": row.text[:200]}, "remark": {"value": "回复“查询 编号”查看详情"}},
                url=config["server"]["public_base_url"] + "/complaints/status")
            return Outcome("sent", "template", str((result or {}).get("msgid", "")))
        if notify.get("subscribe_template_id"):
            client.post("message/subscribe/bizsend", data={
                "touser": row.openid, "template_id": notify["subscribe_template_id"],
                "data": {"thing1": {"value": row.text[:20]}}})
            return Outcome("sent", "subscribe")
    except WeChatClientException as exc:
        return classify(exc)
    # Not an error of the message: the window reopens when the user writes again, so keep trying.
    return Outcome("retry", error="用户48小时内未发消息，且未配置模板消息或订阅通知")


def send_mass(client, config, row, now):
    """A mass send (群发) to the row's openids, under the row's clientmsgid."""
    try:
        result = client.message.send_mass_text(row.recipients, row.text, client_msg_id=row.client_msg_id)
        return Outcome("sent", "mass", str((result or {}).get("msg_id", "")))
    except WeChatClientException as exc:
        if exc.errcode == MASS_ALREADY_SENT:
            return Outcome("sent", "mass", error="clientmsgid")
        return classify(exc, "群发 ")


def quota_resumes(config, now):
    """When a quota spent today is back: quota_resume_at tomorrow."""
    hour, minute = (int(x) for x in outbox_settings(config)["quota_resume_at"].split(":"))
    return dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(hour, minute))


def drain_outbox(config, now=None, client=None, rng=random):
    """Send every due message; return how many WeChat accepted. `now` and `rng` for tests (a clock
    driven through an outage, a fixed jitter); the clock calls it with neither."""
    now = now or dt.datetime.now()
    settings = outbox_settings(config)
    give_up = dt.timedelta(hours=settings["give_up_after_hours"])
    client = client or make_client(config)
    sent = 0
    for row in Outbox.due(now, settings["batch"]):
        if not row.claim(now, dt.timedelta(minutes=settings["claim_stale_minutes"])):
            continue
        if row.retry_until is None:
            row.retry_until = now + give_up
        try:
            outcome = (send_mass if row.kind == "mass" else send_text)(client, config, row, now)
        except Exception as exc:  # noqa: BLE001 — a network error (WeChat down) must not lose the row
            outcome = Outcome("retry", error=f"{UNREACHABLE}: {type(exc).__name__}: {exc}"[:500])
        if outcome.result == "sent":
            row.mark_sent(now, outcome.channel, outcome.msg_id, recipients=row.recipients)
            sent += 1
            continue
        log.warning("outbox %s (%s) not sent, try %d: %s", row.key, row.openid or "mass", row.attempts, outcome.error)
        if outcome.result == "fail":
            row.fail(now, outcome.error)
            tell_staff_of_failure(row, now)
        elif outcome.result == "quota":
            # The rest would meet the same quota (and each pass would spend a call finding out): they
            # wait for it too. Quotas are per API, but which API a row will need is known only when tried.
            row.note_error(outcome.error)
            Outbox.postpone_due(now, quota_resumes(config, now), claimed_id=row.id)
            break
        elif row.defer(now, outcome.error, now + retry_delay(config, row.attempts, rng)):
            log.error("outbox %s given up after %d tries: %s", row.key, row.attempts, outcome.error)
            tell_staff_of_failure(row, now)
    if sent:
        # WeChat answers again: what waits only because it was down goes on the next pass, not up to an
        # hour later when its backoff ends.
        Outbox.bring_forward(UNREACHABLE, now)
    return sent


FAILURE_KEY = "failed-notice"


def tell_staff_of_failure(row, now):
    """The staff on duty (受理员, 负责人) hear that a message about a citizen's own matter (their complaint, the
    decision on the case they reported, their own case's disclosure: 订阅案件) finally failed, so someone can call
    instead."""
    if row.key.split(":")[0] not in ("status", "disclosed", "party") or Staff.by_openid(row.openid) is not None:
        return  # a citizen's own matter only: a digest or a staff message is in #待办, no alert each
    text = (f"有一条通知未能发出（第{row.id}条，{_what(row.key)}）：{row.text[:40]}… "
            f"原因：{row.last_error[:40] or '多次重试未成功'}。请电话告知当事人，或回复“#重发 {row.id}”。")
    for receiver in Staff.receivers((CLERK, HEAD)):
        Outbox.enqueue(f"{FAILURE_KEY}:{row.id}:{receiver.openid}", receiver.openid, text, now)


def _what(key):
    kind, _, rest = key.partition(":")
    return {"status": f"投诉{rest.split(':')[0]}的办理进度", "disclosed": "案件决定公开告知",
            "party": "当事人订阅的案件公开告知"}.get(kind, kind)


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
    except Exception:
        log.exception("outbox drain after response failed")
