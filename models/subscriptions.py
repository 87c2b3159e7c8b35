"""订阅公示 — citizens who asked to be told of new disclosures (事后公开), by category or all of them.

A row per (openid, category); category "" means every category. Withdrawn by 取消订阅. The weekly
digest (notices/subscriptions.py) reads them, and the mass-send quotas decide who can get it this
week (models/outbox.py counts what each user was sent)."""
import datetime as dt

from peewee import CharField, DateTimeField

from models.database import BaseModel, db

ALL = ""


def subscription_categories(config):
    """The categories one can subscribe to (config notices.subscriptions.categories)."""
    return list(config["notices"]["subscriptions"]["categories"])


def category_named(config, text):
    """The configured category `text` names (its name or one of its words), "" for none given, None if unknown."""
    text = (text or "").strip()
    if not text or text in ("全部", "所有"):
        return ALL
    for category in subscription_categories(config):
        if text == category["name"] or text in category.get("words", []):
            return category["name"]
    return None


class Subscription(BaseModel):
    openid = CharField(max_length=128, index=True)
    category = CharField(default=ALL, max_length=40)
    created_at = DateTimeField()

    class Meta:
        table_name = "notice_subscription"
        indexes = ((("openid", "category"), True),)

    @classmethod
    def subscribe(cls, openid, category, now):
        """Add a subscription; True if it is new. Subscribing to all replaces the single categories."""
        with db.atomic():
            if category == ALL:
                cls.delete().where((cls.openid == openid) & (cls.category != ALL)).execute()
            elif cls.get_or_none((cls.openid == openid) & (cls.category == ALL)):
                return False
            if cls.get_or_none((cls.openid == openid) & (cls.category == category)):
                return False
            cls.insert(openid=openid, category=category, created_at=now).on_conflict_ignore().execute()
            return True

    @classmethod
    def unsubscribe(cls, openid, category=None):
        """Remove one category, or (None) every subscription; how many rows went."""
        query = cls.delete().where(cls.openid == openid)
        if category is not None:
            query = query.where(cls.category == category)
        return query.execute()

    @classmethod
    def of(cls, openid):
        return [s.category for s in cls.select().where(cls.openid == openid).order_by(cls.id)]

    @classmethod
    def subscribers(cls, category):
        """Openids who want news of `category` (subscribed to it, or to all)."""
        rows = cls.select(cls.openid).where(cls.category.in_([ALL, category])).distinct()
        return sorted({row.openid for row in rows})

    @classmethod
    def by_user(cls):
        """{openid: set of categories ("" = all)} of every subscriber."""
        found = {}
        for row in cls.select(cls.openid, cls.category):
            found.setdefault(row.openid, set()).add(row.category)
        return found


def week_start(day):
    return day - dt.timedelta(days=day.weekday())
