"""The public questions, by keyword and by menu key, within WeChat's reply limits."""
import pytest

MAX_CHARS = 600

QUESTIONS = {
    "执法主体": ["奈曼旗文化和旅游局", "地址", "电话"],
    "执法人员": ["证号", "15052501001", "有效期"],
    "执法人员 包海龙": ["包海龙", "15052501001", "文化市场"],
    "人员 15052501006": ["赵志强", "已暂扣"],
    "执法事项": ["行政执法事项清单", "依据"],
    "抽查事项": ["随机抽查事项清单", "比例", "频次"],
    "流程": ["行政处罚（一般程序）", "立案"],
    "流程 行政许可": ["受理", "送达与公开"],
    "救济": ["60日", "6个月", "行政诉讼法"],
    "投诉方式": ["12318", "12345"],
    "网吧": ["互联网上网服务营业场所管理条例", "第三十一条"],
    "旅行社": ["旅游法", "第九十五条"],
    "假唱": ["营业性演出管理条例", "第四十七条"],
    "帮助": ["执法事项", "投诉方式"],
    "菜单": ["执法事项"],
    "执法人员？": ["证号"],
}


@pytest.mark.parametrize("text", QUESTIONS)
def test_question_answered_with_its_facts(wechat_user, text):
    pages = read_all_pages(wechat_user, wechat_user.say(text))
    joined = "\n".join(pages)
    for fact in QUESTIONS[text]:
        assert fact in joined, (text, fact)
    assert all(len(page) <= MAX_CHARS for page in pages)


def read_all_pages(user, first, limit=20):
    pages = [first]
    while "下一页" in pages[-1] and len(pages) < limit:
        pages.append(user.say("下一页"))
    assert len(pages) < limit
    return pages


def test_long_answer_paginates_and_ends_with_link(wechat_user):
    pages = read_all_pages(wechat_user, wechat_user.say("执法事项"))
    assert len(pages) > 2
    assert "（第1/" in pages[0]
    assert pages[-1].rstrip().endswith("/items")
    assert wechat_user.say("下一页").startswith("没有更多内容")


@pytest.mark.parametrize("key,fact", [
    ("SUBJECT", "执法主体"), ("OFFICERS", "执法人员"), ("ITEMS", "行政执法事项清单"),
    ("INSPECTIONS", "随机抽查事项清单"), ("FLOWS", "执法流程"), ("REMEDY", "行政复议"),
    ("COMPLAINT_CHANNELS", "12318"), ("HELP", "执法事项"),
])
def test_menu_keys(wechat_user, key, fact):
    assert fact in wechat_user.event(f"click:{key}")


def test_every_menu_key_has_an_answer(app):
    from handlers.wechat import router
    from handlers.wechat.menu import menu_definition

    definition = menu_definition(app.config["SANXIANG"])
    assert len(definition["button"]) <= 3
    assert all(len(b.get("sub_button", [])) <= 5 for b in definition["button"])
    entries = [s for b in definition["button"] for s in b.get("sub_button", [b])]
    keys = {s["key"] for s in entries if s.get("type") == "click"}
    assert keys and not keys - set(router.clicks), keys - set(router.clicks)


def test_subscribe_welcomes_and_lists_questions(wechat_user):
    reply = wechat_user.event("subscribe")
    assert reply.startswith("感谢关注") and "执法人员" in reply and "投诉方式" in reply


def test_unknown_text_says_what_to_try(wechat_user):
    reply = wechat_user.say("量子计算机")
    assert "没有找到" in reply and "帮助" in reply


def test_unknown_event_is_silent(wechat_user):
    assert wechat_user.event("unsubscribe") == "success"


def test_search_with_several_terms_narrows(wechat_user):
    reply = wechat_user.say("网吧 身份证")
    assert "核对、登记上网消费者的有效身份证件" in reply and "接纳未成年人" not in reply


def test_percent_and_underscore_are_literal(wechat_user):
    assert "没有找到" in wechat_user.say("%_%")
