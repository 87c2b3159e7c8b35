"""订阅公示 / 取消订阅 in the chat (and the menu key SUBSCRIBE): citizens ask to be told of new
disclosures, of every category or one (网吧, 演出, 旅游 …: config notices.subscriptions.categories).
The weekly digest (notices/subscriptions.py) and announcements go to them.

订阅案件 CODE / 取消订阅案件 [CODE]: the party of a case asks to be told when its decision is published,
corrected or withdrawn, with the 案件查询码 printed on the documents served on them (models/case_subscriptions.py)."""
from handlers.wechat.router import plain, router
from models import case_subscriptions
from models.publication import PUBLISHED, Disclosure
from models.subscriptions import (
    ALL,
    Subscription,
    category_named,
    subscription_categories,
)


def _choices(config):
    return "、".join(c["name"] for c in subscription_categories(config))


def _mine(openid):
    mine = Subscription.of(openid)
    if not mine:
        return "您目前没有订阅。"
    return "您已订阅：" + ("全部公示" if ALL in mine else "、".join(mine)) + "。"


@router.keyword("订阅公示", "订阅")
@router.click("SUBSCRIBE")
def subscribe(ctx, arg=""):
    category = category_named(ctx.config, plain(arg))
    if category is None:
        return f"没有“{plain(arg)[:10]}”这一类。可订阅：{_choices(ctx.config)}；回复“订阅公示”订阅全部。"
    added = Subscription.subscribe(ctx.openid, category, ctx.now)
    what = "全部公示" if category == ALL else f"“{category}”类公示"
    head = f"已为您订阅{what}。" if added else f"您已订阅过{what}。"
    return (f"{head}每周一推送上周新公示的摘要（每月最多4次）。\n{_mine(ctx.openid)}\n"
            f"按类别订阅：回复“订阅公示 网吧”（可选：{_choices(ctx.config)}）；退订：回复“取消订阅”。")


@router.keyword("取消订阅", "退订")
def unsubscribe(ctx, arg=""):
    text = plain(arg)
    category = category_named(ctx.config, text) if text else None
    if text and category is None:
        return f"没有“{text[:10]}”这一类。{_mine(ctx.openid)}回复“取消订阅”可全部退订。"
    removed = Subscription.unsubscribe(ctx.openid, category)
    if not removed:
        return f"{_mine(ctx.openid)}无需退订。"
    what = f"“{category}”类" if category else "全部"
    return f"已取消{what}订阅，不再推送。{_mine(ctx.openid) if category else ''}需要时回复“订阅公示”可重新订阅。"


# -- 订阅案件: the party of a case, by the 案件查询码 printed on the documents served on them ----------------

WHERE_CODE = "查询码是8位字母和数字，印在本局送达的《行政处罚事先告知书》《行政处罚决定书》上"


def _already_public(ctx, case_no):
    rows = Disclosure.select(Disclosure.id).where((Disclosure.case_no == case_no) & (Disclosure.status == PUBLISHED))
    base = ctx.config["server"]["public_base_url"]
    return "".join(f"\n本案决定已公开：{base}/disclosures/{row.id}" for row in rows)


@router.keyword("订阅案件")
def subscribe_case(ctx, arg=""):
    text = plain(arg)
    if not text:
        return f"请在“订阅案件”后写上查询码，如：订阅案件 AB23CD45。{WHERE_CODE}。"
    outcome, case_no = case_subscriptions.subscribe(ctx.config, ctx.openid, text, ctx.now)
    if outcome == case_subscriptions.BLOCKED:
        return "今天输错查询码的次数过多，请明天再试。查询码请以送达的文书为准，如有疑问请联系办案人员。"
    if outcome == case_subscriptions.WRONG:
        left = max(int(case_subscriptions.settings(ctx.config)["wrong_codes_per_day"])
                   - case_subscriptions.misses_today(ctx.openid, ctx.now), 0)
        return (f"没有找到查询码“{text[:12]}”对应的案件，请核对后重发。{WHERE_CODE}。"
                + (f"今天还可尝试{left}次。" if left else "今天的尝试次数已用完，请明天再试。"))
    code = case_subscriptions.clean_code(text)
    head = "已为您订阅本案" if outcome == case_subscriptions.BOUND else "您已订阅过本案"
    return (f"{head}（查询码 {code}）。本案决定公开、更正或撤回时，将在这里通知您。{_already_public(ctx, case_no)}\n"
            f"退订：回复“取消订阅案件 {code}”。")


@router.keyword("取消订阅案件", "退订案件")
def unsubscribe_case(ctx, arg=""):
    text = plain(arg)
    removed = case_subscriptions.unsubscribe(ctx.openid, text or None)
    if removed:
        what = "该案件" if text else f"全部{removed}个案件"
        return f"已取消订阅{what}，不再通知您。需要时可再发送“订阅案件 查询码”。"
    if text:
        return f"您没有订阅查询码“{text[:12]}”对应的案件，无需退订。"
    return "您没有订阅任何案件，无需退订。"
