"""事后公开 pages: the list with search and filters, a detail, the feed, JSON, stats, the staff preview;
what is not public (pending, withheld, expired) never shows, and hostile parameters get a page, not a 5xx."""
import base64
import datetime as dt
import json
import xml.etree.ElementTree as ET

import pytest

from models import db, publication
from models.publication import Disclosure


def add(n, status, **extra):
    values = dict(key=f"t:{n}", source="case", decision_kind="决定", category="行政处罚", authority="奈曼旗文化和旅游局",
                  party=f"奈曼旗第{n}网吧", party_kind="法人或其他组织", decision_no=f"奈文旅罚〔2026〕{n}号",
                  decided_on=dt.date(2026, 9, n), due_on=dt.date(2026, 9, 20), status=status,
                  conclusion=f"警告，罚款{n}000元", item_name="网吧接纳未成年人", original=f"原文：电话1384751{n:04d}",
                  masked="公开文本：电话138********", expires_on=dt.date(2099, 1, 1),
                  published_at=dt.datetime(2026, 9, 20, 9) if status != publication.PENDING else None)
    values.update(extra)
    return Disclosure.create(**values)


@pytest.fixture
def rows(app):
    db.connect(reuse_if_open=True)
    made = {"published": add(1, publication.PUBLISHED),
            "travel": add(2, publication.PUBLISHED, category="行政许可", party="奈曼旗阳光旅行社有限公司",
                          item_name="旅行社业务经营许可", decision_kind="决定"),
            "withdrawn": add(3, publication.WITHDRAWN, public_note="已撤回：该决定已被行政复议决定撤销"),
            "pending": add(4, publication.PENDING),
            "withheld": add(5, publication.WITHHELD, withheld_reason="当事人为未成年人"),
            "expired": add(6, publication.EXPIRED)}
    yield made
    if not db.is_closed():
        db.close()


def test_list_shows_only_what_is_public(client, rows):
    page = client.get("/disclosures/").get_data(as_text=True)
    assert "奈曼旗第1网吧" in page and "奈曼旗阳光旅行社有限公司" in page
    assert "奈文旅罚〔2026〕3号" in page and "已撤回" in page and "奈曼旗第3网吧" not in page
    for hidden in ("奈曼旗第4网吧", "奈曼旗第5网吧", "奈曼旗第6网吧", "1384751"):
        assert hidden not in page


@pytest.mark.parametrize("query,shown,hidden", [
    ("?category=行政许可", "阳光旅行社", "第1网吧"),
    ("?q=旅行社", "阳光旅行社", "第1网吧"),
    ("?party=第1网吧", "第1网吧", "阳光旅行社"),
    ("?item=旅行社业务", "阳光旅行社", "第1网吧"),
    ("?from=2026-09-02&to=2026-09-02", "阳光旅行社", "第1网吧"),
    ("?party=第3网吧", "暂无", "奈文旅罚〔2026〕3号"),  # a withdrawn record is not found by its party
])
def test_filters(client, rows, query, shown, hidden):
    page = client.get("/disclosures/" + query).get_data(as_text=True)
    assert (shown in page or (shown == "暂无" and "没有找到" in page)) and hidden not in page


def test_detail_feed_json_and_stats(client, rows):
    detail = client.get(f"/disclosures/{rows['published'].id}").get_data(as_text=True)
    assert "公开文本：电话138********" in detail and "原文" not in detail
    withdrawn = client.get(f"/disclosures/{rows['withdrawn'].id}").get_data(as_text=True)
    assert "行政复议决定撤销" in withdrawn and "奈曼旗第3网吧" not in withdrawn
    assert client.get(f"/disclosures/{rows['pending'].id}").status_code == 404
    assert client.get(f"/disclosures/{rows['withheld'].id}").status_code == 404
    assert client.get(f"/disclosures/{rows['expired'].id}").status_code == 410
    feed = client.get("/disclosures/feed.atom")
    assert feed.mimetype == "application/atom+xml"
    entries = ET.fromstring(feed.data).findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == 3
    data = json.loads(client.get("/disclosures/index.json?size=2").data)
    assert data["total"] == 3 and len(data["items"]) == 2
    assert all("original" not in item and "1384751" not in json.dumps(item) for item in data["items"])
    withdrawn_json = [i for i in json.loads(client.get("/disclosures/index.json").data)["items"]
                      if i["status"] == "已撤回"][0]
    assert "party" not in withdrawn_json and "text" not in withdrawn_json
    stats = client.get("/disclosures/stats").get_data(as_text=True)
    assert "2026-09" in stats


def test_staff_preview_needs_the_token(app, client, rows):
    app.config["SANXIANG"]["badges"]["staff_token"] = "s3cret"
    url = f"/staff/disclosures/{rows['pending'].id}"
    assert client.get(url).status_code == 401
    auth = {"Authorization": "Basic " + base64.b64encode(b"clerk:s3cret").decode()}
    page = client.get(url, headers=auth).get_data(as_text=True)
    assert "原文：电话13847510004" in page and "公开文本" in page


@pytest.mark.parametrize("url", [
    "/disclosures/?page=-1", "/disclosures/?page=99999999999999999999", "/disclosures/?from=2026-13-45",
    "/disclosures/?q=%00%01" + "x" * 500, "/disclosures/?category=<script>", "/disclosures/abc",
    "/disclosures/99999999999999999999", "/disclosures/index.json?size=-5&page=abc", "/disclosures/-1",
    "/disclosures/index.json?from=x&to=y", "/ledger/proof/1.json",
])
def test_hostile_parameters(client, rows, url):
    response = client.get(url)
    assert response.status_code in (200, 404)
    assert b"Traceback" not in response.data


def test_index_links_disclosures_complaints_and_certificate_check(client, rows):
    page = client.get("/").get_data(as_text=True)
    assert "/disclosures/" in page and "/complaints/new" in page and "/officers" in page
    ledger_page = client.get("/ledger/").get_data(as_text=True)
    assert "verify_proof.py" in ledger_page and "它不能证明什么" in ledger_page
