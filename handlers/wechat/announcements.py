"""公告 from the staff chat: `#公告 标题` with the text (on the next line, or after the title and a space)
shows the masked preview; `#确认公告` publishes it on /announcements (the next weekly digest carries it);
`#取消公告` drops the draft; `#撤回公告 编号 理由` withdraws one. handlers/wechat/staff.py lets only
staff reach these; anyone else gets the ordinary public answer."""
from handlers.wechat.router import router
from models.announcements import Announcement, AnnouncementError

SECTION = "公告"


def _clip(text, limit=400):
    return text if len(text) <= limit else text[:limit - 1] + "…"


@router.staff("公告", "#公告 标题（换行写正文）　预览后确认发布", SECTION)
def cmd_announce(ctx, staff, rest):
    title, newline, body = rest.partition("\n")
    if not newline:  # all on one line: the title ends at the first space
        title, _, body = rest.partition(" ")
    draft = Announcement.draft(staff, title, body, ctx.now)
    return (f"公告预览（个人信息已遮盖，发布后即为此文）：\n【{draft.title}】\n{_clip(draft.public_body)}\n\n"
            "确认发布请回复“#确认公告”，不发布请回复“#取消公告”。")


@router.staff("确认公告", "#确认公告　发布刚才预览的公告", SECTION)
def cmd_confirm(ctx, staff, rest):
    draft = Announcement.pending_of(staff)
    if draft is None:
        raise AnnouncementError("没有待确认的公告。请先发送“#公告 标题”，换行写正文。")
    draft.publish(staff, ctx.now, ctx.config)
    ctx.push_after_reply = True
    url = f"{ctx.config['server']['public_base_url']}/announcements/{draft.id}"
    return f"公告“{draft.title}”（第{draft.id}号）已发布：{url}\n订阅用户将在下一次每周摘要（周一）中收到。撤回请回复“#撤回公告 {draft.id} 理由”。"


@router.staff("取消公告", "#取消公告　放弃未确认的公告", SECTION)
def cmd_cancel(ctx, staff, rest):
    draft = Announcement.pending_of(staff)
    if draft is None:
        return "没有待确认的公告。"
    draft.delete_instance()
    return f"已放弃公告“{draft.title}”，未发布。"


@router.staff("撤回公告", "#撤回公告 编号 理由", SECTION)
def cmd_withdraw(ctx, staff, rest):
    number, _, reason = rest.partition(" ")
    item = Announcement.by_id(number)
    if item is None:
        raise AnnouncementError("请回复“#撤回公告 编号 理由”，编号见发布时的回复或公告网页。")
    item.withdraw(staff, ctx.now, reason)
    return f"公告“{item.title}”已撤回，网页上显示撤回理由：{item.withdraw_reason}"
