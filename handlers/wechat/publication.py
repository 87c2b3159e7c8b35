"""处罚结果 / 公示 — the latest published enforcement decisions in the chat, and a search of them
(“公示 网吧”); the page /disclosures/ has the full text, filters and the feed."""
from urllib.parse import quote

from handlers.wechat.cache import cached_answer
from handlers.wechat.paging import Paged
from handlers.wechat.router import plain, router
from models import publication

# The chat shows the newest few; more is on the page the answer links to.
CHAT_ROWS = 20
NOTHING_YET = "本局暂无公开的行政执法决定。决定作出后按期公开（行政处罚、行政许可7个工作日内），可稍后再查：{link}"
NOT_FOUND = "没有找到与“{text}”有关的已公开执法决定。请换个关键词，如“网吧”“旅行社”，或回复“公示”查看最新公开的决定。"


def block(row):
    if row.status == publication.WITHDRAWN:
        return f"【已撤回】{row.label} {row.decision_no}（{row.decided_on}）\n{row.public_note}"
    updated = "（已更新）" if row.version > 1 else ""
    return (f"【{row.label}】{row.decision_no}{updated}\n执法对象：{row.party}\n执法类别：{row.category}\n"
            f"执法结论：{row.conclusion}\n决定日期：{row.decided_on}")


@router.keyword("处罚结果", "公示", "执法决定公开", "决定公开", "处罚公示")
@cached_answer
def disclosures(ctx, arg=""):
    arg = plain(arg)[:40]
    base = ctx.config["server"]["public_base_url"]
    link = f"{base}/disclosures/" + (f"?q={quote(arg)}" if arg else "")
    rows, total = publication.public_page(publication.public_query(q=arg), 1, CHAT_ROWS)
    if not rows:
        return NOT_FOUND.format(text=arg[:20]) if arg else NOTHING_YET.format(link=link)
    title = (f"与“{arg}”有关的已公开执法决定{total}条：" if arg
             else f"最新公开的行政执法决定（共{total}条，回复“公示 关键词”可搜索）：")
    return Paged(title, [block(r) for r in rows], link)
