"""亮证 as a citizen sees it: the badge QR's page in headless Chromium at a phone's size, on the live server."""
import base64
import datetime as dt

import pytest

import settings
from models import Officer, db, open_database
from models.badges import badge_url, set_status

TODAY = dt.date.today()


@pytest.fixture(scope="module")
def live(live_server):
    """The live server's configuration, its database opened here, and officers whose dates suit any day."""
    config = settings.load_config(environ=live_server["env"])
    open_database(live_server["database_url"])
    with db.connection_context():
        for cert_no, name, start, end in (
                ("15052599001", "苏日娜", TODAY - dt.timedelta(days=30), TODAY + dt.timedelta(days=365)),
                ("15052599004", "韩立新", TODAY - dt.timedelta(days=1000), TODAY - dt.timedelta(days=1)),
                ("15052599008", "乌日根", TODAY - dt.timedelta(days=30), TODAY + dt.timedelta(days=365))):
            Officer.get_or_create(cert_no=cert_no, defaults=dict(
                name=name, issuer="内蒙古自治区人民政府", fields="文化市场", valid_from=start, valid_to=end))
    return config


def url_of(live, cert_no):
    with db.connection_context():
        return badge_url(Officer.get(Officer.cert_no == cert_no), live)


def verdict(phone):
    return phone.locator("#verdict").inner_text().split("\n")[0].strip()


@pytest.mark.parametrize("cert_no, name, words", [
    ("15052599001", "苏日娜", "有效执法证件"),
    ("15052501006", "赵志强", "已暂扣"),
    ("15052501007", "刘晓东", "已注销"),
    ("15052599004", "韩立新", "已过期"),
])
def test_phone_sees_the_verdict_first(phone, live, cert_no, name, words, tmp_path):
    response = phone.goto(url_of(live, cert_no))
    assert response.status == 200
    assert verdict(phone) == words
    box = phone.locator("#verdict").bounding_box()
    assert box["y"] < 200 and box["width"] <= 390  # the first thing on the screen, no sideways scroll
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    body = phone.locator("main").inner_text()
    assert name in body and cert_no in body and "内蒙古自治区人民政府" in body
    complain = phone.get_by_role("link", name="投诉该执法人员")
    assert complain.is_visible() and complain.get_attribute("href") == f"/complaints/new?officer={cert_no}"
    phone.screenshot(path=str(tmp_path / f"{cert_no}.png"))


@pytest.mark.parametrize("forge", ["flip", "made_up", "truncated"])
def test_phone_sees_a_forged_badge_as_invalid(phone, live, forge):
    url = url_of(live, "15052599001")
    base, token = url.rsplit("/", 1)
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[5] ^= 0x10
    token = {"flip": base64.urlsafe_b64encode(bytes(raw)).decode(), "made_up": "A" * 44,
             "truncated": token[:30]}[forge]
    response = phone.goto(f"{base}/{token}")
    assert response.status == 404
    assert verdict(phone) == "无效二维码"
    assert "苏日娜" not in phone.content()


def test_status_change_shows_on_the_next_scan(phone, live):
    phone.goto(url_of(live, "15052599008"))
    assert verdict(phone) == "有效执法证件"
    with db.connection_context():
        set_status(Officer.get(Officer.cert_no == "15052599008"), "注销", "调离执法岗位", "人事股")
    phone.reload()
    assert verdict(phone) == "已注销"
