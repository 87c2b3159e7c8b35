"""Disclosures reach the people who asked: the weekly digest reads what 事后公开 (models/publication.py)
published that week, by subscription category; a complainant whose complaint led to the case hears of
its published decision by a message of their own, once."""
import datetime as dt

from models import cases, publication
from models.complaints import Complaint
from models.outbox import Outbox
from models.publication import Disclosure
from models.subscriptions import Subscription
from notices.subscriptions import (
    new_disclosures,
    notify_complainants,
    send_weekly_digest,
)
from tests.models.test_review import A, B, at, decision, notify, propose
from tests.notices.test_annual_report import config  # noqa: F401  (the fixture: reviewer, head, output folder)


def test_a_published_decision_reaches_subscribers_and_the_complainant(config):  # noqa: F811
    complaint = Complaint.file(config, dt.datetime(2026, 8, 20, 9), category="网吧", content="星空网吧接纳未成年人上网",
                               submitter="wx:o_mother", openid="o_mother")
    case = cases.open_case(config, party={"kind": "法人或其他组织", "name": "奈曼旗星空网吧", "address": "大沁他拉镇某街1号"},
                           handlers=[A, B], by=A, at=at(9, 1),
                           data={"item_code": "CF-002", "source": f"投诉举报 {complaint.ticket}", "facts": "接纳未成年人",
                                 "approver": "局长"})
    cases.record_step(config, case.number, "调查取证", {"method": "询问", "content": "承认", "officers": [A, B],
                                                    "av_exception": "设备故障，已书面记录"}, by=A, at=at(9, 2))
    propose(config, case)
    notify(config, case)
    cases.record_step(config, case.number, "决定", decision(), by=A, at=at(9, 16))
    publication.sync(config, now=dt.datetime(2026, 9, 17, 9))
    assert notify_complainants(config, now=dt.datetime(2026, 9, 17, 9)) == 0  # not public yet: nothing said
    [row] = Disclosure.select()
    published = dt.datetime(2026, 9, 18, 9)
    publication.publish(config, row, now=published)

    assert notify_complainants(config, now=published) == 1
    assert notify_complainants(config, now=published + dt.timedelta(minutes=10)) == 1  # the same key: still one row
    [told] = Outbox.select().where(Outbox.openid == "o_mother")
    assert complaint.ticket in told.text and f"/disclosures/{row.id}" in told.text

    items = new_disclosures(config, published - dt.timedelta(days=7), published + dt.timedelta(hours=1))
    assert [item["category"] for item in items] == ["网吧"]  # the party is a 网吧: the subscribers of 网吧 hear
    for openid, category in (("o_1", "网吧"), ("o_2", "网吧"), ("o_3", "旅游")):
        Subscription.subscribe(openid, category, published)
    assert send_weekly_digest(config, now=published + dt.timedelta(days=3)) == 2
    [digest] = Outbox.select().where(Outbox.kind == "mass")
    assert digest.recipients == ["o_1", "o_2"] and "星空网吧" in digest.text and "/disclosures/" in digest.text
