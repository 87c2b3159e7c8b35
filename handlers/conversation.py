"""Turning a handler's answer into the one text WeChat shows, and "下一页" for the rest."""
from handlers.cache import CACHED_HANDLERS
from handlers.paging import Paged, paginate
from handlers.public import NO_MORE_PAGES
from handlers.router import read_only, router
from models import InboundMessage


def render_text(ctx, answer):
    """Return the text to send now; what is left for "下一页" goes to `ctx.pages_left`.

    The endpoint stores that with this delivery's record, where "下一页" finds it: the pages
    themselves, or, for a cached answer, only its handler, argument and the next page's number
    (a long answer's pages were most of the bytes written per message; make bench).
    """
    if answer is None or isinstance(answer, str):
        return answer
    if isinstance(answer, Paged):
        pages = pages_of(ctx, answer)
        rebuildable = ctx.answered_by is not None and ctx.answered_by[2] is answer  # not re-wrapped
        ctx.pages_left = continue_at(ctx.answered_by[:2], 1, pages) if rebuildable else pages[1:]
        return pages[0]
    raise TypeError(f"handler returned {type(answer).__name__}")


def pages_of(ctx, answer):
    return paginate(answer, ctx.config["wechat"]["reply_max_chars"])


def continue_at(answered_by, page, pages):
    """Where "下一页" goes on in a cached answer; [] once nothing is left."""
    if page >= len(pages):
        return []
    name, arg = answered_by
    return {"answer": name, "arg": arg, "page": page}


@router.keyword("下一页", "下页", "更多")
@read_only  # what is left is kept in this delivery's own row, written with the reply
def next_page(ctx, arg=""):
    left = InboundMessage.pending_pages(ctx.openid, ctx.config["wechat"]["paging_ttl_seconds"])
    if isinstance(left, dict):
        return next_of_cached(ctx, left)
    ctx.pages_left = left[1:]
    return left[0] if left else NO_MORE_PAGES


def next_of_cached(ctx, left):
    """The next page of a cached answer, rebuilt (from the cache, usually) rather than stored.

    Should the lists have changed meanwhile, the user reads on in the current version."""
    handler = CACHED_HANDLERS.get(left["answer"])
    answer = handler(ctx, left["arg"]) if handler else None
    if not isinstance(answer, Paged):
        ctx.pages_left = []
        return NO_MORE_PAGES
    pages = pages_of(ctx, answer)
    page = left["page"]
    ctx.pages_left = continue_at((left["answer"], left["arg"]), page + 1, pages)
    return pages[page] if page < len(pages) else NO_MORE_PAGES
