"""The public pages against someone trying: forged posts, guessed codes, borrowed form tokens, headers
that lie about the client's address or the host (handlers/web/guard.py)."""
import base64

import pytest

import bot
from models import db
from models.complaints import Complaint
from models.seed import prepare_database
from tests.conftest import Visitor, make_config

FORM = {"category": "performance", "content": "某演出现场歌手全程假唱，观众要求退票被拒。",
        "location": "奈曼旗文化广场", "contact": "陈先生 13700003333", "form_token": "tok-guard"}


def complaints():
    with db.connection_context():
        return Complaint.select().count()


def test_a_form_posted_without_its_token_is_refused_and_writes_nothing(client):
    response = client.post("/complaints/new", data=FORM)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "页面已过期" in html and "Traceback" not in html
    assert complaints() == 0


def test_a_token_from_another_session_does_not_pass(app, visitor):
    token = visitor.csrf_token()
    stranger = app.test_client()
    assert stranger.post("/complaints/new", data={**FORM, "csrf_token": token}).status_code == 400
    assert complaints() == 0


def test_a_form_token_is_no_key_to_someone_elses_ticket(app, visitor):
    first = visitor.post("/complaints/new", data=FORM).get_data(as_text=True)
    with db.connection_context():
        complaint = Complaint.get()
    assert complaint.secret_code in first
    # The same visitor sending it again (a double tap) sees the same complaint ...
    assert complaint.secret_code in visitor.post("/complaints/new", data=FORM).get_data(as_text=True)
    # ... but the token re-posted from another address gets neither the ticket nor its code.
    elsewhere = Visitor(app.test_client())
    elsewhere.client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    response = elsewhere.post("/complaints/new", data=FORM)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "已经提交过" in html
    assert complaint.secret_code not in html and complaint.ticket not in html
    assert complaints() == 1


def test_headers_a_client_sends_do_not_change_its_address(visitor):
    """The daily limit counts by address; without trusted proxies, X-Real-IP / X-Forwarded-For are ignored."""
    for n in range(6):
        headers = {"X-Real-IP": f"198.51.100.{n}", "X-Forwarded-For": f"198.51.100.{n}"}
        last = visitor.post("/complaints/new", data={**FORM, "form_token": f"t{n}"}, headers=headers)
    assert last.status_code == 429 and complaints() == 5


def test_behind_a_trusted_proxy_its_forwarded_address_counts(database_url, fake_wechat):
    config = make_config(database_url)
    config["server"]["trusted_proxies"] = 1
    app = bot.create_app({"SANXIANG": config})
    prepare_database(app.config["SANXIANG"])
    visitor = Visitor(app.test_client())
    for n in range(6):
        response = visitor.post("/complaints/new", data={**FORM, "form_token": f"p{n}"},
                                headers={"X-Forwarded-For": f"198.51.100.{n}"})
        assert response.status_code == 200
    assert complaints() == 6


def test_wrong_query_codes_are_limited_per_client(app, visitor):
    visitor.post("/complaints/new", data=FORM)
    with db.connection_context():
        complaint = Complaint.get()
    for _ in range(10):
        assert visitor.post("/complaints/status", data={"ticket": complaint.ticket, "code": "AAAAAA"}).status_code == 404
    # The eleventh try waits, even with the right code ...
    blocked = visitor.post("/complaints/status", data={"ticket": complaint.ticket, "code": complaint.secret_code})
    assert blocked.status_code == 429 and "尝试次数过多" in blocked.get_data(as_text=True)
    # ... while another client is not held up by it.
    other = Visitor(app.test_client())
    other.client.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    right = other.post("/complaints/status", data={"ticket": complaint.ticket, "code": complaint.secret_code})
    assert right.status_code == 200


def test_right_codes_do_not_count(app, visitor):
    visitor.post("/complaints/new", data=FORM)
    with db.connection_context():
        complaint = Complaint.get()
    for _ in range(15):
        response = visitor.post("/complaints/status", data={"ticket": complaint.ticket, "code": complaint.secret_code})
        assert response.status_code == 200


def test_wrong_staff_passwords_are_limited(app, client):
    app.config["SANXIANG"]["badges"]["staff_token"] = "s3cret-staff"

    def attempt(password):
        auth = base64.b64encode(f"staff:{password}".encode()).decode()
        return client.get("/staff/badges", headers={"Authorization": f"Basic {auth}"}).status_code

    assert [attempt("guess") for _ in range(10)] == [401] * 10
    assert attempt("s3cret-staff") == 429


def test_wrong_open311_keys_are_limited(app, client):
    app.config["SANXIANG"]["complaints"]["open311"]["api_keys"] = ["k-real"]
    form = {"service_code": "performance", "description": "演出现场假唱，要求退票被拒。", "address_string": "文化广场"}
    codes = [client.post("/open311/v2/requests.json", data={**form, "api_key": f"k-{n}"}).status_code
             for n in range(11)]
    assert codes == [403] * 10 + [429]


@pytest.mark.parametrize("host", ["evil.example", "testserver.evil.example"])
def test_a_forged_host_is_refused_not_reflected(client, host):
    response = client.get("/ledger", headers={"Host": host})
    assert response.status_code == 400
    assert host.encode() not in response.data


def test_the_public_host_redirects_to_itself(client):
    response = client.get("/ledger", headers={"Host": "testserver"})
    assert response.status_code in (301, 308) and response.headers["Location"].endswith("/ledger/")


def test_without_secret_key_one_is_made_once_and_kept(tmp_path):
    from handlers.web.guard import secret_key

    config = {"server": {"secret_key": "", "secret_key_file": str(tmp_path / "keys" / "secret_key")}}
    first = secret_key(config)
    assert len(first) >= 40 and secret_key(config) == first  # every worker reads the same
    assert (tmp_path / "keys" / "secret_key").stat().st_mode & 0o077 == 0  # this user only
    assert secret_key({"server": {"secret_key": "from-the-environment"}}) == "from-the-environment"


def test_wrong_staff_passwords_on_the_review_report_count_too(app, client):
    app.config["SANXIANG"]["badges"]["staff_token"] = "s3cret-staff"
    auth = base64.b64encode(b"staff:guess").decode()
    codes = [client.get("/staff/reviews", headers={"Authorization": f"Basic {auth}"}).status_code for _ in range(11)]
    assert codes == [401] * 10 + [429]
