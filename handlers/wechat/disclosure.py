"""公众查询 — the public questions: who may enforce what, on which basis, how, and where to complain."""
from urllib.parse import quote

from handlers.wechat.cache import cached_answer
from handlers.wechat.paging import Paged
from handlers.wechat.router import plain, read_only, router
from models import Bureau, EnforcementItem, FlowStep, InspectionItem, Officer, laws

HELP_TEXT = (
    "您好！这里是奈曼旗文化和旅游局行政执法公示平台。您可以回复：\n"
    "“执法主体”：本局职责、权限、地址和电话\n"
    "“执法人员”：执法人员及证件；“执法人员 姓名或证号”可查询\n"
    "“核验 证号或姓名”：核验执法证是否有效（也可扫执法证二维码）\n"
    "“执法事项”：行政执法事项清单\n"
    "“抽查事项”：随机抽查事项清单\n"
    "“流程”：各类执法流程\n"
    "“救济”：行政复议、行政诉讼的途径和期限\n"
    "“执法依据”：本局依据的法律法规及现行版本\n"
    "“公示”：已公开的处罚等执法决定；“公示 网吧”可搜索\n"
    "“投诉”：在线投诉举报（可匿名）；“投诉方式”：其他渠道\n"
    "也可以直接输入关键词查询执法事项，如“网吧”“旅行社”“假唱”。"
)
NOT_FOUND = "没有找到与“{text}”有关的执法事项。请换个关键词试试，如“网吧”“演出”“导游”；回复“帮助”查看可以查询的内容。"
NO_MORE_PAGES = "没有更多内容了。回复“帮助”查看可以查询的内容。"
ONLY_TEXT = "目前只能识别文字消息。请回复文字，如“执法事项”；回复“帮助”查看可以查询的内容。"


def page_link(ctx, path):
    return ctx.config["server"]["public_base_url"] + path


@router.keyword("帮助", "菜单", "help", "?")
@router.click("HELP")
@read_only
def help_menu(ctx, arg=""):
    return HELP_TEXT


@router.event("subscribe")
@read_only
def welcome(ctx):
    return "感谢关注！\n" + HELP_TEXT


@router.keyword("执法主体", "主体")
@router.click("SUBJECT")
@cached_answer
def subject(ctx, arg=""):
    bureau = Bureau.current()
    blocks = [
        f"法定依据：{bureau.legal_basis}",
        f"主要职责：{bureau.duties}",
        f"执法权限：{bureau.powers}",
        f"地址：{bureau.address}\n办公时间：{bureau.hours}\n电话：{bureau.phone}",
    ]
    return Paged(f"【执法主体】{bureau.name}", blocks, page_link(ctx, "/subject"))


def officer_block(officer, today):
    return (f"{officer.name}　证号：{officer.cert_no}\n执法领域：{officer.fields}\n"
            f"有效期：{officer.valid_from:%Y.%m.%d}-{officer.valid_to:%Y.%m.%d}　状态：{officer.verdict(today)}")


@router.keyword("执法人员", "人员")
@router.click("OFFICERS")
@cached_answer
def officers(ctx, arg=""):
    arg = plain(arg)
    found = Officer.search(arg)
    if arg and not found:
        return f"没有找到姓名或证号包含“{arg}”的执法人员。请核对后重试，或拨打本局电话核实。"
    title = f"【执法人员】“{arg}”的查询结果" if arg else f"【执法人员】共{len(found)}人"
    blocks = [officer_block(o, ctx.now.date()) for o in found]
    return Paged(title, blocks, page_link(ctx, "/officers" + (f"?q={quote(arg)}" if arg else "")))


def item_block(item):
    law = item.law
    version = f"（{law.version_label}{'' if law.verified else '；条文待核对'}）" if law else ""
    lines = [f"【{item.name}】", f"类别：{item.category}", f"依据：{item.basis}{version}",
             f"实施主体：{item.acting_body}；责任主体：{item.responsible_body}"]
    if item.penalty:
        lines.append(f"处罚：{item.penalty}")
    return "\n".join(lines)


@router.keyword("执法事项", "事项清单", "事项")
@router.click("ITEMS")
@cached_answer
def items(ctx, arg=""):
    arg = plain(arg)
    if arg:
        return search_items(ctx, arg)
    found = EnforcementItem.search("")
    # The whole list, one line per item (a search answers with the full entries): dozens of full
    # entries would run to twenty chat pages.
    blocks = [f"{i.code} {i.name}（{i.category}）\n依据：{i.basis}" for i in found]
    title = f"《行政执法事项清单》共{len(found)}项。回复事项名称中的词（如“网吧”）可看处罚幅度"
    return Paged(title, blocks, page_link(ctx, "/items"))


@cached_answer
def search_items(ctx, text):
    """Items whose entries contain every word of `text` (执法事项 网吧); free questions: handlers/wechat/answers.py."""
    found = EnforcementItem.search(text)
    if not found:
        return NOT_FOUND.format(text=text[:20])
    link = page_link(ctx, f"/items?q={quote(text)}")
    return Paged(f"与“{text}”有关的执法事项{len(found)}项：", [item_block(i) for i in found], link)


@router.keyword("抽查事项", "随机抽查", "双随机", "抽查")
@router.click("INSPECTIONS")
@cached_answer
def inspections(ctx, arg=""):
    blocks = [inspection_block(i) for i in InspectionItem.select().order_by(InspectionItem.seq)]
    return Paged("《随机抽查事项清单》", blocks, page_link(ctx, "/inspections"))


def inspection_block(i):
    return (f"【{i.name}】\n抽查主体：{i.subject}\n依据：{i.basis}\n对象：{i.target}\n内容：{i.content}\n"
            f"比例：{i.ratio}；方式：{i.method}；频次：{i.frequency}")


@router.keyword("执法流程", "流程")
@router.click("FLOWS")
@cached_answer
def flows(ctx, arg=""):
    arg = plain(arg)
    categories = FlowStep.categories()
    chosen = [c for c in categories if arg and arg in c] or categories
    steps = {}  # one query for all the steps, not one per category
    for step in FlowStep.select().where(FlowStep.category.in_(chosen)).order_by(FlowStep.seq):
        steps.setdefault(step.category, []).append(step)
    blocks = [flow_block(category, steps.get(category, [])) for category in chosen]
    title = "【执法流程】" + ("" if arg else "可回复“流程 行政处罚”等只看一类")
    return Paged(title, blocks, page_link(ctx, "/flows"))


def flow_block(category, steps=None):
    steps = FlowStep.flow(category) if steps is None else steps
    return f"◆{category}\n" + "\n".join(f"{s.seq}. {s.title}：{s.detail}" + (f"（{s.basis}）" if s.basis else "")
                                       for s in steps)


@router.keyword("执法依据", "法律依据", "法律法规")
@cached_answer
def legal_basis(ctx, arg=""):
    """执法依据 — the laws the bureau relies on, each with the version in force."""
    blocks = [f"《{law.name}》{law.kind}，{law.version_label}" for law in laws.catalogue().values()]
    return Paged("本局执法依据的法律法规（现行版本）：", blocks, page_link(ctx, "/basis"))


@router.keyword("救济渠道", "救济", "行政复议", "复议", "行政诉讼", "诉讼")
@router.click("REMEDY")
@read_only
def remedy(ctx, arg=""):
    blocks = [f"【{r['name']}】向{r['where']}提出，{r['limit']}。（{r['source']}）" for r in ctx.config["remedy"]]
    return Paged("对行政执法行为不服的，可以依法：", blocks, page_link(ctx, "/remedy"))


@router.keyword("投诉方式", "投诉渠道", "举报方式")  # "投诉"/"举报" start a complaint: handlers/complaints.py
@router.click("COMPLAINT_CHANNELS")
@read_only
def complaint_channels(ctx, arg=""):
    blocks = [f"{c['name']}：{c['detail']}" for c in ctx.config["complaint_channels"]]
    return Paged("投诉举报渠道（可匿名，我们为投诉人保密）：", blocks, page_link(ctx, "/remedy"))


@router.message("image", "voice", "video", "shortvideo", "location", "link")
@read_only
def non_text(ctx):
    return ONLY_TEXT
