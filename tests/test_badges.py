"""亮证: badge tokens fail closed, badge cards carry the exact URL, chat and WeChat scans give the verdict,
staff manage officers from the command line and Excel."""
import base64
import datetime as dt
import random

import pytest
import zxingcpp
from click.testing import CliRunner
from openpyxl import Workbook
from PIL import Image

import bot
from models.badge_card import FontMissing, render_card, write_badge
from models import BadgeScan, Officer, OfficerStatusChange, WeChatBadgeQR
from models.badges import BadgeError, badge_url, officer_for_token, rotate_badge, set_status, token_for
from models.catalogue import ImportRefused
from models.officers import import_officers, read_officer_rows, write_officers

NOW = dt.datetime(2026, 11, 27, 10, 0)  # seeded data: 004 expired 2026-08-31, 006 暂扣, 007 注销
SECRET = "test-badge-secret-0123456789abcdef"
NAMES = ["包海龙", "王雅琴", "白斯琴", "李建国", "孟根其其格", "赵志强", "刘晓东", "敖登高娃"]


@pytest.fixture(autouse=True)
def badge_env(monkeypatch, tmp_path):
    monkeypatch.setenv("BADGE_SECRET", SECRET)
    monkeypatch.delenv("STAFF_TOKEN", raising=False)
    monkeypatch.delenv("BADGE_FONT", raising=False)
    monkeypatch.setenv("BADGE_PHOTO_DIR", str(tmp_path / "photos"))


@pytest.fixture
def fixed_app(app, tmp_path):
    app.config["CLOCK"] = NOW.timestamp
    return app


@pytest.fixture
def config(fixed_app):
    return fixed_app.config["SANXIANG"]


def officer(cert_no):
    return Officer.get(Officer.cert_no == cert_no)


def verdict_of(response):
    html = response.get_data(as_text=True)
    start = html.index('id="verdict">') + len('id="verdict">')
    return html[start:html.index("<", start)].strip(), html


# -- tokens -------------------------------------------------------------------------------------------------

def test_token_round_trip_reveals_nothing(client, config):
    token = token_for(officer("15052501001"), config)
    assert len(token) == 44 and "15052501001" not in token
    assert token_for(officer("15052501001"), config) == token  # the printed badge stays valid
    assert officer_for_token(token, config).cert_no == "15052501001"
    assert token_for(officer("15052501002"), config) != token


def test_rotation_voids_printed_badges(client, config):
    old = token_for(officer("15052501001"), config)
    rotate_badge(officer("15052501001"))
    new = token_for(officer("15052501001"), config)
    assert new != old
    assert officer_for_token(old, config) is None
    assert officer_for_token(new, config).cert_no == "15052501001"


def test_other_key_version_or_secret_is_refused(client, config, monkeypatch):
    token = token_for(officer("15052501001"), config)
    newer = {**config, "badges": {**config["badges"], "key_version": 2}}
    assert officer_for_token(token, newer) is None  # raising the version voids old badges
    assert officer_for_token(token_for(officer("15052501001"), newer), newer) is not None
    assert officer_for_token(token_for(officer("15052501001"), newer), config) is None
    other = {**config, "badges": {**config["badges"], "secret": "another-secret"}}
    assert officer_for_token(token, other) is None


def mutations(token, config, rng):
    """A few hundred wrong tokens: every bit flipped, every truncation, extensions, other keys, noise."""
    raw = base64.urlsafe_b64decode(token)
    for bit in range(len(raw) * 8):
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 1 << (bit % 8)
        yield base64.urlsafe_b64encode(bytes(flipped)).decode()
    for length in range(1, len(token)):
        yield token[:length]
    yield from (token + "A", token + "==", token[1:] + "A", token.upper(), token[::-1], token + "/x",
                token[:20] + "%2F" + token[23:], token[:10] + "é" + token[11:], "../" + token, " " + token)
    for version in (0, 2, 255):
        yield base64.urlsafe_b64encode(bytes([version]) + raw[1:]).decode()
    for _ in range(40):
        yield base64.urlsafe_b64encode(rng.randbytes(33)).decode()
        yield "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
                      for _ in range(44))


def test_mutated_tokens_fail_closed(client, config):
    token = token_for(officer("15052501001"), config)
    for other in ("15052501002", "15052501006"):
        token_for(officer(other), config)
    tried = invalid_page = 0
    for bad in mutations(token, config, random.Random(3)):
        assert bad != token
        response = client.get("/v/" + bad)
        assert response.status_code == 404, (bad, response.status_code)
        html = response.get_data(as_text=True)
        assert not any(name in html for name in NAMES), bad
        assert "1505250100" not in html
        tried += 1
        invalid_page += "无效二维码" in html
    assert tried >= 350 and invalid_page >= tried - 2  # "../x" may be routed elsewhere: still a 404
    assert BadgeScan.select().count() == 0


# -- the page through Flask ---------------------------------------------------------------------------------

@pytest.mark.parametrize("cert_no, words, status", [
    ("15052501001", "有效执法证件", 200), ("15052501006", "已暂扣", 200),
    ("15052501007", "已注销", 200), ("15052501004", "已过期", 200)])
def test_page_verdicts(client, config, cert_no, words, status):
    response = client.get("/v/" + token_for(officer(cert_no), config))
    assert response.status_code == status
    shown, html = verdict_of(response)
    assert shown == words
    assert cert_no in html and officer(cert_no).name in html and 'href="tel:12345"' in html
    assert response.headers["Cache-Control"] == "no-store"
    assert f'href="/complaints/new?officer={cert_no}"' in html  # complain about this officer
    assert "15052501002" not in html


def test_status_change_shows_on_next_scan_and_is_counted(client, config):
    url = "/v/" + token_for(officer("15052501002"), config)
    assert verdict_of(client.get(url))[0] == "有效执法证件"
    set_status(officer("15052501002"), "暂扣", "涉嫌违纪，调查期间暂扣", "局长办公会", dt.date(2026, 11, 27))
    assert verdict_of(client.get(url))[0] == "已暂扣"
    (change,) = OfficerStatusChange.history(officer("15052501002"))
    assert (change.from_status, change.to_status, change.changed_by) == ("有效", "暂扣", "局长办公会")
    (scan,) = BadgeScan.select()
    assert (scan.day, scan.channel, scan.scans) == (NOW.date(), "page", 2)


def test_status_change_rules(client, config):
    with pytest.raises(BadgeError, match="原因"):
        set_status(officer("15052501001"), "注销", "  ", "张三")
    with pytest.raises(BadgeError, match="已是"):
        set_status(officer("15052501006"), "暂扣", "再次", "张三")
    with pytest.raises(BadgeError, match="无效"):
        set_status(officer("15052501001"), "作废", "原因", "张三")
    assert OfficerStatusChange.select().count() == 0


def test_photo_only_through_a_genuine_token(client, config, tmp_path):
    from models.officers import set_photo

    source = tmp_path / "me.png"
    Image.new("RGB", (300, 400), (200, 120, 80)).save(source)
    set_photo(officer("15052501001"), source, config)
    token = token_for(officer("15052501001"), config)
    html = client.get("/v/" + token).get_data(as_text=True)
    assert f'src="/v-photo/{token}"' in html
    photo = client.get(f"/v-photo/{token}")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert client.get("/v-photo/" + token[:-1] + ("A" if token[-1] != "A" else "B")).status_code == 404
    assert client.get("/v-photo/" + token_for(officer("15052501002"), config)).status_code == 404


def test_staff_page_needs_the_staff_token(client, config, monkeypatch):
    assert client.get("/staff/badges").status_code == 404  # off until STAFF_TOKEN is set
    config["badges"]["staff_token"] = "s3cret"  # STAFF_TOKEN, as settings.py reads it
    client.get("/v/" + token_for(officer("15052501003"), config))
    assert client.get("/staff/badges").status_code == 401
    wrong = base64.b64encode(b"staff:nope").decode()
    assert client.get("/staff/badges", headers={"Authorization": "Basic " + wrong}).status_code == 401
    right = base64.b64encode(b"staff:s3cret").decode()
    response = client.get("/staff/badges?days=7", headers={"Authorization": "Basic " + right})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "白斯琴" in html and "1次" in html


# -- the badge card ---------------------------------------------------------------------------------------

def test_badge_png_decodes_to_the_exact_url(client, config, tmp_path):
    person = officer("15052501005")
    url = badge_url(person, config)
    png, pdf = write_badge(person, "奈曼旗文化和旅游局", url, config, tmp_path)
    image = Image.open(png)
    assert image.size == (638, 1011) and round(image.info["dpi"][0]) == 300
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [url]
    assert pdf.read_bytes().startswith(b"%PDF")
    assert client.get(url.replace(config["server"]["public_base_url"], "")).status_code == 200


def test_missing_font_is_a_clear_error(client, config):
    config = {**config, "badges": {**config["badges"], "font": "/nonexistent/font.ttc"}}  # BADGE_FONT
    with pytest.raises(FontMissing, match="fonts-noto-cjk"):
        render_card(officer("15052501001"), "奈曼旗文化和旅游局", "http://x/v/y", config)


# -- command line ----------------------------------------------------------------------------------------

@pytest.fixture
def cli(fixed_app, database_url, fake_wechat, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://zhifa.example.cn")
    monkeypatch.setenv("WECHAT_API_BASE", fake_wechat.api_base)
    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(bot.cli, list(args), input=input, catch_exceptions=False)
    return run


def test_cli_badge_one_and_all(cli, config, tmp_path, client):
    result = cli("badge", "15052501001", "--out", str(tmp_path / "one"))
    assert result.exit_code == 0, result.output
    url = zxingcpp.read_barcodes(Image.open(tmp_path / "one" / "15052501001.png"))[0].text
    assert url.startswith("https://zhifa.example.cn/v/")
    assert verdict_of(client.get(url.removeprefix("https://zhifa.example.cn")))[0] == "有效执法证件"

    result = cli("badge", "--all", str(tmp_path / "all"))
    assert result.exit_code == 0, result.output
    today = dt.date.today()
    valid = {o.cert_no for o in Officer.search("") if o.verdict(today) == "有效"}
    assert {p.stem for p in (tmp_path / "all").glob("*.png")} == valid
    assert not {"15052501006", "15052501007", "15052501004"} & valid

    refused = cli("badge", "15052501007", "--out", str(tmp_path))
    assert refused.exit_code == 1 and "已注销" in refused.output


def test_cli_badge_refuses_dev_secret_and_missing_font(cli, monkeypatch, tmp_path):
    monkeypatch.delenv("BADGE_SECRET")
    result = cli("badge", "15052501001", "--out", str(tmp_path))
    assert result.exit_code == 1 and "BADGE_SECRET" in result.output
    monkeypatch.setenv("BADGE_SECRET", SECRET)
    monkeypatch.setenv("BADGE_FONT", "/nonexistent/font.ttc")
    result = cli("badge", "15052501001", "--out", str(tmp_path))
    assert result.exit_code == 1 and "fonts-noto-cjk" in result.output


def test_cli_officer_lifecycle(cli, config, client, tmp_path):
    photo = tmp_path / "p.jpg"
    Image.new("RGB", (120, 160), "navy").save(photo)
    result = cli("officer", "add", "--name", "乌兰", "--cert-no", "15052501009", "--fields", "旅游市场",
                 "--valid-from", "2026-01-01", "--valid-to", "2031-12-31", "--photo", str(photo))
    assert result.exit_code == 0, result.output
    assert officer("15052501009").photo
    assert cli("officer", "add", "--name", "乌兰", "--cert-no", "15052501009", "--fields", "x",
               "--valid-from", "2026-01-01", "--valid-to", "2031-12-31").exit_code == 1

    token = token_for(officer("15052501009"), config)
    result = cli("officer", "status", "15052501009", "暂扣", "--reason", "调查期间", "--by", "执法大队")
    assert result.exit_code == 0 and "有效 → 暂扣" in result.output
    assert verdict_of(client.get("/v/" + token))[0] == "已暂扣"
    result = cli("officer", "history", "15052501009")
    assert "有效 → 暂扣" in result.output and "调查期间" in result.output and "执法大队" in result.output

    assert cli("officer", "rotate", "15052501009", "--yes").exit_code == 0
    assert verdict_of(client.get("/v/" + token))[0] == "无效二维码"
    assert "乌兰" in cli("officer", "list").output


def test_cli_wechat_qr_is_created_once(cli, fake_wechat, tmp_path):
    result = cli("officer", "wechat-qr", "15052501001", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert fake_wechat.sent("/qrcode/create") == [
        {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": "officer:15052501001"}}}]
    qr = WeChatBadgeQR.get()
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(tmp_path / "15052501001-wechat.png"))] == [qr.url]
    again = cli("officer", "wechat-qr", "15052501001", "--out", str(tmp_path))
    assert again.exit_code == 0, again.output
    assert len(fake_wechat.sent("/qrcode/create")) == 1 and WeChatBadgeQR.select().count() == 1


def test_cli_scans_report(cli, config, client):
    assert "没有扫码记录" in cli("scans").output
    BadgeScan.record(officer("15052501003"), "page")
    BadgeScan.record(officer("15052501003"), "page")
    BadgeScan.record(officer("15052501003"), "wechat")
    output = cli("scans", "--days", "7").output
    assert "白斯琴  page  2次" in output and "白斯琴  wechat  1次" in output


# -- chat and WeChat's own QR -----------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("核验 15052501001", "有效执法证件"), ("核验 赵志强", "已暂扣"), ("核验　刘晓东？", "已注销"),
    ("核验15052501004", "已过期")])
def test_chat_verify(wechat_user, fixed_app, text, expected):
    reply = wechat_user.say(text)
    assert reply.startswith("【执法证核验】") and expected in reply
    assert "身份证" not in reply


def test_chat_verify_unknown_and_empty(wechat_user, fixed_app):
    assert "没有找到" in wechat_user.say("核验 99999999999")
    assert "拒绝" in wechat_user.say("核验 张三丰")
    assert "核验 执法证号" in wechat_user.say("核验")


def test_wechat_scene_scan_and_subscribe(wechat_user, fixed_app):
    reply = wechat_user.event("scan:officer:15052501007")
    assert "已注销" in reply and "刘晓东" in reply
    wechat_user.openid = "o_citizen_2"  # events are deduplicated by sender and second
    reply = wechat_user.event("subscribe:officer:15052501001")
    assert reply.startswith("感谢关注") and "有效执法证件" in reply
    wechat_user.openid = "o_citizen_3"
    assert "没有找到" in wechat_user.event("scan:officer:000")
    counted = {(s.officer.cert_no, s.channel, s.scans) for s in BadgeScan.select()}
    assert counted == {("15052501007", "wechat", 1), ("15052501001", "wechat", 1)}


# -- Excel ---------------------------------------------------------------------------------------------------

HEADER = ["姓名", "执法证号", "发证机关", "执法领域", "有效期起", "有效期止", "状态", "状态变更原因", "状态变更日期"]


def workbook(path, rows):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_excel_import_with_bad_rows_writes_nothing(client, tmp_path):
    before = [(o.cert_no, o.name, o.status) for o in Officer.search("")]
    path = workbook(tmp_path / "bad.xlsx", [
        ["新人", "15052501010", "内蒙古自治区人民政府", "旅游市场", dt.date(2026, 1, 1), dt.date(2030, 1, 1)],
        ["包海龙", "15052501001", "内蒙古自治区人民政府", "文化市场", "2022-03-01", "2027-02-28", "注销"],
        ["", "15052501011", "内蒙古自治区人民政府", "旅游市场", "2026-01-01", "2020-01-01"],
        ["甲", "15052501010", "内蒙古自治区人民政府", "旅游市场", "明年", "2030-01-01", "作废"],
    ])
    with pytest.raises(ImportRefused) as refused:
        import_officers(read_officer_rows(path))
    messages = [str(e) for e in refused.value.errors]
    assert "第3行：状态为“注销”时须填写状态变更原因" in messages
    assert "第4行：“姓名”不能为空" in messages and "第4行：有效期起晚于有效期止" in messages
    assert any(m.startswith("第5行：执法证号“15052501010”与第2行重复") for m in messages)
    assert any(m.startswith("第5行：“有效期起”不是有效日期") for m in messages)
    assert any(m.startswith("第5行：状态“作废”无效") for m in messages)
    assert [(o.cert_no, o.name, o.status) for o in Officer.search("")] == before
    assert OfficerStatusChange.select().count() == 0


def test_excel_round_trip_and_status_history(cli, tmp_path):
    path = tmp_path / "roster.xlsx"
    assert "已导出8名" in cli("export-officers", str(path)).output
    rows = read_officer_rows(path)
    assert [r["cert_no"] for _, r in rows][:2] == ["15052501001", "15052501002"]
    workbook(path, [
        ["包海龙", "15052501001", "内蒙古自治区人民政府", "文化市场", "2022-03-01", "2027-02-28", "注销", "退休", "2026-11-20"],
        ["新人", "15052501010", "内蒙古自治区人民政府", "旅游市场", "2026/1/1", "2030年12月31日"],
    ])
    result = cli("import-officers", str(path))
    assert "新增1人，更新1人，其中状态变更1人" in result.output, result.output
    assert officer("15052501001").status == "注销"
    (change,) = OfficerStatusChange.history(officer("15052501001"))
    assert (change.reason, change.changed_on, change.changed_by) == ("退休", dt.date(2026, 11, 20), "Excel导入")
    assert officer("15052501010").valid_to == dt.date(2030, 12, 31)
    bad = workbook(tmp_path / "bad.xlsx", [["x", "1", "y", "z", "oops", "2030-01-01"]])
    result = cli("import-officers", str(bad))
    assert result.exit_code == 1 and "第2行" in result.output
    assert write_officers(tmp_path / "again.xlsx") == 9


def test_complaint_button_opens_the_form_with_the_officer(client, config):
    html = client.get("/v/" + token_for(officer("15052501002"), config)).get_data(as_text=True)
    link = html.split('<a class="btn" href="')[1].split('"')[0]
    form = client.get(link)
    assert form.status_code == 200 and "王雅琴" in form.get_data(as_text=True)


def test_badge_scan_leads_to_complaint_about_that_officer(wechat_user):
    """The scan's answer names the words that start a complaint with this officer already chosen."""
    card = wechat_user.event("scan:officer:15052501001")
    assert "投诉 15052501001" in card
    reply = wechat_user.say("投诉 15052501001")
    assert "包海龙" in reply


def test_dates_are_beijing_dates_on_a_utc_server(app, wechat_user):
    """31 Aug 17:00 UTC is already 1 Sep in Naiman: a certificate valid to 31 Aug has expired there."""
    app.config["CLOCK"] = dt.datetime(2026, 8, 31, 17, 0, tzinfo=dt.timezone.utc).timestamp
    assert "已过期" in wechat_user.say("核验 15052501004")
    app.config["CLOCK"] = dt.datetime(2026, 8, 31, 15, 0, tzinfo=dt.timezone.utc).timestamp
    assert "有效执法证件" in wechat_user.say("核验 15052501004")
