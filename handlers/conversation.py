"""Turning a handler's answer into the one text WeChat shows, and "下一页" for the rest."""
from handlers.paging import Paged, paginate
from handlers.public import NO_MORE_PAGES
from handlers.router import read_only, router
from models import InboundMessage


def render_text(ctx, answer):
    """Return the text to send now; the pages after it are left in `ctx.pages_left`.

    The endpoint stores them with this delivery's record, where "下一页" finds them.
    """
    if answer is None or isinstance(answer, str):
        return answer
    if isinstance(answer, Paged):
        pages = paginate(answer, ctx.config["wechat"]["reply_max_chars"])
        ctx.pages_left = pages[1:]
        return pages[0]
    raise TypeError(f"handler returned {type(answer).__name__}")


@router.keyword("下一页", "下页", "更多")
@read_only  # the pages left are kept in this delivery's own row, written with the reply
def next_page(ctx, arg=""):
    pages = InboundMessage.pending_pages(ctx.openid, ctx.config["wechat"]["paging_ttl_seconds"])
    ctx.pages_left = pages[1:]
    return pages[0] if pages else NO_MORE_PAGES
