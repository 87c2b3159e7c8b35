"""订阅公示: the weekly digest of new disclosures (事后公开) and staff announcements (公告) to subscribers, by mass send (群发), within the
account's mass-send quota (config notices.mass): a 服务号 user gets at most 4 mass messages a month, a
订阅号 may mass-send once a day. Users whose quota is spent are left out this week (and logged); each
user's digest lists only the categories they asked for. Every send is logged (models/outbox.py)."""
import datetime as dt
import hashlib
import logging
import re

from models.announcements import ANNOUNCEMENT_CATEGORY, Announcement
from models.cases import Case
from models.complaints import Complaint
from models.outbox import Outbox, SentMessage
from models.publication import PUBLISHED, Disclosure
from models.subscriptions import ALL, Subscription, subscription_categories

log = logging.getLogger(__name__)
MASS_MAX = 10000  # openids in one mass send (WeChat: 2 to 10,000)
TICKET = re.compile(r"TS\d{10}")  # a complaint's number (models/complaints.py) named in a case's 案件来源


def category_of(config, row):
    """The subscription category a disclosure belongs to: the first whose name or words its item, party
    or conclusion mention (网吧, 演出 …); else its 执法类别."""
    text = f"{row.item_name} {row.party} {row.conclusion}"
    for category in subscription_categories(config):
        if any(word in text for word in [category["name"], *category.get("words", [])]):
            return category["name"]
    return row.category


def new_disclosures(config, since, until):
    """[{category, title, id}] of the disclosures first published in [since, until) (models/publication.py)."""
    rows = Disclosure.select().where((Disclosure.status == PUBLISHED) & (Disclosure.published_at >= since)
                                     & (Disclosure.published_at < until)).order_by(Disclosure.published_at)
    return [{"category": category_of(config, row), "title": f"{row.label}：{row.party}", "id": row.id} for row in rows]


def new_items(config, since, until):
    """What the digest tells of: disclosures first published, and staff announcements published, in [since, until)."""
    announcements = [{"category": ANNOUNCEMENT_CATEGORY, "title": item.title, "id": item.id}
                     for item in Announcement.published_between(since, until)]
    return announcements + new_disclosures(config, since, until)


def notify_complainants(config, now=None, days=7):
    """A complainant whose complaint led to a case (its 案件来源 names the complaint's number) is told, by a
    message of their own, when that case's decision is published. Once per disclosure and person."""
    now = now or dt.datetime.now()
    rows = Disclosure.select().where((Disclosure.status == PUBLISHED) & Disclosure.case_no.is_null(False)
                                     & (Disclosure.published_at >= now - dt.timedelta(days=days)))
    queued = 0
    for row in rows:
        case = Case.by_number(row.case_no)
        opening = case.opening() if case else None
        source = str(opening.content["data"].get("source", "")) if opening else ""
        for ticket in TICKET.findall(source):
            complaint = Complaint.by_ticket(ticket)
            if complaint is None or not complaint.openid:
                continue
            Outbox.enqueue(f"disclosed:{row.id}:{complaint.openid}", complaint.openid,
                           f"您的投诉（编号{ticket}）涉及的案件已作出{row.label}并依法公开："
                           f"{config['server']['public_base_url']}/disclosures/{row.id}", now)
            queued += 1
    return queued


def mass_quota_left(config, openids, now):
    """{openid: mass messages this user may still get this month} (服务号), or all-or-nothing for today (订阅号)."""
    mass = config["notices"]["mass"]
    if mass["account_type"] == "subscription":
        today = dt.datetime.combine(now.date(), dt.time.min)
        sent_today = SentMessage.select().where((SentMessage.channel == "mass") & (SentMessage.sent_at >= today)).count()
        queued_today = Outbox.select().where((Outbox.kind == "mass") & (Outbox.created_at >= today)).count()
        left = 0 if sent_today or queued_today else mass["subscription_per_day"]
        return dict.fromkeys(openids, left)
    month = dt.datetime.combine(now.date().replace(day=1), dt.time.min)
    used = SentMessage.counts_since(openids, "mass", month)
    allowed = mass["service_per_user_per_month"] - mass["reserve_per_user_per_month"]
    return {openid: allowed - used.get(openid, 0) for openid in openids}


def digest_text(items, config):
    lines = [f"本周新公示、公告{len(items)}条："]
    lines += [f"{n}. 【{item['category']}】{item['title']}" for n, item in enumerate(items[:8], 1)]
    if len(items) > 8:
        lines.append(f"……另有{len(items) - 8}条")
    base = config["server"]["public_base_url"]
    more = f"公告：{base}/announcements　" if any(i["category"] == ANNOUNCEMENT_CATEGORY for i in items) else ""
    lines.append(f"全部公示：{base}/disclosures/　{more}回复“取消订阅”可退订。")
    return "\n".join(lines)


def send_weekly_digest(config, now=None, disclosures=None):
    """Queue this week's digest for every subscriber with news and quota left; returns how many users."""
    now = now or dt.datetime.now()
    items = disclosures if disclosures is not None else new_items(config, now - dt.timedelta(days=7), now)
    if not items:
        return 0
    wanted = {}
    for openid, categories in Subscription.by_user().items():
        theirs = [item for item in items if ALL in categories or item["category"] in categories]
        if theirs:
            wanted[openid] = digest_text(theirs, config)
    left = mass_quota_left(config, list(wanted), now)
    skipped = sorted(openid for openid in wanted if left.get(openid, 0) <= 0)
    if skipped:
        log.warning("weekly digest: %d subscribers left out, their mass-send quota is spent", len(skipped))
    groups = {}
    for openid, text in wanted.items():
        if openid not in skipped:
            groups.setdefault(text, []).append(openid)
    if config["notices"]["mass"]["account_type"] == "subscription" and len(groups) > 1:
        # 订阅号: one mass send a day for the whole account — one digest of everything, to everyone.
        groups = {digest_text(items, config): sorted(o for openids in groups.values() for o in openids)}
    week = f"{now.isocalendar()[0]}-W{now.isocalendar()[1]:02d}"
    for text, openids in groups.items():
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        if len(openids) == 1:  # a mass send needs two openids at least: one user gets a message of their own
            Outbox.enqueue(f"digest:{week}:{digest}:{openids[0]}", openids[0], text, now)
            continue
        for start in range(0, len(openids), MASS_MAX):
            Outbox.enqueue_mass(f"digest:{week}:{digest}:{start}", openids[start:start + MASS_MAX], text, now)
    return sum(len(openids) for openids in groups.values())
