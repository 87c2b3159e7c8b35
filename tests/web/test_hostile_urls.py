"""Every public URL answers bad input with a 4xx, never a 500 (hypothesis): odd ids in paths, huge
numbers, non-ASCII keys and codes, repeated parameters, any Accept header, GET or POST."""
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bot
from werkzeug.datastructures import MultiDict
from models.seed import prepare_database
from tests.conftest import make_config

PATHS = ["/", "/subject", "/items", "/inspections", "/officers", "/flows", "/basis", "/review", "/discretion", "/remedy",
         "/text-size",
         "/complaints/new", "/complaints/status", "/open311/v2/services.json", "/open311/v2/requests.json",
         "/open311/v2/requests/{x}.json", "/ledger/", "/ledger/heads.txt", "/ledger/pubkey.pem",
         "/ledger/proof/{x}.json", "/ledger/consistency", "/v/{x}", "/v-photo/{x}", "/staff/badges", "/{x}",
         "/draws/", "/draws/{x}", "/draws/{x}/result.json", "/draws/1/{x}.json", "/draws/{x}/commitment-proof.json",
         "/disclosures/", "/disclosures/{x}", "/disclosures/index.json", "/disclosures/feed.atom", "/disclosures/stats",
         "/staff/disclosures/{x}", "/open311/v2/requests/{x}.xml", "/open311/v2/services/{x}.xml",
         "/open311/v2/services/{x}.json", "/open311/v2/tokens/{x}.json", "/open311/v2/discovery.{x}",
         "/open311/v2/requests.xml", "/ledger/checkpoint", "/ledger/vkey", "/ledger/verify_proof.py"]
KEYS = ["q", "page", "first", "second", "api_key", "status", "service_code", "start_date", "end_date", "lat",
        "long", "ticket", "code", "next", "large", "days", "officer", "category", "content", "form_token",
        "service_request_id", "description", "address_string", "email", "csrf_token", "from", "to", "party", "item",
        "size", "jurisdiction_id", "address_id", "media_url"]

weird = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-10**30, max_value=10**30).map(str),
    st.sampled_from(["", "0", "-1", "1e309", "NaN", "inf", "9" * 25, "../../etc/passwd", "%00", "　", "😀",
                     "TS2611290001", "2026-13-45", "http://evil.example/", "//evil.example", "<script>"]),
)


@st.composite
def requests_(draw):
    path = draw(st.sampled_from(PATHS)).replace("{x}", draw(weird).replace("/", "") or "x")
    params = draw(st.lists(st.tuples(st.sampled_from(KEYS), weird), max_size=6))
    method = draw(st.sampled_from(["GET", "POST"]))
    accept = draw(st.sampled_from(["text/html", "application/json", "*/*", "", "text/html;q=0, */*;q=x"]))
    return method, path, params, accept


@settings(max_examples=2_000, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(request=requests_())
def test_no_public_url_gives_a_server_error(hostile_app, request):
    method, path, params, accept = request
    client = hostile_app.test_client()
    headers = {"Accept": accept} if accept else {}
    if method == "GET":
        response = client.get(path, query_string=params, headers=headers)
    else:
        response = client.post(path, data=MultiDict(params), headers=headers)
    assert response.status_code < 500, (method, path, params, response.status_code)


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    from tests.fake_wechat import FakeWeChat

    fake = FakeWeChat().start()
    folder = tmp_path_factory.mktemp("hostile")
    config = make_config(f"sqlite:///{folder / 'h.db'}", api_base=fake.api_base)
    config["ledger"] = {"private_key_path": str(folder / "k.pem"), "feed_path": str(folder / "heads.txt")}
    config["evidence"] = {"store_path": str(folder / "records")}
    config["complaints"] = {"open311": {"api_keys": ["k-" + uuid.uuid4().hex]}}
    # Rate limits would turn the later examples into 429s and hide what they would have done.
    config["limits"] = {"wrong_guesses": "1000000 per minute"}
    app = bot.create_app({"SANXIANG": config, "TESTING": True})
    prepare_database(app.config["SANXIANG"], demo_cases=True)
    yield app
    fake.stop()


@pytest.mark.parametrize("method,path,params,status", [
    ("GET", "/ledger/proof/99999999999999999999.json", {}, 404),
    ("GET", "/ledger/consistency", {"first": "1", "second": str(10**30)}, 404),
    ("GET", "/draws/99999999999999999999", {}, 404),
    ("POST", "/open311/v2/requests.json", {"api_key": "钥匙", "service_code": "performance"}, 403),
    ("GET", "/open311/v2/requests.json", {"api_key": "钥匙"}, 200),
])
def test_what_once_gave_a_server_error(hostile_app, method, path, params, status):
    client = hostile_app.test_client()
    response = client.get(path, query_string=params) if method == "GET" else client.post(path, data=params)
    assert response.status_code == status


def test_a_non_ascii_query_code_is_simply_wrong(hostile_app):
    from tests.conftest import Visitor

    visitor = Visitor(hostile_app.test_client())
    response = visitor.post("/complaints/status", data={"ticket": "TS2611290001", "code": "查询码"})
    assert response.status_code == 404 and "查询码不对" in response.get_data(as_text=True)


def test_a_database_away_is_a_503_not_a_server_error(app, client, wechat_user, monkeypatch):
    """A restart of PostgreSQL, a locked or full disk: every channel says "come back soon"."""
    from peewee import OperationalError

    from models import db

    def away(*args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    if not db.is_closed():
        db.close()
    monkeypatch.setattr(db.obj, "connect", away)
    page = client.get("/items")
    assert page.status_code == 503 and "稍后再试" in page.get_data(as_text=True) and page.headers["Retry-After"]
    assert wechat_user.post(b"<xml/>").status_code == 503
