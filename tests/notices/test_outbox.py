"""The outbox through WeChat's bad days: outages of seconds, minutes and hours, tokens refused (40001,
42001), quotas spent (45009, 45047), a sender that died mid-send. The clock is driven by hand (each pass
of the clock is a call of drain_outbox with the time it would have), the fake WeChat misbehaves on cue,
and the test counts what WeChat accepted: everything once, nothing twice."""
import datetime as dt
import random

import pytest

from models import InboundMessage, db
from models.outbox import FAILED, PENDING, SENT, Outbox, SentMessage
from notices.outbox import drain_outbox, local_to_utc, send_mass
from notices.wechat_api import make_client

START = dt.datetime.now().replace(microsecond=0)
IN_WINDOW = ("o_wrote_1", "o_wrote_2")  # wrote to the account just now: customer-service messages
SILENT = "o_silent"  # never wrote: template messages


@pytest.fixture
def config(app, fake_wechat):
    db.connect(reuse_if_open=True)
    config = app.config["SANXIANG"]
    config["complaints"]["notify"]["template_id"] = "TPL_STATUS"
    for n, openid in enumerate(IN_WINDOW):
        InboundMessage.create(key=f"m:{openid}:{n}", openid=openid, reply="", received_at=local_to_utc(START))
        fake_wechat.user_wrote(openid)
    return config


def queue_messages(now=START):
    """Two status messages to users in their window, one to a silent user, one mass send: what
    WeChat should accept, as the fake records it."""
    expected = set()
    for openid in IN_WINDOW:
        Outbox.enqueue(f"status:T1:{openid}", openid, f"您的投诉已受理（{openid}）", now)
        expected.add(("custom", openid, f"您的投诉已受理（{openid}）"))
    Outbox.enqueue("status:T2:silent", SILENT, "您的投诉已答复", now)
    expected.add(("template", SILENT, "您的投诉已答复"))
    subscribers = ["o_sub_1", "o_sub_2", "o_sub_3"]
    Outbox.enqueue_mass("digest:2026-W48", subscribers, "本周新公示3条", now)
    expected |= {("mass", openid, "本周新公示3条") for openid in subscribers}
    return expected


def run_clock(config, fake, start, until, step, outage=None):
    """Each `step` from `start` to `until`, one pass of the clock; WeChat is down during `outage`
    (start, end). Returns the passes' times at which something was tried during the outage."""
    rng = random.Random(14)
    tried_in_outage = []
    now = start
    while now <= until:
        fake.down = bool(outage and outage[0] <= now < outage[1])
        before = len(fake.requests)
        drain_outbox(config, now=now, rng=rng)
        if fake.down and len(fake.requests) > before:
            tried_in_outage.append(now)
        now += step
    fake.down = False
    return tried_in_outage


@pytest.mark.parametrize("outage, step", [
    (dt.timedelta(seconds=10), dt.timedelta(seconds=5)),
    (dt.timedelta(minutes=20), dt.timedelta(seconds=30)),
    (dt.timedelta(hours=5), dt.timedelta(minutes=1)),
], ids=["seconds", "minutes", "hours"])
def test_every_message_arrives_once_after_an_outage(config, fake_wechat, outage, step):
    expected = queue_messages()
    end = START + outage
    tried = run_clock(config, fake_wechat, START, end + dt.timedelta(hours=2), step, outage=(START, end))
    assert fake_wechat.arrivals() == {message: 1 for message in expected}
    assert Outbox.counts() == {PENDING: 0, SENT: 4, FAILED: 0}
    rows = list(Outbox.select())
    # Backoff, not a burst: over five hours a row is tried about a dozen times, not every minute.
    kind = "seconds" if outage < dt.timedelta(minutes=1) else "minutes" if outage < dt.timedelta(hours=1) else "hours"
    assert max(row.attempts for row in rows) <= {"seconds": 2, "minutes": 8, "hours": 14}[kind]
    assert len(tried) >= {"seconds": 1, "minutes": 3, "hours": 8}[kind]  # it kept trying while WeChat was down
    # …and it came back soon after WeChat did: within the longest wait (1 h, +25 % jitter).
    assert all(row.sent_at <= end + dt.timedelta(minutes=76) for row in rows)
    # Every send is logged, once per recipient.
    assert SentMessage.select().count() == 6


def test_a_message_nobody_can_receive_fails_after_days_and_is_retried_by_hand(config, fake_wechat):
    config["complaints"]["notify"]["template_id"] = ""  # no channel outside the 48 h window
    Outbox.enqueue("status:T3:silent", SILENT, "您的投诉已办结", START)
    run_clock(config, fake_wechat, START, START + dt.timedelta(hours=80), dt.timedelta(minutes=10))
    [row] = Outbox.select()
    assert row.status == FAILED and "未配置模板消息" in row.last_error
    assert START + dt.timedelta(hours=71) <= row.failed_at <= START + dt.timedelta(hours=74)
    assert 70 <= row.attempts <= 90  # hourly at the end, not every ten minutes for three days
    assert row in Outbox.failed() and "#重发" in row.describe()
    # Staff fix the cause (a template id) and retry by hand: it goes, once.
    config["complaints"]["notify"]["template_id"] = "TPL_STATUS"
    later = START + dt.timedelta(hours=81)
    assert row.retry(later, config)
    assert drain_outbox(config, now=later) == 1 and drain_outbox(config, now=later) == 0
    assert fake_wechat.arrivals() == {("template", SILENT, "您的投诉已办结"): 1}


def test_an_error_no_retry_cures_fails_at_once(config, fake_wechat):
    fake_wechat.responses["/message/template/send"] = {"errcode": 43004, "errmsg": "require subscribe"}
    Outbox.enqueue("status:T4:silent", SILENT, "您的投诉已受理", START)
    assert drain_outbox(config, now=START) == 0
    [row] = Outbox.failed()
    assert row.attempts == 1 and "用户已取消关注" in row.last_error


@pytest.mark.parametrize("errcode", [40001, 42001])
def test_a_refused_token_is_replaced_and_the_message_sent_once(config, fake_wechat, errcode):
    client = make_client(config)
    for openid in IN_WINDOW:
        Outbox.enqueue(f"before:{openid}", openid, "前一条", START)
    assert drain_outbox(config, now=START, client=client) == 2
    fake_wechat.expire_tokens(errcode)  # WeChat refuses the token this client holds
    expected = queue_messages()
    assert drain_outbox(config, now=START + dt.timedelta(seconds=1), client=client) == 4
    expected |= {("custom", openid, "前一条") for openid in IN_WINDOW}
    assert fake_wechat.token_fetches == 2
    assert fake_wechat.arrivals() == {message: 1 for message in expected}


def test_a_token_refused_twice_is_retried_later_not_in_a_loop(config, fake_wechat):
    fake_wechat.responses["/message/custom/send"] = {"errcode": 40001, "errmsg": "invalid credential"}
    Outbox.enqueue("status:T5:one", IN_WINDOW[0], "您好", START)
    assert drain_outbox(config, now=START) == 0
    [row] = Outbox.select()
    assert row.status == PENDING and "40001" in row.last_error and fake_wechat.token_fetches == 2


def test_customer_service_quota_falls_back_to_template(config, fake_wechat):
    """Five customer-service messages per window (ours counted, and WeChat's 45047 past its own)."""
    fake_wechat.custom_limit = 3  # WeChat refuses sooner than our count expects
    texts = [f"第{n}条通知" for n in range(7)]
    for n, text in enumerate(texts):
        Outbox.enqueue(f"status:T6:{n}", IN_WINDOW[0], text, START)
    assert drain_outbox(config, now=START) == 7
    channels = [row.channel for row in Outbox.select().order_by(Outbox.id)]
    assert channels == ["custom"] * 3 + ["template"] * 4
    fake_wechat.custom_limit = None
    fake_wechat.user_wrote(IN_WINDOW[1])
    for n, text in enumerate(texts):
        Outbox.enqueue(f"status:T7:{n}", IN_WINDOW[1], text, START)
    drain_outbox(config, now=START)
    mine = [r.channel for r in Outbox.select().where(Outbox.openid == IN_WINDOW[1]).order_by(Outbox.id)]
    assert mine == ["custom"] * 5 + ["template"] * 2  # our own count stops at five (config)
    assert len([b for b in fake_wechat.sent("/custom/send") if b["touser"] == IN_WINDOW[1]]) == 5
    assert all(count == 1 for count in fake_wechat.arrivals().values())


def test_a_spent_daily_quota_waits_for_tomorrow(config, fake_wechat):
    fake_wechat.quotas["/message/template/send"] = 1
    for n in range(3):
        Outbox.enqueue(f"status:T8:{n}", f"o_silent_{n}", f"通知{n}", START)
    assert drain_outbox(config, now=START) == 1
    calls = len(fake_wechat.requests)
    # The rest wait for the quota: later passes today try nothing (no call wasted on 45009).
    tomorrow = dt.datetime.combine(START.date() + dt.timedelta(days=1), dt.time(0, 11))
    run_clock(config, fake_wechat, START + dt.timedelta(minutes=1), tomorrow - dt.timedelta(minutes=2), dt.timedelta(minutes=5))
    assert len(fake_wechat.requests) == calls
    waiting = [r for r in Outbox.select() if r.sent_at is None]
    assert len(waiting) == 2 and any(r.last_error.startswith("45009") for r in waiting)
    assert all(r.next_attempt_at == tomorrow - dt.timedelta(minutes=1) for r in waiting)  # config quota_resume_at
    fake_wechat.new_day()
    fake_wechat.quotas["/message/template/send"] = 10
    assert drain_outbox(config, now=tomorrow) == 2
    assert sorted(fake_wechat.arrivals().values()) == [1, 1, 1]


def test_a_mass_send_interrupted_after_wechat_accepted_is_not_sent_twice(config, fake_wechat):
    """The sender died between WeChat's acceptance and the mark: the next sender's try carries the same
    clientmsgid, WeChat says 45065, and the row is marked sent — the subscribers got it once."""
    Outbox.enqueue_mass("digest:2026-W49", ["o_a", "o_b"], "本周新公示", START)
    [row] = Outbox.due(START)
    assert row.claim(START)
    send_mass(make_client(config), config, row, START)  # accepted; then the process died
    assert drain_outbox(config, now=START + dt.timedelta(minutes=1)) == 0  # still claimed by the dead one
    assert drain_outbox(config, now=START + dt.timedelta(minutes=6)) == 1
    assert Outbox.get_by_id(row.id).status == SENT
    assert fake_wechat.arrivals() == {("mass", "o_a", "本周新公示"): 1, ("mass", "o_b", "本周新公示"): 1}


def test_when_wechat_answers_again_what_waited_for_it_goes_at_once(config, fake_wechat):
    expected = queue_messages()
    end = START + dt.timedelta(hours=5)
    run_clock(config, fake_wechat, START, end - dt.timedelta(minutes=1), dt.timedelta(minutes=1), outage=(START, end))
    assert Outbox.counts()[SENT] == 0 and all(r.next_attempt_at > end for r in Outbox.select())
    # A new message after the outage goes at once; its success tells that WeChat is back.
    Outbox.enqueue("status:T9:after", IN_WINDOW[0], "恢复后的新通知", end)
    assert drain_outbox(config, now=end) == 1
    assert drain_outbox(config, now=end + dt.timedelta(minutes=1)) == 4
    expected.add(("custom", IN_WINDOW[0], "恢复后的新通知"))
    assert fake_wechat.arrivals() == {message: 1 for message in expected}
