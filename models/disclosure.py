"""事前公开 — what the bureau publishes before enforcement: who, on what basis, how; and the justice
bureau's 合法性审核 of each published list."""
import datetime as dt
import hashlib
import json
import operator
from functools import reduce

from peewee import CharField, DateField, DateTimeField, IntegerField, TextField

from models import laws
from models.database import BaseModel

ENFORCEMENT_CATEGORIES = ("行政处罚", "行政强制", "行政检查", "行政许可", "行政确认", "行政奖励", "其他行政权力")
OFFICER_STATUSES = ("有效", "暂扣", "注销")


class Bureau(BaseModel):
    """执法主体 — the enforcement body itself."""

    name = CharField()
    legal_basis = TextField()
    duties = TextField()
    powers = TextField()
    address = CharField()
    hours = CharField()
    phone = CharField()
    supervisor = CharField(default="")

    @classmethod
    def current(cls):
        return cls.select().order_by(cls.id).first()


class Officer(BaseModel):
    """执法人员 — an officer and the enforcement certificate (执法证) they carry."""

    name = CharField()
    cert_no = CharField(unique=True)
    issuer = CharField()
    fields = CharField()  # 执法领域, joined with "、"
    valid_from = DateField()
    valid_to = DateField()
    status = CharField(default="有效")
    status_reason = CharField(default="")
    status_changed_on = DateField(null=True)
    # 亮证 (models/badges.py): an optional photo file under badges.photo_dir, and the random nonce
    # inside the badge QR's signed token; a new nonce voids every badge printed before.
    photo = CharField(default="")
    badge_nonce = CharField(null=True, unique=True)

    class Meta:
        table_name = "officer"

    @classmethod
    def by_cert_no(cls, cert_no):
        """The officer holding 执法证号 `cert_no` (surrounding spaces ignored), or None."""
        cert_no = str(cert_no or "").strip()
        return cls.get_or_none(cls.cert_no == cert_no) if cert_no else None

    def verdict(self, today=None):
        """The one-line answer a citizen needs: may this certificate be used today?"""
        today = today or dt.date.today()
        if self.status == "暂扣":
            return "已暂扣"
        if self.status == "注销":
            return "已注销"
        if today > self.valid_to:
            return "已过期"
        if today < self.valid_from:
            return "尚未生效"
        return "有效"

    @classmethod
    def lookup(cls, text):
        """Who a citizen means by `text`: the exact 执法证号, else exact names, else names containing it."""
        by_cert = cls.by_cert_no(text)
        if by_cert:
            return [by_cert]
        exact = list(cls.select().where(cls.name == text).order_by(cls.cert_no))
        return exact or list(cls.select().where(cls.name.contains(text)).order_by(cls.cert_no))

    @classmethod
    def search(cls, text):
        """Officers whose name or certificate number contains `text`."""
        text = text.strip()
        query = cls.select().order_by(cls.cert_no)
        if text:
            query = query.where(cls.name.contains(text) | cls.cert_no.contains(text))
        return list(query)


class EnforcementItem(BaseModel):
    """《行政执法事项清单》 — one enforcement power with its legal basis."""

    code = CharField(unique=True)
    name = CharField()
    category = CharField()
    basis_law = CharField()
    basis_article = CharField()
    acting_body = CharField()
    responsible_body = CharField()
    penalty = TextField(default="")
    keywords = CharField(default="")

    @property
    def basis(self):
        return f"《{self.basis_law}》{self.basis_article}"

    @property
    def law(self):
        """The cited law as in the catalogue (models/laws.py), or None when it is not (any more)."""
        return laws.find(self.basis_law)

    @classmethod
    def search(cls, text, category=None):
        """Items matching every whitespace-separated term in name, category, basis or keywords;
        only those of `category` when one is given."""
        terms = [t for t in text.split() if t]
        query = cls.select().order_by(cls.code)
        if terms:
            query = query.where(reduce(operator.and_, [cls._matches(t) for t in terms]))
        if category:
            query = query.where(cls.category == category)
        return list(query)

    @classmethod
    def categories(cls):
        """The 执法行为类别 in use, in the order of ENFORCEMENT_CATEGORIES."""
        rows = cls.select(cls.category).distinct()
        order = {name: i for i, name in enumerate(ENFORCEMENT_CATEGORIES)}
        return sorted((r.category for r in rows), key=lambda c: (order.get(c, 99), c))

    @classmethod
    def _matches(cls, term):
        return (cls.name.contains(term) | cls.category.contains(term) | cls.basis_law.contains(term)
                | cls.penalty.contains(term) | cls.keywords.contains(term))


class InspectionItem(BaseModel):
    """《随机抽查事项清单》 — one item of the 双随机、一公开 inspections."""

    name = CharField()
    subject = CharField()
    basis = TextField()
    target = CharField()
    content = TextField()
    ratio = CharField()
    method = CharField()
    frequency = CharField()
    seq = IntegerField(default=0)

    @classmethod
    def published(cls):
        return list(cls.select().order_by(cls.seq, cls.id))


class FlowStep(BaseModel):
    """执法流程 — one step of the published enforcement flow of a category."""

    category = CharField()
    seq = IntegerField()
    title = CharField()
    detail = TextField(default="")
    basis = TextField(default="")  # 《法规》第X条: where the step comes from

    class Meta:
        indexes = ((("category", "seq"), True),)

    @classmethod
    def categories(cls):
        rows = cls.select(cls.category).group_by(cls.category).order_by(cls.category)
        order = {name: i for i, name in enumerate(ENFORCEMENT_CATEGORIES)}
        return sorted((r.category for r in rows), key=lambda c: (order.get(c.split("（")[0], 99), c))

    @classmethod
    def flow(cls, category):
        return list(cls.select().where(cls.category == category).order_by(cls.seq))


# The lists the justice bureau reviews before publication, and what each holds (what a review covers).
PUBLISHED_LISTS = {
    "行政执法事项清单": lambda: [[i.code, i.name, i.category, i.basis_law, i.basis_article, i.acting_body,
                          i.responsible_body, i.penalty] for i in EnforcementItem.select().order_by(EnforcementItem.code)],
    "随机抽查事项清单": lambda: [[i.name, i.subject, i.basis, i.target, i.content, i.ratio, i.method, i.frequency]
                          for i in InspectionItem.published()],
    "执法流程": lambda: [[s.category, s.seq, s.title, s.detail, s.basis]
                     for s in FlowStep.select().order_by(FlowStep.category, FlowStep.seq)],
}


def list_hash(list_name):
    """SHA-256 of a published list's content as it is now (canonical JSON)."""
    content = json.dumps(PUBLISHED_LISTS[list_name](), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


class ListReview(BaseModel):
    """合法性审核 — the justice bureau's review of a published list, as staff entered it: by whom, the
    document, the date, and a hash of what the list held then. Written once, never changed."""

    list_name = CharField()
    reviewed_on = DateField()
    document_no = CharField()  # e.g. 奈司审〔2026〕12号
    reviewer = CharField()  # e.g. 奈曼旗司法局
    entered_by = CharField()
    entered_at = DateTimeField(default=dt.datetime.now)
    content_hash = CharField(max_length=64)

    class Meta:
        table_name = "list_review"
        indexes = ((("list_name", "entered_at"), False),)

    @classmethod
    def record(cls, list_name, *, reviewed_on, document_no, reviewer, entered_by, now=None):
        """Record that `list_name`, as it is now, passed review; returns the record."""
        if list_name not in PUBLISHED_LISTS:
            raise ValueError(f"没有“{list_name}”这份清单，可选：{'、'.join(PUBLISHED_LISTS)}")
        if not (document_no or "").strip() or not (reviewer or "").strip():
            raise ValueError("请写明审核机关和审核文号。")
        return cls.create(list_name=list_name, reviewed_on=reviewed_on, document_no=document_no.strip(),
                          reviewer=reviewer.strip(), entered_by=entered_by, entered_at=now or dt.datetime.now(),
                          content_hash=list_hash(list_name))

    @classmethod
    def latest(cls, list_name):
        return (cls.select().where(cls.list_name == list_name)
                .order_by(cls.entered_at.desc(), cls.id.desc()).first())

    @classmethod
    def status(cls, list_name):
        """(latest review or None, whether the list changed since it)."""
        review = cls.latest(list_name)
        return review, review is not None and review.content_hash != list_hash(list_name)

    def save(self, *args, **kwargs):
        if self.id is not None:
            raise ValueError("审核记录不能修改；如录入有误，请再录入一条。")
        return super().save(*args, **kwargs)
