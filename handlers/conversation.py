"""Turning a handler's answer into the one text WeChat shows, and "下一页" for the rest."""
from handlers.paging import Paged, paginate
from handlers.public import NO_MORE_PAGES
from handlers.router import router
from models import ChatState


def render_text(ctx, answer):
    """Return the text to send now; the pages after it wait for "下一页"."""
    if answer is None or isinstance(answer, str):
        return answer
    if isinstance(answer, Paged):
        wechat = ctx.config["wechat"]
        pages = paginate(answer, wechat["reply_max_chars"])
        ChatState.save_pages(ctx.openid, pages[1:])
        return pages[0]
    raise TypeError(f"handler returned {type(answer).__name__}")


@router.keyword("下一页", "下页", "更多")
def next_page(ctx, arg=""):
    page = ChatState.next_page(ctx.openid, ctx.config["wechat"]["paging_ttl_seconds"])
    return page or NO_MORE_PAGES
