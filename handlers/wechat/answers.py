"""公众问答 — a resident's own words understood: greetings and thanks, "我想投诉", "查进度", and every
other question searched (models/retrieval.py) over the lists, the FAQ and the bureau's details.

Sure: the answer. Unsure: "您是不是想问" with the best two or three. Nothing: a polite way on. The last two
are kept (text only, no openid) for staff: `bot.py unanswered --days 30`.
"""
import re
from urllib.parse import quote

from handlers.wechat.cache import cached_answer
from handlers.wechat.disclosure import (HELP_TEXT, complaint_channels, flow_block, inspection_block, inspections,
                                        item_block, items, legal_basis, officer_block, page_link, remedy, subject)
from handlers.wechat.paging import Paged
from handlers.wechat.router import match_form, plain, read_only, router
from models.answers import Faq, UnansweredQuestion
from models.disclosure import Bureau, EnforcementItem, InspectionItem, Officer
from models.retrieval import current_index, is_english

GREETING = re.compile(r"(你好|您好|哈喽|哈啰|嗨|hi|hello|hey|在吗|在不在|有人吗|有人在吗|有没有人|早上好|上午好|中午好|"
                      r"下午好|晚上好|早安|晚安|喂|老师好|同志你好|打扰了|打扰一下)+")
THANKS = re.compile(r"(谢谢|谢了|谢谢你|谢谢您|多谢|感谢|非常感谢|辛苦了|辛苦|好的|好|好滴|嗯嗯|嗯|知道了|明白了|懂了|收到|了解了|"
                    r"ok|okay|thanks|thank you|thx|再见|拜拜|bye)+[了啊呀哈啦吧呢哦~]*")
QUESTION = re.compile(r"怎么|如何|怎样|咋|哪里|在哪|哪儿|电话|方式|渠道|途径|多久|多长时间|几天|流程|能不能|可不可以|可以吗|"
                      r"有没有|是什么|什么|谁|吗$|么$|\?$|需要什么|要什么")
COMPLAINT_OPEN = re.compile(r"^(我|俺|本人)?(想|要|需要|准备|打算|想要|必须)?(在线)?(投诉|举报|告状|反映)(一下|一个|个|下)?")
COMPLAINT_TAIL = re.compile(r"[，,。!！ ]*(我)?(想|要)(投诉|举报)(一下|他|她|他们|它)?$")
PROGRESS = re.compile(r"(查|看|问)(一下|下)?(我的)?(投诉|举报)?(的)?(进度|结果|处理情况|办理情况|进展)"
                      r"|(投诉|举报)(的)?(进度|进展|结果)"
                      r"|(投诉|举报).*(怎么样了|到哪了|有结果|处理了吗|处理了没|有消息|有回复|有进展|办了吗|办得怎么样)")
HOW_LONG = re.compile(r"多久|多长时间|几天|多少天|期限")
# Emoji and other pictographs, with the joiners and variation selectors that glue them.
EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D\u20E3]")
LONE_NUMBER = re.compile(r"\d{1,3}")
INNER_PUNCTUATION = re.compile(r"[\s,.!?;:~，。！？；：、～…]+")

GREETING_TEXT = ("您好！这里是奈曼旗文化和旅游局。请直接说您想问什么，如“网吧几点关门”“导游没证怎么办”“怎么投诉”；"
                 "回复“帮助”查看全部可查询的内容。")
THANKS_TEXT = "不客气！还有问题随时发给我们；需要投诉请回复“投诉”。"
ENGLISH_NOTE = "（本公众号用中文回答 / We answer in Chinese.）"
NOT_FOUND = ("抱歉，没有找到与“{text}”有关的内容，我们已记下这个问题。可以换个说法试试，如“网吧几点关门”“怎么投诉”“被罚款了不服怎么办”；"
             "不属于文化旅游的事项请拨打12345。回复“帮助”查看可以查询的内容。")
SUGGEST_TITLE = "您是不是想问："
SUGGEST_HINT = "请直接回复上面的问题（或换个说法）；回复“帮助”查看可以查询的内容。"


def emoji_free(text):
    return EMOJI.sub("", text)


def is_question(text):
    return bool(QUESTION.search(text))


def understood(ctx, text):
    """What the index makes of `text`, computed once per text for a few seconds (resolve and answer both ask)."""
    ttl = ctx.config["wechat"].get("answer_cache_seconds", 0)
    search = lambda: current_index(ctx.config).search(text)  # noqa: E731
    if ctx.cache is None or ttl <= 0:
        return search()
    return ctx.cache.get_or_compute(("retrieval", text), ttl, search)


# -- understanding free text (router.understand) ---------------------------------------------------
@router.understand(before_keywords=True)
def understand_first(ctx, text):
    """Nothing to read (punctuation, a lone digit, an emoji) → help; "投诉电话多少" → a question."""
    bare = plain(emoji_free(text))
    if not bare or LONE_NUMBER.fullmatch(bare):
        return "help", ""
    folded = match_form(bare)
    if PROGRESS.search(folded) and not HOW_LONG.search(folded):
        return "progress", ""
    # A keyword followed, without a space, by a question ("投诉电话多少", "执法人员能收罚款吗") is a
    # question about it, not the command with an argument.
    word = router.keyword_at(folded)
    rest = folded[len(word):] if word else ""
    if rest and not rest[0].isspace() and word != "#" and is_question(rest):
        return ("unanswered" if understood(ctx, text).mode in ("suggest", "none") else "ask"), text
    return None


@router.understand()
def understand_rest(ctx, text):
    """Greetings, thanks, a complaint being opened; else what the search finds."""
    base = plain(emoji_free(text))
    bare = match_form(base)  # same length as base: offsets found in it cut `base`, punctuation kept
    words = INNER_PUNCTUATION.sub("", bare)  # "好的，谢谢你" is one thanks
    if GREETING.fullmatch(words):
        return "greeting", ""
    if THANKS.fullmatch(words):
        return "thanks", ""
    opening = COMPLAINT_OPEN.match(bare)
    if opening and opening.group(4) and not is_question(bare):
        return "complaint", base[opening.end():].lstrip(" :：,，、")  # what follows, as written
    tail = COMPLAINT_TAIL.search(bare)
    if tail and not is_question(bare[:tail.start()]):
        return "complaint", base[:tail.start()].strip()
    if understood(ctx, text).mode in ("suggest", "none"):
        return "unanswered", text
    return None


# -- the answers ------------------------------------------------------------------------------------
@router.intent("help")
@read_only
def help_text(ctx, arg=""):
    return HELP_TEXT


@router.intent("greeting")
@read_only
def greeting(ctx, arg=""):
    return GREETING_TEXT


@router.intent("thanks")
@read_only
def thanks(ctx, arg=""):
    return THANKS_TEXT


@router.intent("ask")
@router.text_fallback
@cached_answer
def ask(ctx, text):
    """The answer the search is sure of (or the items of one topic)."""
    result = understood(ctx, text)
    if result.mode == "list":
        answer = item_list(ctx, text, result)
    elif result.mode == "answer":
        answer = render(ctx, result.hits[0].doc)
        related = [h.doc.title for h in result.hits[1:2] if h.coverage >= 0.6 and h.doc.kind in ("faq", "item")]
        if related and isinstance(answer, str):
            answer = f"{answer}\n\n您可能还想问：{related[0]}"
    else:
        answer = unsure_text(text, result)
    return with_english_note(text, answer)


@router.intent("unanswered")
def unanswered(ctx, text):
    """No good answer: keep the question for staff (text only), offer the nearest or a way on."""
    result = understood(ctx, text)
    guess = result.hits[0].doc.title if result.hits else ""
    UnansweredQuestion.note(text, "不确定" if result.mode == "suggest" else "无结果", guess, ctx.now)
    return with_english_note(text, unsure_text(text, result))


def unsure_text(text, result):
    if result.mode == "suggest" and result.hits:
        lines = "\n".join(f"· {h.doc.title}" for h in result.hits[:3])
        return f"{SUGGEST_TITLE}\n{lines}\n{SUGGEST_HINT}"
    return NOT_FOUND.format(text=text[:20])


def with_english_note(text, answer):
    if not is_english(text):
        return answer
    if isinstance(answer, Paged):
        return Paged(f"{ENGLISH_NOTE}\n{answer.title}", answer.blocks + [HELP_TEXT], answer.link)
    return f"{ENGLISH_NOTE}\n{answer}\n\n{HELP_TEXT}"


def item_list(ctx, text, result):
    found = {i.code: i for i in EnforcementItem.select().where(
        EnforcementItem.code.in_([h.doc.ref for h in result.hits]))}
    chosen = [found[h.doc.ref] for h in result.hits if h.doc.ref in found]
    chosen.sort(key=lambda i: i.code)
    faqs = [doc.title for doc in current_index(ctx.config).related_faq(text)]
    title = f"与“{text[:20]}”有关的执法事项{len(chosen)}项："
    if faqs:
        title = "常见问题：" + "　".join(faqs) + "（直接回复问题即可）\n\n" + title
    return Paged(title, [item_block(i) for i in chosen], page_link(ctx, f"/items?q={quote(plain(text))}"))


def render(ctx, doc):
    """The answer a document stands for."""
    kind, ref = doc.kind, doc.ref
    if kind == "faq":
        faq = Faq.get_or_none(Faq.key == ref)
        if faq is None:
            return NOT_FOUND.format(text=doc.title[:20])
        source = f"\n（依据：{faq.source}）" if "《" in faq.source else ""
        return f"【{faq.question}】\n{faq.render(Bureau.current())}{source}"
    if kind == "item":
        item = EnforcementItem.get_or_none(EnforcementItem.code == ref)
        return item_block(item) if item else NOT_FOUND.format(text=doc.title[:20])
    if kind == "inspection":
        inspection = InspectionItem.get_or_none(InspectionItem.id == int(ref))
        return inspection_block(inspection) if inspection else NOT_FOUND.format(text=doc.title[:20])
    if kind == "flow":
        return Paged("【执法流程】", [flow_block(ref)], page_link(ctx, "/flows"))
    if kind == "officer":
        officer = Officer.by_cert_no(ref)
        return officer_block(officer, ctx.now.date()) if officer else NOT_FOUND.format(text=doc.title[:20])
    whole_lists = {"remedy": remedy, "channels": complaint_channels, "subject": subject, "basis": legal_basis,
                   "items": items, "inspections": inspections}
    return whole_lists[kind](ctx, "")
