"""The outbox (消息发送队列) — every message the bureau sends through WeChat, and the rules of retrying it.

A message is a row written in the same transaction as the change it reports (a complaint answered, a
disclosure published, a reminder due), so a rollback sends nothing and a repeated cause queues nothing
new (`key` is unique). notices/outbox.py sends the rows; this module says when a row is due again
(exponential backoff with jitter, over hours), when it has finally failed, and keeps the log of every
send (`SentMessage`) that the channel quotas are counted from.

Statuses, as staff read them: 待发送 (queued or waiting to retry), 已发送 (WeChat accepted it: only
then), 发送失败 (given up; shown in #待办 and `bot.py outbox`, retried by hand with `#重发`).
"""
import datetime as dt
import hashlib
import json
import random

from peewee import (
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
    fn,
)

from models.database import BaseModel

PENDING, SENT, FAILED = "待发送", "已发送", "发送失败"
SENT_CHANNELS = ("custom", "template", "subscribe", "mass")
CHANNEL_NAMES = {"custom": "客服消息", "template": "模板消息", "subscribe": "订阅通知", "mass": "群发", "": ""}


def outbox_settings(config):
    """config `notices.outbox`: the retry schedule."""
    return config["notices"]["outbox"]


def retry_delay(config, attempts, rng=random):
    """How long to wait after the `attempts`-th failed try: first_retry_seconds doubled each time up
    to max_retry_seconds, times a random factor in [1 - jitter, 1 + jitter] so a thousand rows queued
    in one outage do not all come back in the same second."""
    s = outbox_settings(config)
    base = min(s["first_retry_seconds"] * s["backoff_factor"] ** max(attempts - 1, 0), s["max_retry_seconds"])
    return dt.timedelta(seconds=base * rng.uniform(1 - s["jitter"], 1 + s["jitter"]))


class Outbox(BaseModel):
    """A message waiting to be pushed through WeChat, written in the transaction that caused it.

    `key` is unique, so a repeated cause (a retry, a second scheduler) queues nothing new; a row is
    claimed before sending so two senders never both send it. `kind` text: one user (`openid`);
    mass: the openids in `payload`, sent as one mass message whose clientmsgid is derived from `key`,
    so WeChat itself refuses a second copy (errcode 45065).
    """

    key = CharField(unique=True, max_length=190)
    openid = CharField(max_length=128)
    text = TextField()
    created_at = DateTimeField()
    claimed_at = DateTimeField(null=True)
    sent_at = DateTimeField(null=True, index=True)
    channel = CharField(default="")  # custom | template | subscribe | mass | "" while not sent
    attempts = IntegerField(default=0)
    last_error = TextField(default="")
    kind = CharField(default="text")  # text | mass
    payload = TextField(default="")  # mass: JSON list of openids
    next_attempt_at = DateTimeField(null=True, index=True)  # None: due at once
    retry_until = DateTimeField(null=True)  # set at the first try (or a retry by hand): give up after it
    failed_at = DateTimeField(null=True, index=True)
    msg_id = CharField(default="", max_length=64)  # WeChat's msgid / msg_id, once accepted

    class Meta:
        table_name = "complaint_outbox"  # the name it had when only complaints pushed (migration 0001)

    # -- queueing -------------------------------------------------------------------------------
    @classmethod
    def enqueue(cls, key, openid, text, now, kind="text", payload=""):
        cls.insert(key=key[:190], openid=openid, text=text, created_at=now, kind=kind,
                   payload=payload).on_conflict_ignore().execute()

    @classmethod
    def enqueue_many(cls, items, now, batch=200):
        """Queue (key, openid, text) messages in a few statements; a key already queued is skipped."""
        rows = [{"key": key[:190], "openid": openid, "text": text, "created_at": now} for key, openid, text in items]
        for start in range(0, len(rows), batch):
            cls.insert_many(rows[start:start + batch]).on_conflict_ignore().execute()

    @classmethod
    def enqueue_mass(cls, key, openids, text, now):
        """One mass message (群发) to `openids`."""
        cls.enqueue(key, "", text, now, kind="mass", payload=json.dumps(sorted(openids)))

    # -- sending --------------------------------------------------------------------------------
    @classmethod
    def due(cls, now, limit=500):
        """Rows to try now: not sent, not given up, their retry time reached; oldest first."""
        return list(cls.select().where(
            cls.sent_at.is_null() & cls.failed_at.is_null()
            & (cls.next_attempt_at.is_null() | (cls.next_attempt_at <= now))).order_by(cls.id).limit(limit))

    @classmethod
    def postpone_due(cls, now, until, claimed_id=None):
        """Every row due now waits until `until` (a daily quota spent), with a fresh retry period from
        then (set at its next try): the quota is not the messages' fault. `claimed_id`: the row this
        sender holds, released too."""
        due = cls.sent_at.is_null() & cls.failed_at.is_null() & (cls.next_attempt_at.is_null() | (cls.next_attempt_at <= now))
        return cls.update(next_attempt_at=until, retry_until=None, claimed_at=None).where(
            due & (cls.claimed_at.is_null() | (cls.id == claimed_id))).execute()

    @classmethod
    def bring_forward(cls, error_mark, now):
        """Rows waiting after an error containing `error_mark` become due now (the outage is over)."""
        return cls.update(next_attempt_at=now).where(
            cls.sent_at.is_null() & cls.failed_at.is_null() & (cls.next_attempt_at > now)
            & cls.last_error.contains(error_mark)).execute()

    def claim(self, now, stale_after=dt.timedelta(minutes=5)):
        """Take this row for sending; False if another sender holds it, or it was sent or given up."""
        query = Outbox.update(claimed_at=now, attempts=Outbox.attempts + 1).where(
            (Outbox.id == self.id) & Outbox.sent_at.is_null() & Outbox.failed_at.is_null()
            & (Outbox.claimed_at.is_null() | (Outbox.claimed_at < now - stale_after)))
        if query.execute() != 1:
            return False
        self.attempts += 1
        return True

    def mark_sent(self, now, channel, msg_id="", recipients=None):
        """WeChat accepted it: the row is 已发送 and each recipient's send is logged (quotas count it)."""
        # failed_at cleared too: a sender whose claim went stale may still succeed after another gave up.
        Outbox.update(sent_at=now, channel=channel, msg_id=str(msg_id or "")[:64], claimed_at=None,
                      next_attempt_at=None, failed_at=None).where(Outbox.id == self.id).execute()
        SentMessage.insert_many([{"outbox": self.id, "openid": openid, "channel": channel, "sent_at": now}
                                 for openid in (recipients or [self.openid])]).execute()

    def defer(self, now, error, until):
        """Not sent this time; try again at `until` — unless that is past the row's retry limit."""
        if self.retry_until is not None and until > self.retry_until:
            return self.fail(now, error)
        Outbox.update(next_attempt_at=until, last_error=error[:2000], claimed_at=None,
                      retry_until=self.retry_until).where(Outbox.id == self.id).execute()
        return False

    def note_error(self, error):
        Outbox.update(last_error=error[:2000]).where(Outbox.id == self.id).execute()

    def fail(self, now, error):
        """Given up: 发送失败, for staff to see and retry by hand."""
        Outbox.update(failed_at=now, last_error=error[:2000], claimed_at=None, next_attempt_at=None).where(
            Outbox.id == self.id).execute()
        self.failed_at, self.last_error = now, error[:2000]
        return True

    def retry(self, now, config):
        """发送失败 → 待发送 again, due at once, with a fresh retry period (a retry by hand)."""
        hours = outbox_settings(config)["give_up_after_hours"]
        return Outbox.update(failed_at=None, next_attempt_at=None, claimed_at=None,
                             retry_until=now + dt.timedelta(hours=hours)).where(
            (Outbox.id == self.id) & Outbox.sent_at.is_null()).execute() == 1

    # -- reading --------------------------------------------------------------------------------
    @property
    def status(self):
        if self.sent_at is not None:
            return SENT
        return FAILED if self.failed_at is not None else PENDING

    @property
    def recipients(self):
        return json.loads(self.payload or "[]") if self.kind == "mass" else [self.openid]

    @property
    def client_msg_id(self):
        """clientmsgid of a mass send: the same for every try of this row (WeChat keeps it 24 h)."""
        return hashlib.sha256(self.key.encode()).hexdigest()[:32]

    def describe(self):
        """One line for staff: status, channel, when, what went wrong."""
        if self.sent_at is not None:
            return f"{SENT}（{self.sent_at:%m-%d %H:%M}，{CHANNEL_NAMES.get(self.channel, self.channel)}）"
        if self.failed_at is not None:
            return f"{FAILED}（{self.failed_at:%m-%d %H:%M}，{_short(self.last_error)}），回复“#重发 {self.id}”再发"
        if self.attempts:
            return f"{PENDING}（已试{self.attempts}次，下次{self.next_attempt_at:%m-%d %H:%M}）" \
                if self.next_attempt_at else f"{PENDING}（已试{self.attempts}次）"
        return f"{PENDING}（排队中）"

    @classmethod
    def with_key_prefix(cls, prefix):
        return list(cls.select().where(cls.key.startswith(prefix)).order_by(cls.id))

    @classmethod
    def failed(cls, limit=50):
        return list(cls.failed_query(limit))

    @classmethod
    def failed_query(cls, limit=50):
        # A row given up was never sent (fail() needs a claim, which needs sent_at empty, a retry by hand
        # clears failed_at, and so does a late success), so failed_at alone selects them — by its index: a
        # sent_at IS NULL term lets the planner pick the sent_at index and walk every queued row (issue 19).
        return cls.select().where(cls.failed_at.is_null(False)).order_by(cls.failed_at.desc()).limit(limit)

    @classmethod
    def listing(cls, status=None, limit=100):
        query = cls.select()
        if status == SENT:
            query = query.where(cls.sent_at.is_null(False))
        elif status == FAILED:
            query = query.where(cls.failed_at.is_null(False))  # see failed()
        elif status == PENDING:
            query = query.where(cls.sent_at.is_null() & cls.failed_at.is_null())
        return list(query.order_by(cls.id.desc()).limit(limit))

    @classmethod
    def counts(cls):
        return {PENDING: cls.select().where(cls.sent_at.is_null() & cls.failed_at.is_null()).count(),
                SENT: cls.select().where(cls.sent_at.is_null(False)).count(),
                FAILED: cls.select().where(cls.failed_at.is_null(False)).count()}


def _short(text, limit=40):
    return text if len(text) <= limit else text[:limit - 1] + "…"


class SentMessage(BaseModel):
    """发送记录 — one message WeChat accepted for one user: the log of every send, and what the
    channels' quotas (customer-service messages per 48 h window, mass sends per month) count."""

    outbox = ForeignKeyField(Outbox, null=True, backref="sends", on_delete="SET NULL")
    openid = CharField(max_length=128)
    channel = CharField()
    sent_at = DateTimeField()

    class Meta:
        table_name = "notice_sent"
        indexes = ((("openid", "channel", "sent_at"), False),)

    @classmethod
    def count_since(cls, openid, channel, since):
        return cls.select().where((cls.openid == openid) & (cls.channel == channel)
                                  & (cls.sent_at >= since)).count()

    @classmethod
    def counts_since(cls, openids, channel, since):
        """{openid: sends on `channel` since `since`} for many users in one statement."""
        rows = (cls.select(cls.openid, fn.COUNT(cls.id)).where(
            cls.openid.in_(list(openids)) & (cls.channel == channel) & (cls.sent_at >= since))
            .group_by(cls.openid).tuples())
        return dict(rows)


OUTBOX_MODELS = [Outbox, SentMessage]
