"""Pages an older resident can read and a screen reader can use (适老化, WCAG 2.1 A/AA), checked in a real
Chromium at 390×844 against the live server, in normal and 大字 mode, with data present:

- axe-core (axe-playwright-python) finds no WCAG 2.1 A/AA violation, contrast included;
- no text under 16px (18px inside the main content in 大字 mode);
- every control at least 44×44 px (links inside running text excepted, as WCAG 2.5.5 does);
- nothing scrolls sideways at 320px, nor at 200% text;
- a server-side form error is focused, read out, marks its field and names itself in the title.
"""
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

import settings
from models import Officer, db, open_database
from models.badges import badge_url

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PAGES = ["/", "/subject", "/items", "/items?q=网吧", "/items?page=2", "/inspections", "/officers",
         "/officers?q=包海龙", "/flows", "/remedy", "/basis", "/review", "/discretion", "/complaints/new", "/complaints/status",
         "/ledger/", "/draws/", "/disclosures/", "/disclosures/stats",
         "/v/AAAAinvalidtokeninvalidtokeninvalidtoken123", "/no-such-page"]
MIN_TAP = 44
LARGE = re.compile(r"(^|\s)large(\s|$)")  # the class the large-text switch puts on <html>

TEXT_SIZES = """(inMain) => {
  const sizes = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el || el.closest("option, script, style, .skip")) continue;
    if (inMain && !el.closest("main")) continue;
    const rect = el.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) continue;
    sizes.push([parseFloat(getComputedStyle(el).fontSize), node.textContent.trim().slice(0, 20)]);
  }
  return sizes;
}"""

SMALL_TARGETS = """(minimum) => {
  const small = [];
  for (const el of document.querySelectorAll("a, button, input:not([type=hidden]), select, textarea")) {
    const style = getComputedStyle(el), rect = el.getBoundingClientRect();
    if (rect.width === 0 || el.closest(".skip")) continue;
    if (el.tagName === "A" && style.display === "inline") continue;  // a link inside a sentence
    if (rect.width < minimum || rect.height < minimum)
      small.push([el.tagName, (el.textContent || el.name || "").trim().slice(0, 20), Math.round(rect.width), Math.round(rect.height)]);
  }
  return small;
}"""


@pytest.fixture(scope="module")
def badge_pages(live_server):
    """The badge pages of a valid and a suspended certificate (the seeded 15052501006 is 暂扣)."""
    config = settings.load_config(environ=live_server["env"])
    open_database(live_server["database_url"])
    try:
        with db.connection_context():
            return [badge_url(Officer.by_cert_no(cert), config).replace(live_server["url"], "")
                    for cert in ("15052501001", "15052501006")]
    finally:
        if not db.is_closed():
            db.close()


def open_page(phone, live_server, path, large):
    phone.context.clear_cookies()
    if large:
        phone.context.add_cookies([{"name": "large", "value": "1", "url": live_server["url"]}])
    phone.goto(live_server["url"] + path)


def violations(phone):
    results = Axe().run(phone, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]]


def check_page(phone, large):
    """Every check of this module on the page now open; returns what failed, by name."""
    failed = {}
    found = violations(phone)
    if found:
        failed["axe"] = found
    small_text = [s for s in phone.evaluate(TEXT_SIZES, False) if s[0] < 16]
    if large:
        small_text += [s for s in phone.evaluate(TEXT_SIZES, True) if s[0] < 18]
    if small_text:
        failed["text under 16px (18px in 大字 main)"] = small_text[:5]
    targets = phone.evaluate(SMALL_TARGETS, MIN_TAP)
    if targets:
        failed["targets under 44px"] = targets[:5]
    return failed


@pytest.mark.parametrize("large", [False, True], ids=["normal", "大字"])
@pytest.mark.parametrize("path", PAGES)
def test_public_pages_pass(phone, live_server, path, large):
    open_page(phone, live_server, path, large)
    assert check_page(phone, large) == {}


@pytest.mark.parametrize("large", [False, True], ids=["normal", "大字"])
def test_badge_pages_pass(phone, live_server, badge_pages, large):
    for path in badge_pages:
        open_page(phone, live_server, path, large)
        assert check_page(phone, large) == {}, path
    assert phone.locator("#verdict").inner_text().startswith("已暂扣")


def test_nothing_scrolls_sideways_at_320px_or_200_percent_text(phone, live_server, badge_pages):
    wide = []
    for path in PAGES + badge_pages:
        phone.set_viewport_size({"width": 320, "height": 700})
        open_page(phone, live_server, path, large=True)
        if phone.evaluate("document.documentElement.scrollWidth") > 320:
            wide.append((path, "320px"))
        phone.set_viewport_size({"width": 390, "height": 844})
        open_page(phone, live_server, path, large=False)
        phone.evaluate("document.documentElement.style.fontSize = '200%'")
        if phone.evaluate("document.documentElement.scrollWidth") > 390:
            wide.append((path, "200%"))
    assert wide == []


def test_the_large_text_switch_is_remembered(phone, live_server):
    open_page(phone, live_server, "/items?q=网吧", large=False)
    normal = phone.evaluate("parseFloat(getComputedStyle(document.querySelector('main p')).fontSize)")
    phone.get_by_role("link", name="切换大字模式").click()
    phone.wait_for_url(re.compile(r"/items\?q="))  # back on the same page, search kept
    # expect() retries while the redirect is still loading; evaluate() would run on a half-built document
    expect(phone.locator("html")).to_have_class(LARGE)
    large = phone.evaluate("parseFloat(getComputedStyle(document.querySelector('main p')).fontSize)")
    assert large >= 18 and large > normal
    phone.goto(live_server["url"] + "/officers")  # remembered on the next page
    expect(phone.locator("html")).to_have_class(LARGE)
    phone.get_by_role("link", name="恢复标准字号").click()
    expect(phone.locator("html")).not_to_have_class(LARGE)


def test_a_form_error_is_announced_and_marks_its_field(phone, live_server):
    open_page(phone, live_server, "/complaints/new", large=True)
    phone.select_option("#category", "netbar")
    phone.evaluate("document.querySelector('textarea[name=content]').removeAttribute('minlength')")
    phone.fill("textarea[name=content]", "网吧")  # too short: the server refuses it
    phone.click("button[type=submit]")
    phone.locator("#form-error").wait_for()
    assert phone.title().startswith("错误：")
    assert phone.evaluate("document.activeElement.id") == "form-error"
    assert phone.get_attribute("#form-error", "role") == "alert"
    content = phone.locator("textarea[name=content]")
    assert content.get_attribute("aria-invalid") == "true" and content.get_attribute("aria-describedby") == "form-error"
    assert check_page(phone, large=True) == {}

    phone.fill("textarea[name=content]", "网吧夜里接纳未成年人上网，也不登记身份证。")
    phone.click("button[type=submit]")
    phone.locator("#ticket").wait_for()
    ticket, code = phone.locator("#ticket").inner_text(), phone.locator("#code").inner_text()
    assert check_page(phone, large=True) == {}
    phone.goto(live_server["url"] + "/complaints/status")
    phone.fill("input[name=ticket]", ticket)
    phone.fill("input[name=code]", code)
    phone.click("button[type=submit]")
    phone.get_by_role("heading", name="办理过程").wait_for()
    assert check_page(phone, large=True) == {}


def test_pages_are_compressed_when_the_client_accepts_it(live_server):
    import requests

    response = requests.get(live_server["url"] + "/basis", headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert response.headers.get("Content-Encoding") == "gzip" and "Accept-Encoding" in response.headers["Vary"]
    assert "执法依据" in response.text  # requests undoes the gzip
    plain = requests.get(live_server["url"] + "/basis", headers={"Accept-Encoding": "identity"}, timeout=10)
    assert "Content-Encoding" not in plain.headers
