"""投诉举报 in the chat: the guided dialogue, `查询`/`评价` for complainants, `#` commands for staff.

`投诉` starts the dialogue (类别 → 执法人员 → 经过 → 地点 → 证据 → 联系方式 → 确认); while it runs,
every message from that user goes to it (router.intercept). `投诉 内容…` files in one message.
The rules (limits, lifecycle, who may act) are in models.complaints; this module only talks.
"""
import datetime as dt
import logging
import re

from wechatpy.exceptions import WeChatClientException

from handlers.wechat.paging import Paged
from handlers.wechat.router import normalize, plain, read_only, router
from models.complaints import (CLOSED, ComplaintError, Complaint, ComplaintDraft, DailyLimitReached,
                               Evidence, category_by, complaint_settings, rules_of)
from models import cases
from models.staff import Staff, authorize
from models.disclosure import Officer
from models.outbox import Outbox
from notices.wechat_api import make_client

log = logging.getLogger(__name__)

CANCEL_WORDS = {"取消", "退出", "不投诉了", "算了"}
SKIP_WORDS = {"跳过", "没有", "无", "不清楚", "不知道", "好了", "完成", "发完了", "没有了"}
ANONYMOUS_WORDS = {"匿名", "不留", "不愿意", "跳过", "无"}
CONFIRM_WORDS = {"提交", "确认", "确定", "是", "对", "好的"}
TICKET_RE = re.compile(r"TS\d{10}", re.IGNORECASE)
MEDIA_KINDS = {"image": "image", "voice": "voice", "video": "video", "shortvideo": "video"}
KIND_NAMES = {"image": "图片", "voice": "语音", "video": "视频", "file": "文件"}

CANCELLED = "已取消本次投诉，内容没有保存。需要时再回复“投诉”即可。"
EXPIRED = "您上次未完成的投诉超过{minutes}分钟没有操作，已自动取消，内容没有保存。"
PROMPTS = {
    "officer": "请回复被投诉执法人员的执法证号或姓名；不清楚请回复“不清楚”。",
    "content": "请描述发生了什么：时间、场所或人员、经过（至少5个字）。",
    "trip": "旅游行程是哪天结束的？请回复日期，如 2026-11-20 或 11月20日；还没结束或记不清请回复“跳过”。",
    "location": "在哪里发生的？请回复详细地址，或点“+”发送位置；不清楚请回复“跳过”。",
    "evidence": "如有照片、语音或视频，请直接发送（可多条）；发完请回复“好了”，没有请回复“跳过”。",
    "contact": "请留下姓名和电话，便于我们告知处理结果（严格保密）；不愿留下请回复“匿名”。",
}
HINT = "\n（回复“取消”可随时退出）"
HELP_WORDS = {"帮助", "help", "?", "？", "菜单", "怎么弄", "怎么填", "不会", "看不懂"}
STEP_NAMES = {"category": "选择类别", "officer": "被投诉的执法人员", "content": "说明经过", "trip": "行程结束日期",
              "location": "地点", "evidence": "照片、语音或视频证据", "contact": "联系方式", "confirm": "核对并提交"}


def settings(ctx):
    return complaint_settings(ctx.config)


def submitter_of(ctx):
    return f"wx:{ctx.openid}"


# -- the dialogue ------------------------------------------------------------------------------
@router.keyword("投诉", "举报", "我要投诉", "我要举报")
@router.click("COMPLAINT_START")
@router.intent("complaint")  # "我想投诉", "网吧让小孩进去，我要举报" (handlers/wechat/answers.py)
def start(ctx, arg=""):
    """`投诉` starts the dialogue; `投诉 证号` about an officer; `投诉 类别 内容…` files at once."""
    try:
        Complaint.check_daily_limit(ctx.config, submitter_of(ctx), ctx.now)
    except DailyLimitReached as exc:
        return str(exc)
    arg = arg.strip().lstrip(":：,，、 ")  # "我要举报：…"
    officer = Officer.by_cert_no(arg)
    about_officers = next((c for c in settings(ctx)["categories"] if c.get("officer")), None)
    if officer is not None and about_officers is not None:
        draft = ComplaintDraft.begin(ctx.openid, "content", {"category": about_officers["code"], "officer": officer.id},
                                     ctx.now)
        return f"您要投诉执法人员{officer.name}（证号{officer.cert_no}）。\n" + prompt(ctx, draft)
    category = category_by(ctx.config, arg) if arg else None
    if category is not None:
        return begin_after_category(ctx, category)
    if arg:
        return file_in_one_message(ctx, arg)
    draft = ComplaintDraft.begin(ctx.openid, "category", {}, ctx.now)
    return "您好，请按提示填写投诉，我们为投诉人保密。\n" + prompt(ctx, draft)


def begin_after_category(ctx, category):
    step = "officer" if category.get("officer") else "content"
    draft = ComplaintDraft.begin(ctx.openid, step, {"category": category["code"]}, ctx.now)
    return f"投诉类别：{category['name']}。\n" + prompt(ctx, draft)


def prompt(ctx, draft):
    if draft.step == "category":
        names = [f"{i}. {c['name']}" for i, c in enumerate(settings(ctx)["categories"], start=1)]
        return "请选择投诉类别，回复序号或名称：\n" + "\n".join(names) + HINT
    if draft.step == "confirm":
        return summary(ctx, draft) + "\n\n确认无误请回复“提交”；要修改请回复“取消”后重新开始。"
    return PROMPTS[draft.step] + HINT


@router.intercept(claims_users_in=ComplaintDraft.openid)  # a user with a draft is in the dialogue
def dialogue(ctx, proceed):
    """While a user's dialogue is open, all of their messages belong to it."""
    draft = ComplaintDraft.open_for(ctx.openid)
    if draft is None:
        return proceed()
    if draft.is_idle(ctx.now, settings(ctx)["dialogue_idle_minutes"]):
        draft.discard()
        return with_notice(EXPIRED.format(minutes=settings(ctx)["dialogue_idle_minutes"]), proceed())
    text = normalize(ctx.message.content) if ctx.message.type == "text" else None
    word = plain(text).lower() if text is not None else None  # for commands; `text` is kept as written
    if text is not None and text.startswith("#") and Staff.by_openid(ctx.openid):
        return proceed()
    if word in CANCEL_WORDS:
        draft.discard()
        return CANCELLED
    if word in HELP_WORDS:
        return dialogue_help(ctx, draft)
    if word in ("投诉", "举报"):
        return proceed()  # start afresh
    if word == "提交" and draft.step != "confirm":
        return "还差一步才能提交。\n" + prompt(ctx, draft)
    if ctx.message.type in MEDIA_KINDS:
        return take_evidence(ctx, draft)
    if ctx.message.type == "location":
        return take_location(ctx, draft)
    if text is None:
        return "这一步请回复文字。\n" + prompt(ctx, draft)
    return STEPS[draft.step](ctx, draft, text)


def dialogue_help(ctx, draft):
    """帮助 inside the dialogue: where the citizen is, how to go on, how to stop."""
    return (f"您正在填写投诉，这一步是：{STEP_NAMES[draft.step]}。按下面的提示回复即可；"
            f"回复“取消”放弃本次投诉（内容不保存），{settings(ctx)['dialogue_idle_minutes']}分钟不操作会自动取消。"
            "照片、语音、视频和位置在任何一步都可以直接发送。\n\n" + prompt(ctx, draft))


def with_notice(notice, answer):
    if answer is None:
        return notice
    if isinstance(answer, Paged):
        return Paged(f"{notice}\n\n{answer.title}", answer.blocks, answer.link)
    return f"{notice}\n\n{answer}"


def step_category(ctx, draft, text):
    categories = settings(ctx)["categories"]
    text = plain(text)
    category = category_by(ctx.config, text)
    if category is None and text.isdigit() and 1 <= int(text) <= len(categories):
        category = categories[int(text) - 1]
    if category is None:
        return "没有这个类别。" + prompt(ctx, draft)
    draft.advance("officer" if category.get("officer") else "content", {"category": category["code"]}, ctx.now)
    return f"投诉类别：{category['name']}。\n" + prompt(ctx, draft)


def step_officer(ctx, draft, text):
    values = draft.values
    text = plain(text)
    if text in SKIP_WORDS:
        values["officer"] = None
    else:
        found = Officer.search(text)
        exact = [o for o in found if text in (o.cert_no, o.name)]
        found = exact or found
        if not found:
            return f"没有找到“{text[:20]}”，请核对证号或姓名；不清楚请回复“不清楚”。" + HINT
        if len(found) > 1:
            names = "\n".join(f"{o.name} 证号{o.cert_no}" for o in found[:8])
            return f"找到{len(found)}位执法人员，请回复其中一位的证号：\n{names}" + HINT
        values["officer"] = found[0].id
    draft.advance("content", values, ctx.now)
    return prompt(ctx, draft)


def step_content(ctx, draft, text):
    if len(plain(text)) < 5:
        return "请再具体一些（至少5个字）：时间、场所或人员、经过。" + HINT
    values = draft.values
    values["content"] = text[:2000]
    draft.advance(next_step(ctx, values, step_after_content(ctx, values)), values, ctx.now)
    return prompt(ctx, draft)


def step_after_content(ctx, values):
    """A 旅游投诉 asks when the trip ended (its filing limit runs from then); then the place."""
    if rules_of(ctx.config, values["category"]).get("filing_limit") and "trip_ended_on" not in values:
        return "trip"
    return "location" if not values.get("location") else "evidence"


def read_day(text, today):
    """A date as people type it — 2026-11-20, 2026年11月20日, 11月20日, 11.20, 昨天 — or None.

    Without a year, the latest such day not after today."""
    relative = {"今天": 0, "昨天": 1, "前天": 2}
    if text in relative:
        return today - dt.timedelta(days=relative[text])
    full = re.search(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})", text)
    short = re.search(r"(\d{1,2})\s*[-/.月]\s*(\d{1,2})", text)
    try:
        if full:
            return dt.date(int(full.group(1)), int(full.group(2)), int(full.group(3)))
        if short:
            day = dt.date(today.year, int(short.group(1)), int(short.group(2)))
            return day if day <= today else day.replace(year=today.year - 1)
    except ValueError:
        return None
    return None


def step_trip(ctx, draft, text):
    values = draft.values
    text = plain(text)
    notice = ""
    if text in SKIP_WORDS or "没结束" in text or "没有结束" in text:
        values["trip_ended_on"] = None
    else:
        day = read_day(text, ctx.now.date())
        if day is None:
            return "没看懂这个日期。" + prompt(ctx, draft)
        if day > ctx.now.date():
            return "行程结束日期不能晚于今天。" + prompt(ctx, draft)
        values["trip_ended_on"] = day.isoformat()
        limit = rules_of(ctx.config, values["category"])["filing_limit"]
        if (ctx.now.date() - day).days > limit["days"]:
            notice = (f"提示：您的行程结束已超过{limit['days']}日。按{limit['source']}，旅游投诉应在旅游合同结束之日起"
                      f"{limit['days']}日内提出，可能不予受理；旅行社、导游的违法行为我们仍会依法核查。\n")
    draft.advance(next_step(ctx, values, "location" if not values.get("location") else "evidence"), values, ctx.now)
    return notice + prompt(ctx, draft)


def step_location(ctx, draft, text):
    values = draft.values
    if plain(text) not in SKIP_WORDS:
        values["location"] = text[:500]
    else:
        values["location_skipped"] = True
    draft.advance(next_step(ctx, values, "evidence"), values, ctx.now)
    return prompt(ctx, draft)


def step_evidence(ctx, draft, text):
    if plain(text) in SKIP_WORDS:
        draft.advance("contact", draft.values, ctx.now)
        return prompt(ctx, draft)
    draft.touch(ctx.now)
    return "请发送照片、语音或视频；发完请回复“好了”，没有请回复“跳过”。" + HINT


def step_contact(ctx, draft, text):
    values = draft.values
    values["contact"] = "" if plain(text) in ANONYMOUS_WORDS else text[:200]
    draft.advance("confirm", values, ctx.now)
    return prompt(ctx, draft)


def step_confirm(ctx, draft, text):
    if plain(text) not in CONFIRM_WORDS:
        return "请回复“提交”确认，或回复“取消”放弃。"
    return submit(ctx, draft)


STEPS = {"category": step_category, "officer": step_officer, "content": step_content, "trip": step_trip,
         "location": step_location, "evidence": step_evidence, "contact": step_contact,
         "confirm": step_confirm}


def take_location(ctx, draft):
    message = ctx.message
    values = draft.values
    values.update(location=(message.label or values.get("location") or "")[:500],
                  lat=float(message.location_x), lng=float(message.location_y))
    step = next_step(ctx, values, "evidence") if draft.step == "location" else draft.step
    draft.advance(step, values, ctx.now)
    return "已收到位置。\n" + prompt(ctx, draft)


def take_evidence(ctx, draft):
    """Download the media WeChat holds for three days and store it by its SHA-256."""
    owner = submitter_of(ctx)
    count = len(Evidence.pending(owner))
    if count >= settings(ctx)["max_evidence"]:
        return f"证据最多{settings(ctx)['max_evidence']}件，已够了。" + "\n" + prompt(ctx, draft)
    kind = MEDIA_KINDS[ctx.message.type]
    try:
        response = make_client(ctx.config).media.download(ctx.message.media_id)
        content_type = response.headers.get("Content-Type", "").split(";")[0]
        Evidence.store(ctx.config, response.content, kind=kind, owner=owner, now=ctx.now,
                       content_type=content_type, media_id=ctx.message.media_id)
    except ComplaintError as exc:
        return f"{exc}\n" + prompt(ctx, draft)
    except (WeChatClientException, OSError) as exc:
        log.warning("evidence download failed for media %s: %s", ctx.message.media_id, exc)
        return f"这条{KIND_NAMES[kind]}没有保存成功，请重新发送一次。" + HINT
    draft.touch(ctx.now)
    done = f"已收到{KIND_NAMES[kind]}（共{count + 1}件证据）。"
    if draft.step == "evidence":
        return done + "还有可继续发送；发完请回复“好了”。"
    return done + "\n" + prompt(ctx, draft)


def summary(ctx, draft, title="请核对您的投诉："):
    values = draft.values
    category = category_by(ctx.config, values["category"])
    lines = [title, f"类别：{category['name']}"]
    if values.get("officer"):
        officer = Officer.get_or_none(Officer.id == values["officer"])
        lines.append(f"被投诉人：{officer.name}（{officer.cert_no}）" if officer else "被投诉人：不清楚")
    content = values.get("content", "")
    lines.append("经过：" + ((content if len(content) <= 200 else content[:199] + "…") or "未填写"))
    if values.get("trip_ended_on"):
        lines.append(f"行程结束：{values['trip_ended_on']}")
    lines.append("地点：" + (values.get("location") or ("已发送位置" if values.get("lat") else "未填写")))
    evidence = Evidence.pending(submitter_of(ctx))
    lines.append(f"证据：{len(evidence)}件" if evidence else "证据：无")
    lines.append("联系方式：" + (values.get("contact") or ("匿名" if "contact" in values or draft.step == "confirm"
                                                         else "未填写")))
    return "\n".join(lines)


def submit(ctx, draft):
    values = draft.values
    officer = Officer.get_or_none(Officer.id == values["officer"]) if values.get("officer") else None
    try:
        complaint = Complaint.file(
            ctx.config, ctx.now, category=values["category"], content=values.get("content", ""),
            officer=officer, location=values.get("location", ""), lat=values.get("lat"), lng=values.get("lng"),
            contact=values.get("contact", ""), openid=ctx.openid, submitter=submitter_of(ctx),
            evidence=Evidence.pending(submitter_of(ctx)),
            trip_ended_on=dt.date.fromisoformat(values["trip_ended_on"]) if values.get("trip_ended_on") else None)
    except DailyLimitReached as exc:
        draft.discard()
        return str(exc)
    except ComplaintError as exc:
        return f"{exc}\n" + prompt(ctx, draft)
    draft.delete_instance()
    ctx.push_after_reply = True  # staff hear of it at once (notices/outbox.py)
    return filed_text(complaint)


def filed_text(complaint):
    guess = "（期限按周一至周五估算，国家节假日安排公布后会重新计算）" if complaint.accept_due_provisional else ""
    return (f"提交成功！投诉编号：{complaint.ticket}\n"
            f"我们将在{complaint.accept_due:%Y年%m月%d日}前决定是否受理{guess}，并在这里告诉您。\n"
            f"回复“查询 {complaint.ticket}”可查看进度。")


ONE_MESSAGE_LABELS = re.compile(r"(地点|地址|位置|联系方式|联系电话|联系人|联系|电话)[:：]")


def file_in_one_message(ctx, text):
    """`投诉 [类别] 经过… 地点：… 联系：…` — the whole complaint in one message: what was understood is
    shown, what is missing (the place, a contact or 匿名) asked for, and nothing is filed before “提交”."""
    parts = ONE_MESSAGE_LABELS.split(text)
    content, values = parts[0].strip(), {"quick": True}
    for label, value in zip(parts[1::2], parts[2::2]):
        value = value.strip(" ，,；;")
        if label in ("地点", "地址", "位置"):
            values["location"] = value[:500]
        else:
            values["contact"] = "" if plain(value) in ANONYMOUS_WORDS else value[:200]
    first, _, rest = content.partition(" ")
    category = category_by(ctx.config, plain(first))
    if category is not None and rest.strip():
        content = rest.strip()
    else:
        category = guess_category(ctx, content)
    values["category"] = category["code"]
    if category.get("officer"):
        cert = re.search(r"\d{6,}", content)
        officer = Officer.by_cert_no(cert.group()) if cert else None
        values["officer"] = officer.id if officer else None
    if len(plain(content)) >= 5:
        values["content"] = content[:2000]
    draft = ComplaintDraft.begin(ctx.openid, next_step(ctx, values, "confirm"), values, ctx.now)
    if draft.step == "confirm":
        return prompt(ctx, draft)
    return summary(ctx, draft, title="已记下您的投诉（还没有提交）：") + "\n\n还需要：" + prompt(ctx, draft)


def next_step(ctx, values, usual):
    """After a step of a one-message complaint, the first part still missing (else 核对); otherwise `usual`."""
    if not values.get("quick"):
        return usual
    if not values.get("content"):
        return "content"
    if rules_of(ctx.config, values["category"]).get("filing_limit") and "trip_ended_on" not in values:
        return "trip"
    if not values.get("location") and not values.get("lat") and not values.get("location_skipped"):
        return "location"
    if "contact" not in values:
        return "contact"
    return "confirm"


def guess_category(ctx, content):
    hints = {"netbar": ("网吧", "上网"), "entertainment": ("KTV", "歌厅", "娱乐", "游戏厅", "酒吧"),
             "performance": ("演出", "假唱", "演唱会"), "travel_agency": ("旅行社", "旅游团", "购物"),
             "guide": ("导游",), "publication": ("书", "出版", "音像")}
    for code, words in hints.items():
        if any(w.lower() in content.lower() for w in words) and category_by(ctx.config, code):
            return category_by(ctx.config, code)
    return category_by(ctx.config, "other") or settings(ctx)["categories"][-1]


# -- complainants: progress and rating --------------------------------------------------------
@router.keyword("查询", "投诉查询", "我的投诉", "进度")
@router.click("COMPLAINT_QUERY")
@router.intent("progress")  # "查进度", "我的投诉怎么样了"
def query(ctx, arg=""):
    """`查询 编号`: status and answer, only for the openid that filed it; `查询` lists one's own."""
    match = TICKET_RE.search(arg or "")
    if arg and not match:
        return router.fallback(ctx, normalize(ctx.message.content)) if router.fallback else None
    if not match:
        mine = list(Complaint.select().where(Complaint.openid == ctx.openid)
                    .order_by(Complaint.created_at.desc()).limit(5))
        if not mine:
            return "您还没有通过本公众号提交过投诉。回复“投诉”可以在线投诉。"
        lines = [f"{c.ticket}　{c.category}　{c.status}" for c in mine]
        return "您最近的投诉：\n" + "\n".join(lines) + "\n回复“查询 编号”查看详情。"
    complaint = Complaint.by_ticket(match.group())
    if complaint is None or complaint.openid != ctx.openid:
        return "没有找到这个编号的投诉，或它不是用本微信提交的。网上提交的投诉请在网页上用编号和查询码查询。"
    return status_text(complaint, ctx.config)


def status_text(complaint, config):
    lines = [f"投诉编号：{complaint.ticket}", f"类别：{complaint.category}", f"状态：{complaint.status}",
             f"提交时间：{complaint.created_at:%Y-%m-%d %H:%M}"]
    due = complaint.current_due()
    if due:
        lines.append(f"办理期限：{due:%Y年%m月%d日}" + ("（估算）" if complaint.due_is_provisional() else "")
                     + f"（{complaint.due_basis(config)}）")
    if complaint.status_reason:
        lines.append(f"不予受理理由：{complaint.status_reason}")
    if complaint.answer:
        lines.append(f"答复：{complaint.answer[:400]}")
    if complaint.status == CLOSED and not complaint.satisfaction:
        lines.append(f"欢迎评价：回复“评价 {complaint.ticket} 满意”（或基本满意、不满意）。")
    elif complaint.satisfaction:
        lines.append(f"您的评价：{complaint.satisfaction}")
    return "\n".join(lines)


@router.keyword("评价")
def rate(ctx, arg=""):
    match = TICKET_RE.search(arg or "")
    complaint = Complaint.by_ticket(match.group()) if match else None
    if complaint is None or complaint.openid != ctx.openid:
        return "请回复“评价 编号 满意”（或基本满意、不满意），编号见办结通知。"
    satisfaction = plain(arg[match.end():])
    try:
        complaint.rate(ctx.now, ctx.config, satisfaction)
    except ComplaintError as exc:
        return str(exc)
    return "感谢您的评价！我们会继续改进工作。"


# -- staff commands (handlers/wechat/staff.py lets only staff reach them) ----------------------
SECTION = "投诉"


def ticket_and_rest(rest):
    ticket, more = (rest.split(None, 1) + ["", ""])[:2]
    ticket = plain(ticket)
    complaint = Complaint.by_ticket(ticket)
    if complaint is None:
        raise ComplaintError(f"没有找到编号为“{ticket[:20]}”的投诉，请核对。")
    return complaint, more.strip()


# Said when a citizen's notice was queued: WeChat has not accepted it yet (it is sent after this reply),
# so nobody is told it was sent. "#查看" shows 已发送 once it was.
TELLING = "正在通知投诉人，送达情况回复“#查看 {ticket}”可见。"


@router.staff("待办", "#待办　待办投诉（按期限排序）", SECTION)
@read_only
def cmd_todo(ctx, staff, rest):
    # A 法制审核员 has no complaints to handle, but the reviews' own limit (cases.todo) is theirs.
    shown = complaint_settings(ctx.config)["todo_max_items"]
    todo = Complaint.todo(staff, limit=shown) if staff.may("complaint.list") else []
    total = Complaint.todo_count(staff) if len(todo) == shown else len(todo)
    limits, limit_count = cases.todo(ctx.config, staff, ctx.now.date(), first=shown)
    failed = [failed_block(row) for row in Outbox.failed()] if staff.may("outbox.view") else []
    if not todo and not limits and not failed:
        return "目前没有待办投诉，也没有在办案件的期限。"
    title = f"待办投诉{total}件、案件期限{limit_count}项（按期限排序）："
    if total > len(todo) or limit_count > len(limits):
        title += f"\n各列期限最近的{shown}项；全部投诉请在电脑上运行“bot.py complaints list --staff 您的姓名”，案件请用“#案件”查看。"
    if failed:
        title = f"发送失败的通知{len(failed)}条（请重发或电话告知），" + title
    return Paged(title, failed + [todo_block(ctx, c) for c in todo] + [case_limit_block(*row) for row in limits])


def failed_block(row):
    """A message WeChat never accepted (models/outbox.py): who it was for, what, why, how to retry."""
    who = f"群发{len(row.recipients)}人" if row.kind == "mass" else (row.openid[:6] + "…")
    text = row.text if len(row.text) <= 30 else row.text[:29] + "…"
    return f"【发送失败】第{row.id}条　{row.key.split(':')[0]}　{who}\n{text}\n{row.describe()}"


@router.staff("重发", "#重发 编号　重发发送失败的通知（见#待办）", SECTION)
def cmd_resend(ctx, staff, rest):
    authorize(staff, "outbox.retry")
    number = plain(rest)
    row = Outbox.get_or_none(Outbox.id == int(number)) if number.isdigit() and len(number) < 10 else None
    if row is None or row.status != "发送失败":
        raise ComplaintError("请回复“#重发 编号”，编号见“#待办”中的【发送失败】。")
    row.retry(ctx.now, ctx.config)
    ctx.push_after_reply = True
    return f"第{row.id}条通知已重新排队发送，送达情况回复“#待办”或“#查看”可见。"


def notices_line(complaint):
    """What the complainant was told, as WeChat answered: 已发送 only once it accepted (models/outbox.py)."""
    rows = [row for row in Outbox.with_key_prefix(f"status:{complaint.ticket}:")]
    if not rows:
        return ""
    return "通知投诉人：" + "；".join(row.describe() for row in rows[-3:])


def case_limit_block(case, limit, left):
    """A case's running limit (models/cases.py `deadlines`): 90 days, 先行登记保存, 查封扣押, review."""
    when = f"已超期{-left}个工作日" if left < 0 else f"剩{left}个工作日"
    return f"案件 {case.number}　{case.recorded_party_name}\n{limit.name}：{limit.due:%m月%d日}（{when}，{limit.source}）"


def todo_block(ctx, complaint):
    left = complaint.workdays_left(ctx.config, ctx.now.date())
    when = ""
    if left is not None:
        due = complaint.current_due()
        when = f"　期限{due:%m月%d日}" + (f"（已超期{-left}个工作日）" if left < 0 else f"（剩{left}个工作日）")
    content = complaint.content if len(complaint.content) <= 40 else complaint.content[:39] + "…"
    late = "【超过投诉时效】" if complaint.filed_late(ctx.config) else ""
    return f"{complaint.ticket}　{complaint.category}　{complaint.status}{when}{late}\n{content}"


@router.staff("查看", "#查看 编号　详情和办理记录", SECTION)
@read_only
def cmd_view(ctx, staff, rest):
    complaint, _ = ticket_and_rest(rest)
    complaint.check_may(staff, "view")
    lines = [f"{complaint.ticket}　{complaint.category}　{complaint.status}",
             f"提交：{complaint.created_at:%Y-%m-%d %H:%M}（{complaint.source}）"]
    if complaint.officer_id:
        lines.append(f"被投诉人：{complaint.officer_label()}")
    if complaint.trip_ended_on:
        late = complaint.filed_late(ctx.config)
        lines.append(f"行程结束：{complaint.trip_ended_on}" + (f"（{late}）" if late else ""))
    lines += [f"经过：{complaint.content[:300]}", f"地点：{complaint.location or '未填写'}",
              f"证据：{complaint.evidence.count()}件", f"联系方式：{complaint.masked_contact()}"]
    if complaint.assignee_id:
        lines.append(f"承办人：{complaint.assignee.name}")
    lines.append("办理记录：" + "；".join(f"{e.at:%m-%d %H:%M} {e.actor} {e.action_name}"
                                       for e in complaint.events()[-6:]))
    notices = notices_line(complaint)
    if notices:
        lines.append(notices)
    return "\n".join(lines)


@router.staff("受理", "#受理 编号", SECTION)
def cmd_accept(ctx, staff, rest):
    complaint, _ = ticket_and_rest(rest)
    complaint.accept(staff, ctx.now, ctx.config)
    ctx.push_after_reply = True
    steps = complaint.next_steps(staff, ("assign", "answer"))
    told = TELLING.format(ticket=complaint.ticket) if complaint.openid else ""
    return f"已受理 {complaint.ticket}，答复期限{complaint.answer_due:%Y年%m月%d日}。{told}" + (f"下一步：{steps}。" if steps else "")


@router.staff("不予受理", "#不予受理 编号 理由", SECTION)
def cmd_reject(ctx, staff, rest):
    complaint, reason = ticket_and_rest(rest)
    complaint.reject(staff, ctx.now, ctx.config, reason)
    ctx.push_after_reply = True
    return f"已对 {complaint.ticket} 作出不予受理。" + (TELLING.format(ticket=complaint.ticket) if complaint.openid else "")


@router.staff("转办", "#转办 编号 证号　交执法人员承办", SECTION)
def cmd_assign(ctx, staff, rest):
    complaint, cert_no = ticket_and_rest(rest)
    officer = Officer.by_cert_no(cert_no)
    complaint.assign(staff, ctx.now, ctx.config, officer)
    ctx.push_after_reply = True
    return f"已将 {complaint.ticket} 转{officer.name}（{officer.cert_no}）办理。"


@router.staff("答复", "#答复 编号 内容", SECTION)
def cmd_answer(ctx, staff, rest):
    complaint, text = ticket_and_rest(rest)
    complaint.reply(staff, ctx.now, ctx.config, text)
    ctx.push_after_reply = True
    steps = complaint.next_steps(staff, ("close",))
    return (f"已答复 {complaint.ticket}。" + (TELLING.format(ticket=complaint.ticket) if complaint.openid else "")
            + (f"下一步：{steps}。" if steps else "受理员将办结并回访。"))


@router.staff("办结", "#办结 编号", SECTION)
def cmd_close(ctx, staff, rest):
    complaint, _ = ticket_and_rest(rest)
    complaint.close(staff, ctx.now, ctx.config)
    ctx.push_after_reply = True
    return f"{complaint.ticket} 已办结。" + (TELLING.format(ticket=complaint.ticket) if complaint.openid else "")


@router.staff("回访", "#回访 编号 满意|基本满意|不满意", SECTION)
def cmd_visit(ctx, staff, rest):
    complaint, more = ticket_and_rest(rest)
    satisfaction, _, note = more.partition(" ")
    satisfaction = plain(satisfaction)
    complaint.rate(ctx.now, ctx.config, satisfaction, staff=staff, note=note)
    return f"已记录 {complaint.ticket} 的回访：{satisfaction}。"
