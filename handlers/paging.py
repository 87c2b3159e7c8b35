"""Long answers cut into chat-sized pages, the rest kept for "下一页", the last one linking the web page."""
from dataclasses import dataclass, field

NEXT_PAGE_HINT = "（第{page}/{pages}页）回复“下一页”查看更多"
FULL_PAGE_LINK = "完整内容：{link}"
# Room kept on every page for the footer (hint or link); URLs are ASCII and short.
FOOTER_RESERVE = 90


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
