"""法制审核 in the chat: `#审核` for a 法制审核员, `#审核情况` for anyone on the case list.

Every write goes through models/cases.py (`record_step`), like `python bot.py review …`: only a
法制审核员 who does not handle the case records a review, each point of the checklist is answered,
and a decision on a major case is refused without a passed review whichever channel asks.

    #审核 2026-3 通过 其余符合=是 审核意见=事实清楚，证据确凿
    #审核 2026-3 退回补充 不符合=证据确凿充分 其余符合=是 补充内容=补充询问笔录 审核意见=…
    #审核情况 2026-3
"""
from handlers.wechat.cases import Refused, acting_officer, find_case, fold, moment, parse_fields, raw_rest, refusal
from handlers.wechat.router import router
from models import cases, review
from models.staff import authorize

SECTION = "法制审核（重大执法决定）"
EXTRA = {"不符合": "failing", "其余符合": "rest_pass", "逐项": "rest_pass", "补充内容": "supplement", "审核意见": "opinion",
         "意见": "opinion"}


def answer_points(config, failing, rest_pass):
    """Each point's answer: the named ones fail, the rest pass only when the reviewer says so."""
    names = [p["name"] for p in config["review"]["points"]]
    unknown = [f for f in failing if f not in names]
    if unknown:
        raise Refused(f"没有审核事项“{unknown[0][:20]}”。审核事项：{'、'.join(names)}。")
    if not rest_pass and len(failing) < len(names):
        raise Refused(f"请逐项审核：写 其余符合=是 确认未列为不符合的事项均符合。审核事项：{'、'.join(names)}。")
    return {p["name"]: (not p["pass"]) if p["name"] in failing else p["pass"] for p in config["review"]["points"]}


@router.staff("审核", "#审核 案号 通过/退回补充/不同意 其余符合=是 不符合=事项,… 补充内容=… 审核意见=…", SECTION)
@refusal("未记录审核：")
def cmd_review(ctx, staff, rest):
    """`#审核 案号 结论 …`: the reviewer's opinion on the pending submission."""
    parts = raw_rest(ctx, "审核", rest).split(maxsplit=2)
    if len(parts) < 2:
        raise Refused("请写成 #审核 案号 通过 其余符合=是 审核意见=…")
    case = find_case(fold(parts[0]))
    result = fold(parts[1])
    fields = parse_fields(parts[2] if len(parts) > 2 else "", "审核", extra=tuple(EXTRA))
    fields = {EXTRA.get(k, k): v for k, v in fields.items()}
    failing = [f for f in fold(str(fields.pop("failing", ""))).replace("，", ",").replace("、", ",").split(",") if f]
    rest_pass = fold(str(fields.pop("rest_pass", ""))) in ("是", "全部符合", "符合")
    data = {"result": result, "points": answer_points(ctx.config, failing, rest_pass), **fields}
    entry = cases.record_step(ctx.config, case.number, "审核", data, by=acting_officer(staff), at=moment(ctx),
                              actor=staff)
    return f"已记录审核：{case.number}，结论“{result}”（第{entry.seq}条）。承办人员可用 #审核情况 案号 查看。"


@router.staff("审核情况", "#审核情况 案号　是否重大、审核结论、期限", SECTION)
@refusal("")
def cmd_status(ctx, staff, rest):
    """`#审核情况 案号`: the catalogue's verdict, the review's state and the running limits."""
    authorize(staff, "case.list")
    case = find_case(fold(rest.split()[0]) if rest else "")
    file = case.file()
    verdict = review.majority_of(ctx.config, file)
    passed, missing = review.review_status(ctx.config, file)
    lines = [case.number, verdict.explain(), "审核：" + ("已通过" if passed else missing)]
    _, proposal = review.last(file, "拟决定")
    if proposal and proposal.get("discretion_flag"):
        lines.append(f"裁量提示：{proposal['discretion_flag']}")
    for limit in cases.deadlines(ctx.config, file):
        lines.append(f"期限：{limit.name} {limit.due}（{limit.source}）")
    return "\n".join(lines)
