"""Open311 GeoReport v2, all of it (issue 16): both formats, discovery, service definitions, tokens, the
404/400 rules, address_id, media_url, jurisdiction_id, charset — driven by a third-party client library
(georeport, on PyPI) and by the examples of wiki.open311.org/GeoReport_v2."""
import json
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import pytest

from models import db
from models.complaints import REJECTED, Complaint

API_KEY = "k-open311-app"
BASE = "/open311/v2"


@pytest.fixture
def web(app, client):
    app.config["SANXIANG"]["complaints"]["open311"]["api_keys"] = [API_KEY]
    return client


def post(web, fmt="json", **fields):
    data = {"api_key": API_KEY, "service_code": "netbar", "description": "网吧接纳未成年人，晚上十点后还有学生。",
            "address_string": "大沁他拉镇某网吧", **fields}
    return web.post(f"{BASE}/requests.{fmt}", data=data)


def xml(response):
    assert response.content_type == "text/xml; charset=utf-8"
    assert response.data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.data)


class FlaskRequests:
    """`requests` as georeport calls it, answered by the Flask test client (no network)."""

    def __init__(self, client):
        self.client = client

    def get(self, url, params=None):
        response = self.client.get(urlsplit(url).path, query_string=params or {})

        class Answer:
            status_code = response.status_code
            content = response.data

            def json(self):
                return json.loads(response.data)

            def raise_for_status(self):
                if response.status_code >= 400:
                    raise RuntimeError(response.status_code)

        return Answer()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_third_party_client_reads_everything_in_both_formats(web, monkeypatch, fmt):
    georeport = pytest.importorskip("georeport")  # `pip install --no-deps georeport==0.3.1` (see README)
    monkeypatch.setattr(georeport.georeport, "requests", FlaskRequests(web))
    created = post(web, media_url="https://example.org/photo.jpg").get_json()[0]["service_request_id"]
    api = georeport.GeoReport("http://localhost/open311/v2", jurisdiction="naiman.tongliao.nm.cn", output_format=fmt)
    services = api.get_service_list()
    assert {"service_code": "netbar", "service_name": "网吧", "type": "realtime"}.items() <= services[0].items()
    assert api.get_service_definition("netbar")["service_code"] == "netbar"
    requests = api.get_service_requests(status="open")
    one = requests if isinstance(requests, dict) else requests[0]  # xmltodict gives a dict for a single element
    assert one["service_request_id"] == created and one["status"] == "open"
    assert api.get_service_request(created)["service_name"] == "网吧"
    with pytest.raises(RuntimeError, match="404"):
        api.get_service_definition("nothing")
    with pytest.raises(RuntimeError, match="400"):
        api.get_service_requests(start_date="2026-01-01T00:00:00Z", end_date="2026-06-01T00:00:00Z")


def test_discovery_services_and_definitions_in_xml_and_json(web):
    discovery = web.get(f"{BASE}/discovery.json").get_json()
    [endpoint] = discovery["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["formats"] == ["json", "xml"] and endpoint["url"].endswith("/open311/v2")
    root = xml(web.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery" and [f.text for f in root.find("endpoints/endpoint/formats")] == ["json", "xml"]
    services = xml(web.get(f"{BASE}/services.xml"))
    assert services.tag == "services" and services[0].tag == "service"
    assert services[0].findtext("service_code") == "netbar" and services[0].findtext("metadata") == "false"
    definition = xml(web.get(f"{BASE}/services/netbar.xml"))
    assert definition.tag == "service_definition" and definition.findtext("service_code") == "netbar"
    assert web.get(f"{BASE}/services/netbar.json").get_json() == {"service_code": "netbar", "attributes": []}
    # Chinese as is, declared UTF-8.
    response = web.get(f"{BASE}/services.json")
    assert response.content_type == "application/json; charset=utf-8"
    assert "网吧".encode() in response.data and b"\\u" not in response.data
    assert "网吧".encode() in web.get(f"{BASE}/services.xml").data


@pytest.mark.parametrize("path", ["/services/nothing.json", "/services/nothing.xml", "/requests/TS0000000000.xml",
                                  "/requests/TS0000000000.json", "/tokens/abc.json", "/tokens/abc.xml",
                                  "/services.json?jurisdiction_id=elsewhere.example", "/services.txt",
                                  "/requests.xml?jurisdiction_id=x"])
def test_unknown_things_are_404_in_the_asked_format(web, path):
    response = web.get(BASE + path)
    assert response.status_code == 404
    if ".xml" in path:
        root = xml(response)
        assert root.tag == "errors" and root.findtext("error/code") == "404"
    else:
        assert response.get_json()[0]["code"] == 404


@pytest.mark.parametrize("query", ["start_date=yesterday", "end_date=2026-13-01T00:00:00Z",
                                   "start_date=2026-01-01T00:00:00Z&end_date=2026-04-02T00:00:01Z",
                                   "start_date=2026-05-01T00:00:00Z&end_date=2026-04-01T00:00:00Z",
                                   "status=pending", "status=open,unknown", "service_code=potholes",
                                   "service_code=netbar,potholes"])
def test_invalid_filters_are_400(web, query):
    response = web.get(f"{BASE}/requests.json?{query}")
    assert response.status_code == 400 and response.get_json()[0]["code"] == 400
    assert web.get(f"{BASE}/requests.xml?{query}").status_code == 400


def test_the_specs_example_filters_are_accepted(web):
    """GeoReport v2's own examples: w3c date-times with Z, a 90-day span exactly, comma lists."""
    ok = ["start_date=2010-01-01T00:00:00Z&end_date=2010-04-01T00:00:00Z", "status=open,closed",
          "service_code=netbar,guide", "service_request_id=TS0000000001,TS0000000002"]
    for query in ok:
        response = web.get(f"{BASE}/requests.json?{query}")
        assert response.status_code == 200, query
        assert response.get_json() == []
    assert xml(web.get(f"{BASE}/requests.xml")).tag == "service_requests"


def test_posting_tokens_address_id_media_url_and_4000_characters(web):
    created = post(web, description="超" * 4000, address_string="", address_id="nm-150525-0001",
                   media_url="https://example.org/p.jpg", lat="", long="")
    assert created.status_code == 201, created.get_data(as_text=True)
    [answer] = created.get_json()
    ticket, token = answer["service_request_id"], answer["token"]
    assert web.get(f"{BASE}/tokens/{token}.json").get_json() == [{"service_request_id": ticket, "token": token}]
    assert xml(web.get(f"{BASE}/tokens/{token}.xml")).findtext("request/service_request_id") == ticket
    [trusted] = web.get(f"{BASE}/requests/{ticket}.json?api_key={API_KEY}").get_json()
    assert trusted["media_url"] == "https://example.org/p.jpg" and trusted["address_id"] == "nm-150525-0001"
    assert "example.org" not in trusted["description"] and len(trusted["description"]) == 4000
    assert post(web, description="超" * 4001).status_code == 400
    assert post(web, media_url="javascript:alert(1)").status_code == 400
    assert post(web, service_code="").status_code == 400
    assert post(web, service_code="potholes").status_code == 404
    assert post(web, address_string="").status_code == 400
    assert post(web, lat="91", long="120", address_string="").status_code == 400
    assert post(web, jurisdiction_id="elsewhere").status_code == 404
    refused = post(web, fmt="xml", api_key="wrong")
    assert refused.status_code == 403 and xml(refused).findtext("error/code") == "403"
    created_xml = post(web, fmt="xml")
    assert created_xml.status_code == 201 and xml(created_xml).findtext("request/token")


def test_without_a_key_reasons_are_masked_and_nothing_personal_shows(web):
    ticket = post(web, media_url="https://example.org/p.jpg", first_name="敏", last_name="周",
                  phone="13912345678").get_json()[0]["service_request_id"]
    with db.connection_context():
        Complaint.update(status=REJECTED, status_reason="投诉人周敏（电话13912345678）反映的证人李四所述与事实不符。").where(
            Complaint.ticket == ticket).execute()
    for fmt in ("json", "xml"):
        public = web.get(f"{BASE}/requests/{ticket}.{fmt}").get_data(as_text=True)
        for secret in ("13912345678", "李四", "example.org", "description", "大沁他拉镇某网吧"):
            assert secret not in public, (fmt, secret)
        assert "不予受理" in public and "李某某" in public
    listed = web.get(f"{BASE}/requests.json?status=closed").get_data(as_text=True)
    assert ticket in listed and "13912345678" not in listed
    [trusted] = web.get(f"{BASE}/requests/{ticket}.json?api_key={API_KEY}").get_json()
    assert "13912345678" in trusted["status_notes"] and trusted["media_url"] == "https://example.org/p.jpg"
