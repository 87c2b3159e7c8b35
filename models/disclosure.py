"""事前公开 — what the bureau publishes before enforcement: who, on what basis, how."""
import datetime as dt
from functools import reduce
import operator

from peewee import CharField, DateField, IntegerField, TextField

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
