"""亮证 — the signed token in an officer's badge QR, status changes, and how often badges are scanned.

A badge QR encodes `<public base URL>/v/<token>`. The token is 33 bytes, base64url (44 characters):

    version (1 byte) || nonce (16 random bytes) || HMAC-SHA256(key_v, "sanxiang-badge" || version || nonce)[:16]

- The nonce is random per officer and stored on the officer; it says nothing guessable (no ids, no
  certificate numbers). A new nonce (`rotate_badge`) voids every badge printed before.
- key_v is derived from the server secret (BADGE_SECRET) and the key version of config.yaml
  (badges.key_version). Only the current version verifies: raising it voids every printed badge at
  once, as does changing the secret.
- The MAC is checked in constant time before the database is asked, so a made-up token learns nothing.
"""
import base64
import binascii
import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
from pathlib import Path

from peewee import CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from models.database import BaseModel, db
from models.disclosure import OFFICER_STATUSES, Officer

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent

NONCE_BYTES = 16
MAC_BYTES = 16  # HMAC-SHA256 cut to 128 bits (RFC 2104 §5 allows truncation to half the hash)
TOKEN_BYTES = 1 + NONCE_BYTES + MAC_BYTES
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{44}")
DOMAIN_TAG = b"sanxiang-badge"
# For a developer's machine only: badges printed with it are refused by `python bot.py badge`.
DEV_SECRET = "sanxiang-dev-badge-secret-not-for-printing"
SCAN_CHANNELS = ("page", "wechat")  # the /v/ page, WeChat's own parametric QR
# The big words a citizen reads first for each Officer.verdict, and their colour (static/style.css
# .verdict), the same in the chat and on the badge page.
VERDICT_WORDS = {
    "有效": ("有效执法证件", "ok"),
    "已暂扣": ("已暂扣", "bad"),
    "已注销": ("已注销", "bad"),
    "已过期": ("已过期", "bad"),
    "尚未生效": ("尚未生效", "warn"),
}
INVALID_WORDS = ("无效二维码", "bad")


def photo_dir(config):
    """Where officers' photos are kept: badges.photo_dir (BADGE_PHOTO_DIR), relative to the project root."""
    path = Path(config.get("badges", {}).get("photo_dir") or "var/photos")
    return path if path.is_absolute() else ROOT / path


def photo_path(officer, config):
    """The officer's photo file, or None when there is none (or it went missing)."""
    if not officer.photo:
        return None
    path = photo_dir(config) / officer.photo
    return path if path.is_file() else None


class BadgeError(ValueError):
    """A badge operation staff asked for cannot be done; the message says why, in Chinese."""


# -- keys and tokens ---------------------------------------------------------------------------------

def badge_secret(config):
    """The signing secret: badges.secret (BADGE_SECRET in the environment), else DEV_SECRET."""
    return config.get("badges", {}).get("secret") or DEV_SECRET


def uses_dev_secret(config):
    return badge_secret(config) == DEV_SECRET


def key_version(config):
    version = int(config.get("badges", {}).get("key_version", 1))
    if not 1 <= version <= 255:
        raise BadgeError("badges.key_version 应为1到255之间的整数")
    return version


def _mac(config, version, nonce):
    key = hmac.new(badge_secret(config).encode(), b"key-v%d" % version, hashlib.sha256).digest()
    return hmac.new(key, DOMAIN_TAG + bytes([version]) + nonce, hashlib.sha256).digest()[:MAC_BYTES]


def ensure_nonce(officer):
    """The officer's badge nonce, created (and saved) on first use."""
    if not officer.badge_nonce:
        officer.badge_nonce = secrets.token_hex(NONCE_BYTES)
        Officer.update(badge_nonce=officer.badge_nonce).where(Officer.id == officer.id).execute()
    return officer.badge_nonce


def token_for(officer, config):
    """The token printed in `officer`'s badge QR under the current key."""
    version = key_version(config)
    nonce = bytes.fromhex(ensure_nonce(officer))
    raw = bytes([version]) + nonce + _mac(config, version, nonce)
    return base64.urlsafe_b64encode(raw).decode()


def badge_url(officer, config):
    return f"{config['server']['public_base_url']}/v/{token_for(officer, config)}"


def officer_for_token(token, config):
    """The officer a genuine, current token belongs to; None for anything else (never raises)."""
    if not isinstance(token, str) or not TOKEN_PATTERN.fullmatch(token):
        return None
    try:
        raw = base64.urlsafe_b64decode(token)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != TOKEN_BYTES:
        return None
    version, nonce, mac = raw[0], raw[1:1 + NONCE_BYTES], raw[1 + NONCE_BYTES:]
    current = key_version(config)
    expected = _mac(config, current, nonce)
    if not hmac.compare_digest(expected, mac) or version != current:
        if version != current:
            log.info("badge token with key version %d refused (current %d)", version, current)
        return None
    # A genuine token whose nonce was rotated away finds nobody: the printed badge is void.
    return Officer.get_or_none(Officer.badge_nonce == nonce.hex())


def rotate_badge(officer):
    """Give `officer` a new nonce: every badge printed before shows 无效二维码 from now on."""
    officer.badge_nonce = secrets.token_hex(NONCE_BYTES)
    Officer.update(badge_nonce=officer.badge_nonce).where(Officer.id == officer.id).execute()
    return officer


# -- status history ------------------------------------------------------------------------------------

class OfficerStatusChange(BaseModel):
    """执法证状态变更记录 — one change of a certificate's status (有效/暂扣/注销), kept for good."""

    officer = ForeignKeyField(Officer, backref="status_changes", on_delete="CASCADE")
    from_status = CharField()
    to_status = CharField()
    reason = TextField()
    changed_on = DateField()
    changed_by = CharField()
    recorded_at = DateTimeField(default=dt.datetime.now)

    @classmethod
    def history(cls, officer):
        return list(cls.select().where(cls.officer == officer).order_by(cls.changed_on, cls.id))


def set_status(officer, status, reason, who, on=None):
    """Change a certificate's status with its reason, date and who decided it; the history keeps it."""
    reason, who = (reason or "").strip(), (who or "").strip()
    if status not in OFFICER_STATUSES:
        raise BadgeError(f"状态“{status}”无效，应为：{'、'.join(OFFICER_STATUSES)}")
    if status == officer.status:
        raise BadgeError(f"{officer.name}（{officer.cert_no}）的状态已是“{status}”，无需变更")
    if not reason:
        raise BadgeError("请写明变更原因")
    if not who:
        raise BadgeError("请写明经办人")
    on = on or dt.date.today()
    with db.atomic():
        OfficerStatusChange.create(officer=officer, from_status=officer.status, to_status=status,
                                   reason=reason, changed_on=on, changed_by=who)
        Officer.update(status=status, status_reason=reason, status_changed_on=on).where(
            Officer.id == officer.id).execute()
    officer.status, officer.status_reason, officer.status_changed_on = status, reason, on
    return officer


# -- scans ---------------------------------------------------------------------------------------------------

class BadgeScan(BaseModel):
    """How often an officer's badge was scanned on a day, by channel. Who scanned is not kept."""

    officer = ForeignKeyField(Officer, backref="badge_scans", on_delete="CASCADE")
    day = DateField()
    channel = CharField()
    scans = IntegerField(default=0)

    class Meta:
        indexes = ((("officer", "day", "channel"), True),)

    @classmethod
    def record(cls, officer, channel, day=None):
        """Count one scan; safe when several workers count the same row at once."""
        (cls.insert(officer=officer, day=day or dt.date.today(), channel=channel, scans=1)
            .on_conflict(conflict_target=[cls.officer, cls.day, cls.channel], update={cls.scans: cls.scans + 1})
            .execute())

    @classmethod
    def report(cls, since, until=None):
        """Rows of (day, officer, channel, scans) from `since` to `until`, newest day first."""
        query = (cls.select(cls, Officer).join(Officer)
                 .where(cls.day >= since, cls.day <= (until or dt.date.today()))
                 .order_by(cls.day.desc(), Officer.cert_no, cls.channel))
        return list(query)


# -- WeChat's own parametric QR ------------------------------------------------------------------------

class WeChatBadgeQR(BaseModel):
    """永久二维码 created through the WeChat API for an officer (at most 100,000 per account)."""

    officer = ForeignKeyField(Officer, backref="wechat_qrs", on_delete="CASCADE", unique=True)
    scene = CharField(max_length=64)
    ticket = CharField()
    url = CharField()  # what the QR image encodes; we draw the image ourselves from it
    created_at = DateTimeField(default=dt.datetime.now)


MAX_SCENE_CHARS = 64  # scene_str of QR_LIMIT_STR_SCENE: 1 to 64 characters


def wechat_scene(officer, config):
    scene = config.get("badges", {}).get("wechat_scene_prefix", "officer:") + officer.cert_no
    if not 1 <= len(scene) <= MAX_SCENE_CHARS:
        raise BadgeError(f"二维码场景值“{scene}”超过{MAX_SCENE_CHARS}个字符")
    return scene


def create_wechat_qr(officer, config, client):
    """The officer's permanent QR (QR_LIMIT_STR_SCENE), created once through `client` and then kept.

    生成带参数的二维码: https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html
    """
    existing = WeChatBadgeQR.get_or_none(WeChatBadgeQR.officer == officer)
    scene = wechat_scene(officer, config)
    if existing and existing.scene == scene:
        return existing
    answer = client.qrcode.create({"action_name": "QR_LIMIT_STR_SCENE",
                                   "action_info": {"scene": {"scene_str": scene}}})
    with db.atomic():
        WeChatBadgeQR.delete().where(WeChatBadgeQR.officer == officer).execute()
        return WeChatBadgeQR.create(officer=officer, scene=scene, ticket=answer["ticket"], url=answer["url"])
