"""订阅公示 / 取消订阅 in the chat (and the menu key SUBSCRIBE): citizens ask to be told of new
disclosures, of every category or one (网吧, 演出, 旅游 …: config notices.subscriptions.categories).
The weekly digest (notices/subscriptions.py) and announcements go to them."""
from handlers.wechat.router import plain, router
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
