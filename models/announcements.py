"""公告 — a staff announcement: written in the chat (#公告), previewed masked, confirmed, published on
the public pages and pushed to subscribers; withdrawn (#撤回公告) with a reason, the history kept.

Only the masked text is ever published: names, ID, phone and bank numbers and addresses of natural
persons are masked as in 事后公开 (DOMAIN.md §1). `public_text` is the one place that masks."""
from peewee import CharField, DateTimeField, ForeignKeyField, TextField

from models.database import BaseModel, db
from models.masking import mask
from models.staff import Staff, authorize

DRAFT, PUBLISHED, WITHDRAWN = "待确认", "已发布", "已撤回"
TITLE_MAX, BODY_MIN, BODY_MAX = 40, 5, 1500


class AnnouncementError(ValueError):
    """A rule said no; the message is Chinese and says what to do."""


def public_text(text):
    """The text as it may be published: persons' details masked by the rules of 事后公开
    (models/masking.py: ID, phone and bank numbers, home addresses, names of natural persons)."""
    return mask(text).text


class Announcement(BaseModel):
    title = CharField(max_length=TITLE_MAX * 2)
    body = TextField()  # as the staff member wrote it (never published)
    public_body = TextField()  # masked: what the pages and pushes show
    status = CharField(default=DRAFT, index=True)
    staff = ForeignKeyField(Staff, null=True, on_delete="SET NULL")
    author = CharField()
    created_at = DateTimeField()
    published_at = DateTimeField(null=True, index=True)
    withdrawn_at = DateTimeField(null=True)
    withdrawn_by = CharField(default="")
    withdraw_reason = TextField(default="")

    class Meta:
        table_name = "announcement"

    @classmethod
    def draft(cls, staff, title, body, now):
        """A new draft of `staff` (replacing their earlier unconfirmed one), masked for the preview."""
        authorize(staff, "announcement.publish")
        title, body = (title or "").strip(), (body or "").strip()
        if not title or len(title) > TITLE_MAX:
            raise AnnouncementError(f"请写公告标题（{TITLE_MAX}字以内）：“#公告 标题”，换行后写正文。")
        if len(body) < BODY_MIN:
            raise AnnouncementError("请在标题后换行写公告正文，例如：\n#公告 春节期间办公安排\n1月28日至2月4日……")
        if len(body) > BODY_MAX:
            raise AnnouncementError(f"正文太长（{len(body)}字），请控制在{BODY_MAX}字以内，详细内容可放在网页。")
        with db.atomic():
            cls.delete().where((cls.staff == staff) & (cls.status == DRAFT)).execute()
            return cls.create(title=public_text(title), body=body, public_body=public_text(body), staff=staff,
                              author=staff.name, created_at=now)

    @classmethod
    def pending_of(cls, staff):
        return cls.get_or_none((cls.staff == staff) & (cls.status == DRAFT))

    def publish(self, staff, now, config):
        """Confirmed: on the public pages now; the next weekly digest (notices/subscriptions.py) carries it
        to subscribers by mass send, within their quota — not a message each, which outside the 48-hour
        window would need a template per user and spend nothing of the mass quota's purpose."""
        authorize(staff, "announcement.publish")
        if self.status != DRAFT:
            raise AnnouncementError(f"公告“{self.title}”{self.status}，不能再发布。")
        self.status, self.published_at = PUBLISHED, now
        self.save()
        return self

    @classmethod
    def published_between(cls, since, until):
        return list(cls.select().where((cls.status == PUBLISHED) & (cls.published_at >= since)
                                       & (cls.published_at < until)).order_by(cls.published_at))

    def withdraw(self, staff, now, reason):
        authorize(staff, "announcement.withdraw")
        reason = (reason or "").strip()
        if self.status != PUBLISHED:
            raise AnnouncementError(f"公告“{self.title}”{self.status}，无需撤回。")
        if len(reason) < 2:
            raise AnnouncementError(f"请写明撤回理由：“#撤回公告 {self.id} 理由”。")
        self.status, self.withdrawn_at, self.withdrawn_by = WITHDRAWN, now, staff.name
        self.withdraw_reason = public_text(reason)[:500]
        self.save()
        return self

    @classmethod
    def public(cls, limit=50):
        """Published and withdrawn ones (a withdrawn one shows why, not its text), newest first."""
        return list(cls.select().where(cls.status.in_((PUBLISHED, WITHDRAWN)))
                    .order_by(cls.published_at.desc()).limit(limit))

    @classmethod
    def by_id(cls, value):
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            return None
        return cls.get_or_none(cls.id == number) if 0 < number < 2**31 else None


# Announcements go to everyone who subscribed to all notices (category "") and to those of 公告 only.
ANNOUNCEMENT_CATEGORY = "公告"


ANNOUNCEMENT_MODELS = [Announcement]
