"""订阅公示: the weekly digest of new disclosures (事后公开) to subscribers, by mass send (群发), within the
account's mass-send quota (config notices.mass): a 服务号 user gets at most 4 mass messages a month, a
订阅号 may mass-send once a day. Users whose quota is spent are left out this week (and logged); each
user's digest lists only the categories they asked for. Every send is logged (models/outbox.py)."""
import datetime as dt
import hashlib
import logging

from models.outbox import Outbox, SentMessage
from models.subscriptions import ALL, Subscription

log = logging.getLogger(__name__)
MASS_MAX = 10000  # openids in one mass send (WeChat: 2 to 10,000)


def new_disclosures(config, since, until):
    """[{category, title, url}] of disclosures published in [since, until).

    事后公开 is issue 13 (models/disclosures); until it is merged nothing is published to tell of, and
    this is the one line to replace."""
    return []


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
    lines = [f"本周新公示{len(items)}条："]
    lines += [f"{n}. 【{item['category']}】{item['title']}" for n, item in enumerate(items[:8], 1)]
    if len(items) > 8:
        lines.append(f"……另有{len(items) - 8}条")
    lines.append(f"全部公示：{config['server']['public_base_url']}/disclosures　回复“取消订阅”可退订。")
    return "\n".join(lines)


def send_weekly_digest(config, now=None, disclosures=None):
    """Queue this week's digest for every subscriber with news and quota left; returns how many users."""
    now = now or dt.datetime.now()
    items = disclosures if disclosures is not None else new_disclosures(config, now - dt.timedelta(days=7), now)
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
