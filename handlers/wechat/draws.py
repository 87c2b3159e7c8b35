"""抽查结果 — the latest published result of a 双随机 draw, in the chat; the page has the files and the checker."""
from handlers.wechat.cache import cached_answer
from handlers.wechat.paging import Paged
from handlers.wechat.router import router
from models import draws

NO_RESULTS = ("本局还没有公布双随机抽查结果。抽查计划和抽取前的承诺见：{link}\n"
              "回复“抽查事项”查看随机抽查事项清单。")


@router.keyword("抽查结果", "双随机结果")
@cached_answer
def draw_results(ctx, arg=""):
    base = ctx.config["server"]["public_base_url"]
    draw = draws.Draw.latest_drawn()
    if draw is None:
        return NO_RESULTS.format(link=f"{base}/draws/")
    result, found = draw.result_document(), draws.outcomes(draw)
    due = draw.publication_due(ctx.config)
    blocks = [f"抽取日期：{draw.draw_on}；公开数值：{draw.public_value_source} {draw.public_value}\n"
              f"检查期间：{draw.plan.period_start}至{draw.plan.period_end}；结果{due.due}前公开"
              + ("（估算）" if due.provisional else "")]
    for t in result["selected"]:
        outcome = found.get(t["uscc"])
        blocks.append(f"【{t['name']}】{t['category']}\n"
                      + (f"检查结果：{outcome['result']}（{outcome['ended_on']}）" if outcome else "检查结果：尚未检查"))
    blocks += [f"【{t['name']}】可派执法人员不足，另行安排" for t in result["unassigned"]]
    blocks.append("种子、对象名录和结果可在网页下载，任何人都能用核验脚本重算核对。")
    return Paged(f"第{draw.id}号双随机抽取（{draw.plan.name}）抽中{len(result['selected'])}个对象：", blocks,
                 f"{base}/draws/{draw.id}")
