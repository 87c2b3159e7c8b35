"""The public disclosure pages: what the chat links to, readable on a phone in WeChat's browser."""
import html
import re
from urllib.parse import urlsplit

import pytest

from models import Bureau, EnforcementItem, FlowStep, InspectionItem, Officer, db

PAGES = ["/", "/subject", "/items", "/inspections", "/officers", "/flows", "/remedy"]
PHONE_WIDTH = 390


@pytest.fixture
def data(app):
    """The seeded rows, read straight from the models the pages are built on."""
    with db.connection_context():
        return {
            "bureau": Bureau.current(),
            "items": EnforcementItem.search(""),
            "officers": Officer.search(""),
            "inspections": InspectionItem.published(),
            "flows": [(c, FlowStep.flow(c)) for c in FlowStep.categories()],
        }


def text_of(response):
    """The page as a person reads it: tags dropped, entities decoded, whitespace collapsed."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"</?(mark|b)>", "", body)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def get_ok(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.mimetype == "text/html"
    return response


# ---- through the Flask client ---------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_every_page_names_the_bureau_and_leads_home(client, data, path):
    response = get_ok(client, path)
    body = response.get_data(as_text=True)
    assert "<title>" in body and data["bureau"].name in body.split("</title>")[0]
    assert "行政执法“三项制度”公示" in text_of(response)
    assert 'lang="zh-CN"' in body and 'name="viewport"' in body


def test_index_links_to_every_page_and_searches_items(client, data):
    response = get_ok(client, "/")
    body = response.get_data(as_text=True)
    for path in PAGES[1:]:
        assert f'href="{path}"' in body, path
    assert 'href="/remedy#complaint"' in body
    assert re.search(r'<form class="search" action="/items" method="get"', body)
    assert 'name="q"' in body
    text = text_of(response)
    for label in ("执法主体", "执法人员", "行政执法事项清单", "随机抽查事项清单", "执法流程", "救济渠道", "投诉举报方式"):
        assert label in text
    assert data["bureau"].name in text


def test_subject_shows_the_bureau(client, data):
    text = text_of(get_ok(client, "/subject"))
    bureau = data["bureau"]
    for value in (bureau.name, bureau.address, bureau.hours, bureau.phone, bureau.supervisor):
        assert value in text
    for value in (bureau.legal_basis, bureau.duties, bureau.powers):
        assert " ".join(value.split()) in text
    assert 'href="tel:12345"' in get_ok(client, "/subject").get_data(as_text=True)


def all_pages(client, path):
    """The text of every page of a paginated list, following its 下一页 links."""
    texts, page = [], 1
    while True:
        text = text_of(get_ok(client, f"{path}{'&' if '?' in path else '?'}page={page}"))
        texts.append(text)
        if "下一页" not in text:
            return " ".join(texts)
        page += 1
        assert page < 50


def test_items_lists_the_whole_catalogue(client, data):
    text = all_pages(client, "/items")
    assert f"共 {len(data['items'])} 项" in text and "第 1 / " in text
    for item in data["items"]:
        for value in (item.name, item.category, item.basis, item.acting_body, item.responsible_body, item.penalty):
            assert value in text, (item.code, value)


def test_items_search_filters(client, data):
    text = text_of(get_ok(client, "/items?q=网吧"))
    expected = [i for i in data["items"] if i in EnforcementItem.search("网吧")]
    assert expected and f"与“网吧”有关的事项共 {len(expected)} 项" in text
    assert "互联网上网服务营业场所接纳未成年人进入" in text
    assert "以不合理的低价组织旅游活动" not in text
    # Every term must match: a narrower search finds fewer items.
    narrow = text_of(get_ok(client, "/items?q=网吧+身份证"))
    assert "共 1 项" in narrow and "核对、登记上网消费者的有效身份证件" in narrow and "接纳未成年人" not in narrow


def test_items_search_marks_the_matching_words(client):
    body = get_ok(client, "/items?q=假唱").get_data(as_text=True)
    assert "以<mark>假唱</mark>欺骗观众" in body


def test_items_category_filter(client, data):
    text = text_of(get_ok(client, "/items?category=行政许可"))
    licences = [i for i in data["items"] if i.category == "行政许可"]
    assert f"行政许可事项共 {len(licences)} 项" in text
    assert all(i.name in text for i in licences)
    assert "未经许可经营旅行社业务" not in text
    both = text_of(get_ok(client, "/items?q=网吧&category=行政检查"))
    assert "共 1 项" in both and "对互联网上网服务营业场所经营活动的监督检查" in both
    # A category that does not exist is ignored rather than hiding everything.
    assert f"共 {len(data['items'])} 项" in text_of(get_ok(client, "/items?category=不存在"))


def test_items_empty_result_suggests_other_words(client):
    response = get_ok(client, "/items?q=火星探测")
    text = text_of(response)
    assert "没有找到与“火星探测”有关的执法事项" in text
    assert "请换个关键词试试" in text and "网吧" in text and "查看全部执法事项" in text
    assert 'href="/items?q=%E6%BC%94%E5%87%BA"' in response.get_data(as_text=True)


ODD_QUERIES = [
    "长" * 5000,
    "a" * 3000,
    "%", "_", "%_%", "\\", "'", '"', "' OR 1=1 --", "\x00", "网\x00吧", "\u202e网吧", "\ufeff",
    "😀", "<script>alert(1)</script>", "{{ 7*7 }}", "　网吧　",
]


@pytest.mark.parametrize("path", ["/items", "/officers"])
@pytest.mark.parametrize("query", ODD_QUERIES, ids=lambda q: repr(q[:12]))
def test_odd_queries_give_a_normal_page(client, path, query):
    response = client.get(path, query_string={"q": query, "category": query})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<script>alert" not in body
    assert "{{ 7*7 }}" not in query or "{{ 7*7 }}" in text_of(response)
    assert len(body) < 40000


def test_query_is_cut_and_cleaned(client):
    text = text_of(get_ok(client, "/items?q=" + "长" * 500))
    assert "长" * 40 in text and "长" * 41 not in text
    for invisible in ("%00", "%E2%80%8B", "%E2%80%AE"):  # NUL, zero-width space, right-to-left mark
        assert "与“网吧”有关" in text_of(get_ok(client, f"/items?q=%E7%BD%91{invisible}%E5%90%A7"))
    assert "接纳未成年人进入" in text_of(get_ok(client, "/items?q=%E3%80%80%E7%BD%91%E5%90%A7%E3%80%80"))


@pytest.mark.parametrize("path", ["/items", "/officers"])
@pytest.mark.parametrize("raw", ["%FF%FE%00%25", "%ED%A0%80", "%C0", "%", "%%%", "&&q=", "q=1&q=2"])
def test_raw_bad_bytes_in_query_string(client, path, raw):
    """Invalid UTF-8, a lone surrogate, broken escapes: still a normal page."""
    response = client.get(f"{path}?q={raw}&category={raw}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "行政执法“三项制度”公示" in text_of(response)  # the normal page, not an error text


def test_inspections_show_every_field(client, data):
    text = text_of(get_ok(client, "/inspections"))
    for item in data["inspections"]:
        for value in (item.name, item.subject, item.basis, item.target, item.content, item.ratio, item.method,
                      item.frequency):
            assert value in text, (item.name, value)
    assert text.index("娱乐场所经营活动检查") < text.index("旅行社经营活动检查")


def test_officers_show_what_the_law_publishes(client, data):
    text = text_of(get_ok(client, "/officers"))
    assert f"共 {len(data['officers'])} 人" in text
    for officer in data["officers"]:
        block = text[text.index(officer.name):]
        assert block.index(officer.verdict()) < block.index(officer.cert_no)
        for value in (officer.cert_no, officer.fields, officer.issuer, f"{officer.valid_from:%Y.%m.%d}",
                      f"{officer.valid_to:%Y.%m.%d}"):
            assert value in block
    assert "已暂扣" in text and "已注销" in text and "此证件目前不能用于执法" in text
    # Why a certificate was suspended is internal; the public sees only the verdict.
    for officer in data["officers"]:
        if officer.status_reason:
            assert officer.status_reason not in text


def test_officers_search(client, data):
    by_name = text_of(get_ok(client, "/officers?q=赵志强"))
    assert "共 1 人" in by_name and "15052501006" in by_name and "已暂扣" in by_name and "包海龙" not in by_name
    by_number = text_of(get_ok(client, "/officers?q=15052501003"))
    assert "白斯琴" in by_number and "共 1 人" in by_number
    none = text_of(get_ok(client, "/officers?q=不存在的人"))
    assert "没有找到姓名或证号包含“不存在的人”的执法人员" in none and "12345" in none


def test_flows_are_numbered_steps_per_category(client, data):
    response = get_ok(client, "/flows")
    body, text = response.get_data(as_text=True), text_of(response)
    assert body.count('<ol class="steps">') == len(data["flows"])
    for category, steps in data["flows"]:
        match = re.search(r'<h2 class="section" id="flow-\d+">' + re.escape(category) + r'</h2>\s*<ol class="steps">(.*?)</ol>',
                          body, re.S)  # each procedure is a heading of its own
        assert match, category
        titles = re.findall(r"<li><b>(.*?)</b>", match.group(1))
        assert titles == [step.title for step in steps]
        assert all(step.detail in text for step in steps)
    assert "奈曼旗司法局" in text and 'href="/remedy"' in body


def test_remedy_and_complaint_channels(app, client):
    response = get_ok(client, "/remedy")
    body, text = response.get_data(as_text=True), text_of(response)
    config = app.config["SANXIANG"]
    for remedy in config["remedy"]:
        for key in ("name", "where", "limit", "source"):
            assert remedy[key] in text
    for channel in config["complaint_channels"]:
        assert channel["name"] in text and str(channel["detail"]) in text
    assert 'id="complaint"' in body and 'href="tel:12318"' in body
    assert "60日内" in text and "6个月内" in text and "可以匿名" in text


def follow_to_link(wechat_user, text):
    """Ask the bot, turn the pages, and return the path of the 完整内容 link at the end."""
    reply = wechat_user.say(text)
    for _ in range(20):
        match = re.search(r"完整内容：(\S+)", reply)
        if match:
            url = urlsplit(match.group(1))
            return url.path + (f"?{url.query}" if url.query else "")
        reply = wechat_user.say("下一页")
    raise AssertionError(f"no link in the answer to {text!r}")


@pytest.mark.parametrize("question, expected", [
    ("执法主体", "法定依据"),
    ("执法人员 包海龙", "15052501001"),
    ("执法人员", "孟根其其格"),
    ("网吧", "互联网上网服务营业场所接纳未成年人进入"),
    ("执法事项", "营业性演出审批"),
    ("抽查事项", "随机抽查事项清单"),
    ("流程", "行政处罚（一般程序）"),
    ("救济", "行政复议"),
    ("投诉方式", "12318"),
])
def test_links_in_chat_replies_open_the_same_data(wechat_user, client, question, expected):
    path = follow_to_link(wechat_user, question)
    assert expected in all_pages(client, path)


def test_unknown_page_is_a_chinese_404(client, data):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    text = text_of(response)
    assert "页面不存在" in text and "返回公示首页" in text and data["bureau"].name in text
    assert 'href="/"' in response.get_data(as_text=True)


def test_api_clients_keep_a_plain_404(client):
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert response.status_code == 404 and "页面不存在" not in response.get_data(as_text=True)


# ---- in a real phone-sized Chromium against gunicorn ----------------------------------------


def scroll_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


def test_phone_reads_the_index_and_follows_links(phone, live_server):
    base = live_server["url"]
    phone.goto(base + "/")
    assert phone.locator("h1").inner_text() == "奈曼旗文化和旅游局"
    assert phone.get_by_text("欢迎查询和监督").is_visible()
    assert scroll_width(phone) <= PHONE_WIDTH

    for label, path, heading in [("执法主体", "/subject", "执法主体"), ("执法人员", "/officers", "执法人员"),
                                 ("随机抽查事项清单", "/inspections", "随机抽查事项清单"),
                                 ("执法流程", "/flows", "执法流程"), ("救济渠道", "/remedy", "救济渠道和投诉举报")]:
        phone.locator("a.cell", has=phone.get_by_role("heading", name=label, exact=True)).click()
        phone.wait_for_url(base + path)
        assert phone.locator("h1").inner_text() == heading
        assert scroll_width(phone) <= PHONE_WIDTH, path
        phone.get_by_role("link", name="公示首页", exact=True).click()  # the arrow is hidden from its name
        phone.wait_for_url(base + "/")


def test_phone_searches_items(phone, live_server):
    base = live_server["url"]
    phone.goto(base + "/")
    phone.get_by_role("searchbox", name="搜索执法事项").fill("网吧")
    phone.get_by_role("button", name="搜索").click()
    phone.wait_for_url(re.compile(r"/items\?q="))
    assert phone.get_by_text("互联网上网服务营业场所接纳未成年人进入").is_visible()
    assert phone.get_by_text("未经许可经营旅行社业务").count() == 0
    assert re.search(r"与“网吧”有关的事项共 \d+ 项", phone.locator("p.summary").inner_text())
    assert scroll_width(phone) <= PHONE_WIDTH
    phone.screenshot(path="/tmp/sanxiang-items-wangba.png", full_page=False)

    phone.get_by_role("link", name="行政检查", exact=True).click()
    phone.wait_for_url(re.compile(r"category="))
    assert phone.get_by_text("对互联网上网服务营业场所经营活动的监督检查").is_visible()
    assert phone.locator(".cell.item").count() == 1

    phone.get_by_role("searchbox").fill("火星探测")
    phone.get_by_role("button", name="搜索").click()
    phone.wait_for_url(re.compile(r"q=%E7%81%AB"))
    assert phone.get_by_text("请换个关键词试试").is_visible()

    # 网吧 finds items by their keywords, so nothing above is marked; a word of the items' own text is.
    phone.goto(base + "/items?q=假唱")
    mark = phone.locator("mark").first
    assert mark.is_visible() and mark.inner_text() == "假唱"


@pytest.mark.parametrize("path", PAGES + ["/items?q=" + "x" * 300, "/officers?q=" + "%E9%95%BF" * 300,
                                          "/items?q=网吧", "/no-such-page"])
def test_phone_nothing_overflows(phone, live_server, path):
    response = phone.goto(live_server["url"] + path)
    assert response.status in (200, 404)
    assert scroll_width(phone) <= PHONE_WIDTH, path
    assert phone.locator("footer").is_visible()


def test_index_links_the_signed_tree_heads(client):
    """The case file's signed heads are published from the disclosure index (全过程记录)."""
    body = client.get("/").get_data(as_text=True)
    assert 'href="/ledger/"' in body and "签名树头" in body
    assert client.get("/ledger/").status_code == 200
