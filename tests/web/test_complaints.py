"""投诉举报 on the web: the phone form, the status lookup, and the Open311 GeoReport v2 API."""
import hashlib
import io
import re

import pytest

from models import db
from models.complaints import (Complaint, Evidence)
from models.staff import Staff
from models.disclosure import Officer

PNG = b"\x89PNG\r\n\x1a\n" + b"photo of a ticket stub" * 20
API_KEY = "k-12345-platform"


@pytest.fixture
def web(app, tmp_path, visitor):
    app.config["SANXIANG"]["complaints"]["evidence_dir"] = str(tmp_path / "evidence")
    app.config["SANXIANG"]["complaints"]["open311"]["api_keys"] = [API_KEY]
    return visitor


def form_data(**overrides):
    data = {"category": "performance", "content": "某演出现场歌手全程假唱，观众要求退票被拒。",
            "location": "奈曼旗文化广场", "contact": "陈先生 13700003333", "form_token": "tok-1"}
    data.update(overrides)
    return data


def only_complaint():
    with db.connection_context():
        [complaint] = list(Complaint.select())
        return complaint


def test_form_files_a_complaint_with_a_photo(web, tmp_path):
    page = web.get("/complaints/new").get_data(as_text=True)
    assert "在线投诉举报" in page and "可以匿名投诉" in page and 'name="form_token"' in page
    data = form_data(evidence=(io.BytesIO(PNG), "stub.png", "image/png"))
    response = web.post("/complaints/new", data=data, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "投诉编号" in html and "查询码" in html
    complaint = only_complaint()
    assert complaint.ticket in html and complaint.secret_code in html
    assert (complaint.source, complaint.category, complaint.openid) == ("web", "演出", None)
    with db.connection_context():
        [evidence] = list(Evidence.select())
    digest = hashlib.sha256(PNG).hexdigest()
    assert evidence.complaint_id == complaint.id and evidence.sha256 == digest
    assert (tmp_path / "evidence" / digest[:2] / digest).read_bytes() == PNG


def test_resubmitting_the_same_form_stores_nothing_twice(web):
    first = web.post("/complaints/new", data=form_data()).get_data(as_text=True)
    again = web.post("/complaints/new", data=form_data()).get_data(as_text=True)
    ticket = only_complaint().ticket
    assert ticket in first and ticket in again


def test_form_errors_keep_what_was_typed(web):
    response = web.post("/complaints/new", data=form_data(content="太吵"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "至少5个字" in html and "陈先生 13700003333" in html
    response = web.post("/complaints/new", data=form_data(category="nonsense"))
    assert response.status_code == 400 and "请选择投诉类别" in response.get_data(as_text=True)


def test_officer_preselected_from_the_badge_link(web):
    html = web.get("/complaints/new?officer=15052501003").get_data(as_text=True)
    assert re.search(r'<option value="15052501003" selected>', html)
    assert re.search(r'<option value="officer" selected>', html)
    web.post("/complaints/new", data=form_data(category="officer", officer="15052501003",
                                                content="执法检查时没有出示执法证。"))
    assert only_complaint().officer.cert_no == "15052501003"


def test_web_daily_limit(web):
    for i in range(5):
        assert web.post("/complaints/new", data=form_data(form_token=f"t{i}")).status_code == 200
    response = web.post("/complaints/new", data=form_data(form_token="t6"))
    assert response.status_code == 429 and "12318" in response.get_data(as_text=True)
    with db.connection_context():
        assert Complaint.select().count() == 5


def test_status_needs_the_secret_code_and_never_shows_the_contact(web):
    web.post("/complaints/new", data=form_data())
    complaint = only_complaint()
    assert web.get("/complaints/status").status_code == 200
    wrong = web.post("/complaints/status", data={"ticket": complaint.ticket, "code": "AAAAAA"})
    assert wrong.status_code == 404 and "查询码不对" in wrong.get_data(as_text=True)
    right = web.post("/complaints/status", data={"ticket": complaint.ticket.lower(), "code": complaint.secret_code})
    html = right.get_data(as_text=True)
    assert right.status_code == 200 and "待受理" in html and "提交" in html
    assert "13700003333" not in html and "陈先生" not in html


def test_open311_services(web):
    services = web.get("/open311/v2/services.json").get_json()
    assert {"service_code": "netbar", "service_name": "网吧"}.items() <= services[0].items()
    assert {s["service_code"] for s in services} >= {"officer", "travel_agency", "other"}


def test_open311_post_needs_a_key_and_a_location(web):
    base = {"service_code": "travel_agency", "description": "旅行社以不合理低价组织旅游，强迫游客购物。",
            "address_string": "大沁他拉镇某旅行社", "first_name": "秀英", "last_name": "刘", "phone": "13500004444"}
    assert web.post("/open311/v2/requests.json", data=base).status_code == 403
    assert web.post("/open311/v2/requests.json", data={**base, "api_key": "guess"}).status_code == 403
    missing = web.post("/open311/v2/requests.json", data={**base, "api_key": API_KEY, "address_string": ""})
    assert missing.status_code == 400 and missing.get_json()[0]["code"] == 400
    response = web.post("/open311/v2/requests.json", data={**base, "api_key": API_KEY},
                        headers={"Idempotency-Key": "12345-0001"})
    assert response.status_code == 201
    [created] = response.get_json()
    again = web.post("/open311/v2/requests.json", data={**base, "api_key": API_KEY},
                     headers={"Idempotency-Key": "12345-0001"}).get_json()[0]
    assert created["service_request_id"] == again["service_request_id"] == only_complaint().ticket
    assert only_complaint().contact == "刘 秀英 13500004444"


def test_open311_reading_hides_identity(web):
    web.post("/open311/v2/requests.json", data={
        "api_key": API_KEY, "service_code": "netbar", "description": "网吧接纳未成年人，晚上十点后还有学生。",
        "lat": "42.85", "long": "120.66", "first_name": "敏", "last_name": "周", "email": "zm@example.com"})
    ticket = only_complaint().ticket
    public = web.get(f"/open311/v2/requests/{ticket}.json")
    [item] = public.get_json()
    assert public.status_code == 200 and item["status"] == "open" and item["status_notes"] == "待受理"
    assert item["service_code"] == "netbar" and item["expected_datetime"].endswith("+08:00")
    text = public.get_data(as_text=True)
    for secret in ("zm@example.com", "周", "description", only_complaint().secret_code, "wx:", "open311:"):
        assert secret not in text
    [trusted] = web.get(f"/open311/v2/requests/{ticket}.json?api_key={API_KEY}").get_json()
    assert "未成年人" in trusted["description"] and trusted["lat"] == 42.85
    assert "zm@example.com" not in str(trusted)
    listed = web.get("/open311/v2/requests.json?status=open").get_json()
    assert [r["service_request_id"] for r in listed] == [ticket]
    assert web.get("/open311/v2/requests.json?status=closed").get_json() == []
    assert web.get("/open311/v2/requests/TS0000000000.json").status_code == 404


def test_public_pages_never_show_complainants(web, client):
    web.post("/complaints/new", data=form_data(contact="吕某某 13911112222"))
    for path in ("/", "/remedy", "/officers", "/complaints/new", "/complaints/status",
                 "/open311/v2/requests.json"):
        response = client.get(path)
        assert "13911112222" not in response.get_data(as_text=True), path
    with db.connection_context():
        assert Staff.select().count() == 0 and Officer.select().count() > 0
