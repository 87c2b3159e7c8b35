"""订阅案件 — the penalised party (当事人) asks to be told about their own case.

The system has no WeChat identity for a party, so the party brings it: each case gets a 案件查询码, eight
characters drawn at random from an alphabet without look-alikes (no 0/O, 1/I/L), printed on the documents
served on the party (行政处罚事先告知书, 行政处罚决定书, 当场处罚决定书: models/documents.py). Sending
“订阅案件 CODE” to the account binds the sender's openid to that case; when the case's disclosure (事后公开,
models/publication.py) is published, updated (更正) or withdrawn, every bound openid gets a message of its
own through the outbox, queued in the transaction that logs the event, keyed by event and openid.

The code is random, not computed from the case number: knowing a case number (it is printed on public
pages) says nothing of its code. It is stored once per case, so every document of the case prints the same
one. Guessing is slow: wrong codes count per openid and day (config notices.case_subscriptions), and past
the limit the user is refused, right codes included, until the next day.
"""
import datetime as dt
import secrets

from peewee import CharField, DateTimeField, IntegrityError

from models.database import BaseModel, db
from models.outbox import Outbox

# 31 characters: digits and capitals without 0, 1, I, L, O (read aloud or copied from paper without doubt).
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8  # 31^8 ≈ 8.5 × 10^11 codes
# The disclosure events a bound party hears of (models/publication.py log_event actions).
TOLD_OF = ("公开", "更新", "撤回")
BOUND, ALREADY, WRONG, BLOCKED = "bound", "already", "wrong", "blocked"


def settings(config):
    return config["notices"]["case_subscriptions"]


class CaseCode(BaseModel):
    """案件查询码 of one case (created the first time a document of the case needs it)."""

    case_no = CharField(unique=True, max_length=190)
    code = CharField(unique=True, max_length=16)
    created_at = DateTimeField()

    class Meta:
        table_name = "case_query_code"


class CaseSubscription(BaseModel):
    """A WeChat user bound to a case by its query code: told when its disclosure changes."""

    case_no = CharField(max_length=190, index=True)
    openid = CharField(max_length=128, index=True)
    created_at = DateTimeField()

    class Meta:
        table_name = "case_subscription"
        indexes = ((("case_no", "openid"), True),)


class CaseCodeMiss(BaseModel):
    """One wrong code sent by a user: what the daily limit counts (old rows are dropped as it counts)."""

    openid = CharField(max_length=128)
    at = DateTimeField()

    class Meta:
        table_name = "case_code_miss"
        indexes = ((("openid", "at"), False),)


CASE_SUBSCRIPTION_MODELS = [CaseCode, CaseSubscription, CaseCodeMiss]


def new_code():
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def code_for(case_no, now=None):
    """The case's query code, made and stored the first time it is asked for."""
    found = CaseCode.get_or_none(CaseCode.case_no == case_no)
    for _ in range(5):  # a drawn code already taken by another case: draw again (about never happens)
        if found:
            return found.code
        try:
            with db.atomic():
                CaseCode.create(case_no=case_no, code=new_code(), created_at=(now or dt.datetime.now()))
        except IntegrityError:
            pass  # this case got its code from another writer meanwhile, or the code is taken
        found = CaseCode.get_or_none(CaseCode.case_no == case_no)
    if found:
        return found.code
    raise RuntimeError("could not draw a free case query code")


def clean_code(text):
    """The code in what a user typed ("abcd 2345", "ABCD-2345"), or None when it cannot be one."""
    code = "".join(ch for ch in str(text or "").upper() if ch not in " -_\t")
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def case_of(code):
    """The case number a (cleaned) code belongs to, or None."""
    row = CaseCode.get_or_none(CaseCode.code == code) if code else None
    return row.case_no if row else None


def _day_start(now):
    return dt.datetime.combine(now.date(), dt.time.min)


def misses_today(openid, now):
    return CaseCodeMiss.select().where((CaseCodeMiss.openid == openid) & (CaseCodeMiss.at >= _day_start(now))).count()


def blocked(config, openid, now):
    return misses_today(openid, now) >= int(settings(config)["wrong_codes_per_day"])


def subscribe(config, openid, text, now):
    """Bind `openid` to the case whose code `text` is: (BOUND | ALREADY, case number), (WRONG, None) — a
    miss counted, nothing else written — or (BLOCKED, None) past the day's wrong codes."""
    if blocked(config, openid, now):
        return BLOCKED, None
    case_no = case_of(clean_code(text))
    if case_no is None:
        CaseCodeMiss.delete().where((CaseCodeMiss.openid == openid) & (CaseCodeMiss.at < _day_start(now))).execute()
        CaseCodeMiss.create(openid=openid, at=now)
        return WRONG, None
    if CaseSubscription.get_or_none((CaseSubscription.case_no == case_no) & (CaseSubscription.openid == openid)):
        return ALREADY, case_no
    CaseSubscription.insert(case_no=case_no, openid=openid, created_at=now).on_conflict_ignore().execute()
    return BOUND, case_no


def unsubscribe(openid, text=None):
    """Unbind `openid` from the case of code `text`, or (no text) from every case; how many bindings went.
    A code the user is not bound to removes nothing and is not a guess (nothing is revealed)."""
    query = CaseSubscription.delete().where(CaseSubscription.openid == openid)
    if text:
        case_no = case_of(clean_code(text))
        if case_no is None:
            return 0
        query = query.where(CaseSubscription.case_no == case_no)
    return query.execute()


def count_of(openid):
    return CaseSubscription.select().where(CaseSubscription.openid == openid).count()


def subscribers(case_no):
    return [row.openid for row in CaseSubscription.select(CaseSubscription.openid)
            .where(CaseSubscription.case_no == case_no).order_by(CaseSubscription.id)]


def notice_text(config, disclosure, event):
    """What a bound party is told: only what the public record shows (its number, its link, the public reason)."""
    link = f"{config['server']['public_base_url']}/disclosures/{disclosure.id}"
    what = f"{disclosure.label}{disclosure.decision_no}"
    if event.action == "公开":
        return f"您订阅的案件：{what}已依法公开，详见 {link}\n回复“取消订阅案件”可退订。"
    if event.action == "更新":
        return f"您订阅的案件：{what}的公开内容已更正（{disclosure.public_note}），详见 {link}"
    return f"您订阅的案件：{what}的公开已撤回（{disclosure.public_note}），详见 {link}"


def queue_notices(config, disclosure, event):
    """Queue a message to every openid bound to the disclosure's case for a 公开/更新/撤回 event, in the
    caller's transaction. Keyed by event and openid: the same event never queues a second message."""
    if event.action not in TOLD_OF or not disclosure.case_no or config is None:
        return 0
    text = notice_text(config, disclosure, event)
    openids = subscribers(disclosure.case_no)
    Outbox.enqueue_many([(f"party:{event.id}:{openid}", openid, text) for openid in openids], event.at)
    return len(openids)
