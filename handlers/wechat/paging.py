"""Long answers cut into chat-sized pages, the rest kept for "下一页", the last one linking the web page;
and turning a handler's answer into the one text WeChat shows."""
from dataclasses import dataclass, field

from handlers.wechat.cache import CACHED_HANDLERS
from handlers.wechat.router import read_only, router
from models.delivery import InboundMessage

NEXT_PAGE_HINT = "（第{page}/{pages}页）回复“下一页”查看更多"
FULL_PAGE_LINK = "完整内容：{link}"
# Room kept on every page for the footer (hint or link); URLs are ASCII and short.
FOOTER_RESERVE = 90
NO_MORE_PAGES = "没有更多内容了。回复“帮助”查看可以查询的内容。"


@dataclass
class Paged:
    """An answer made of blocks (one item, one officer …) that may run over one chat message."""

    title: str
    blocks: list = field(default_factory=list)
    link: str = ""
    # Pages already cut, by size: a cached answer is cut once, not on every message.
    cut: dict = field(default_factory=dict, repr=False, compare=False)


def paginate(answer, max_chars):
    """Split a Paged answer into texts of at most `max_chars` characters each."""
    if max_chars not in answer.cut:
        answer.cut[max_chars] = _cut(answer, max_chars)
    return answer.cut[max_chars]


def _cut(answer, max_chars):
    budget = max_chars - FOOTER_RESERVE
    pages, current = [], answer.title
    for block in answer.blocks:
        block = _clip(block, budget - 1)
        candidate = f"{current}\n\n{block}" if current else block
        if len(candidate) > budget and current:
            pages.append(current)
            current = block
        else:
            current = candidate
    pages.append(current)
    return [_with_footer(text, i, len(pages), answer.link) for i, text in enumerate(pages, start=1)]


def _with_footer(text, page, pages, link):
    if page < pages:
        return f"{text}\n\n{NEXT_PAGE_HINT.format(page=page, pages=pages)}"
    return f"{text}\n\n{FULL_PAGE_LINK.format(link=link)}" if link else text


def _clip(block, limit):
    return block if len(block) <= limit else block[: limit - 1] + "…"


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
