"""The complaint form on a phone (390×844) in headless Chromium against the live server."""
import re


def test_file_and_look_up_a_complaint_on_a_phone(live_server, phone):
    base = live_server["url"]
    phone.goto(base + "/complaints/new?officer=15052501003")
    assert phone.locator("h1").inner_text() == "在线投诉举报"
    assert phone.locator("#category").input_value() == "officer"
    phone.fill("textarea[name=content]", "执法检查时没有出示执法证，也没有告知检查依据。")
    phone.fill("input[name=location]", "大沁他拉镇某KTV")
    phone.fill("input[name=contact]", "孙先生 13811112222")
    phone.click("button[type=submit]")
    ticket = phone.locator("#ticket").inner_text()
    code = phone.locator("#code").inner_text()
    assert re.fullmatch(r"TS\d{10}", ticket) and len(code) == 6
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing runs off the screen

    phone.click("text=查询投诉进度")
    phone.fill("input[name=ticket]", ticket)
    phone.fill("input[name=code]", code)
    phone.click("button[type=submit]")
    phone.get_by_role("heading", name="办理过程").wait_for()  # the answer page, not the form still unloading
    body = phone.locator("main").inner_text()
    assert "待受理" in body and "执法人员" in body
    assert "13811112222" not in phone.content() and "孙先生" not in phone.content()
