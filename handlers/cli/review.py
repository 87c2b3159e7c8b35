"""重大执法决定法制审核 on the command line. Every write is a case-file step recorded through
models/cases.py (`record_step`), exactly as the `#审核` and `#记录` chat commands record it.

    python bot.py review propose NO --by CERT --report … --penalty … --fine 5000 --level 一般 --reasoning …
    python bot.py review submit NO --by CERT --material 立案审批表 --material 证据清单 …
    python bot.py review record NO --by CERT --result 通过 --rest-pass --opinion … [--fail 事项] [--supplement …]
    python bot.py review dissent NO --by CERT --reasons …
    python bot.py review discuss NO --by CERT --held-on 2026-11-20 --host … --participant … --opinions … --conclusion …
    python bot.py review status NO | catalogue | flowchart [--out 流程图.svg]
"""
import click
from flask.cli import AppGroup

from handlers.cli.common import open_db, refuse
from models import cases, ledger, review


def _record(config, number, step, data, by):
    try:
        entry = cases.record_step(config, number, step, data, by=by)
    except (cases.CaseError, ledger.LedgerError) as exc:
        refuse(f"未记录：{exc}")
    click.echo(f"已记录：{number} {step}（第{entry.seq}条，哈希 {entry.leaf_hash_hex}）")
    return entry


@click.group("review", cls=AppGroup)
def review_group():
    """法制审核: proposal, submission, the reviewer's opinion, dissent, collective discussion."""


@review_group.command("propose")
@click.argument("number")
@click.option("--by", required=True, help="承办人员执法证号")
@click.option("--report", required=True, help="调查终结报告（摘要）")
@click.option("--penalty", required=True, help="拟处罚内容，如 警告，罚款人民币5000元")
@click.option("--fine", "fine_yuan", type=int, default=0, help="罚款金额（元）")
@click.option("--confiscation", "confiscation_yuan", type=int, default=0, help="没收违法所得、非法财物（元）")
@click.option("--base", "base_yuan", type=int, default=None, help="违法所得或违法经营额（元）：按倍数罚款的事项核对裁量档次用")
@click.option("--level", required=True, type=click.Choice(review.LEVELS), help="裁量档次")
@click.option("--reasoning", required=True, help="裁量理由")
@click.option("--flag", "flags", multiple=True, help="目录所列情形：重大公共利益 / 重大社会影响 / 多个法律关系")
@click.option("--transfer", is_flag=True, help="涉嫌犯罪，需移送司法机关")
def propose_command(number, by, report, penalty, fine_yuan, confiscation_yuan, base_yuan, level, reasoning, flags,
                    transfer):
    """拟决定: the proposed decision; the catalogue says whether it is major."""
    config = open_db()
    data = {"report": report, "penalty": penalty, "fine_yuan": fine_yuan, "confiscation_yuan": confiscation_yuan,
            "level": level, "reasoning": reasoning, "flags": list(flags), "transfer": transfer}
    if base_yuan is not None:
        data["base_yuan"] = base_yuan
    entry = _record(config, number, "拟决定", data, by)
    stored = entry.content["data"]
    click.echo(review.classify(config, cases.get_case(number).recorded_party_kind, stored,
                               "听证" in cases.get_case(number).file().done()).explain())
    if stored.get("discretion_flag"):
        click.echo(f"裁量提示：{stored['discretion_flag']}")


@review_group.command("submit")
@click.argument("number")
@click.option("--by", required=True, help="承办人员执法证号")
@click.option("--material", "materials", multiple=True, help="送审材料名称（config.yaml review.materials）")
def submit_command(number, by, materials):
    """提请审核 with the required materials; a missing one is named."""
    config = open_db()
    entry = _record(config, number, "提请审核", {"materials": list(materials)}, by)
    click.echo(f"审核期限：{entry.content['data']['due_on']}")


@review_group.command("record")
@click.argument("number")
@click.option("--by", required=True, help="法制审核员执法证号")
@click.option("--result", required=True, type=click.Choice(review.OUTCOMES))
@click.option("--opinion", required=True, help="审核意见（不同意的写明理由）")
@click.option("--fail", "failing", multiple=True, help="不符合的审核事项（可多次）")
@click.option("--rest-pass", is_flag=True, help="确认未列为不符合的事项均符合")
@click.option("--supplement", default="", help="退回补充时须补充的材料或事项")
def record_command(number, by, result, opinion, failing, rest_pass, supplement):
    """审核: the reviewer answers each point and gives the outcome."""
    config = open_db()
    names = [p["name"] for p in config["review"]["points"]]
    unknown = [f for f in failing if f not in names]
    if unknown:
        refuse(f"未记录：没有审核事项“{unknown[0]}”。审核事项：{'、'.join(names)}。")
    if not rest_pass and len(set(failing)) < len(names):
        refuse(f"未记录：请逐项审核，用 --rest-pass 确认其余事项均符合。审核事项：{'、'.join(names)}。")
    points = {p["name"]: (not p["pass"]) if p["name"] in failing else p["pass"] for p in config["review"]["points"]}
    data = {"result": result, "points": points, "opinion": opinion}
    if supplement:
        data["supplement"] = supplement
    _record(config, number, "审核", data, by)


@review_group.command("dissent")
@click.argument("number")
@click.option("--by", required=True, help="承办人员执法证号")
@click.option("--reasons", required=True)
def dissent_command(number, by, reasons):
    """审核异议: the handler disagrees; the case goes to 集体讨论."""
    _record(open_db(), number, "审核异议", {"reasons": reasons}, by)


@review_group.command("discuss")
@click.argument("number")
@click.option("--by", required=True, help="负责人执法证号")
@click.option("--held-on", required=True)
@click.option("--host", required=True)
@click.option("--participant", "participants", multiple=True, required=True)
@click.option("--opinions", required=True)
@click.option("--conclusion", required=True)
def discuss_command(number, by, held_on, host, participants, opinions, conclusion):
    """集体讨论 (《行政处罚法》第五十七条第二款): participants, opinions, conclusion."""
    _record(open_db(), number, "集体讨论", {"held_on": held_on, "host": host, "participants": list(participants),
                                            "opinions": opinions, "conclusion": conclusion}, by)


@review_group.command("status")
@click.argument("number")
def status_command(number):
    """Whether the case is major and why, the review's state, the running limits."""
    config = open_db()
    try:
        file = cases.get_case(number).file()
    except cases.CaseError as exc:
        refuse(exc)
    click.echo(review.majority_of(config, file).explain())
    passed, missing = review.review_status(config, file)
    click.echo("法制审核：" + ("已通过" if passed else missing))
    for limit in cases.deadlines(config, file):
        click.echo(f"期限：{limit.name} {limit.due}（{limit.source}）")


@review_group.command("catalogue")
def catalogue_command():
    """The 重大执法决定目录 as configured, each rule with its source."""
    config = open_db()
    for rule in config["review"]["catalogue"]:
        click.echo(f"{rule['name']}（{rule['source']}）")


@review_group.command("flowchart")
@click.option("--out", type=click.Path(dir_okay=False), help="SVG file (needs Graphviz `dot`); without it, DOT.")
def flowchart_command(out):
    """《重大执法决定法制审核流程图》, drawn from the workflow the code enforces."""
    config = open_db()
    dot = review.flowchart_dot(config)
    if not out:
        click.echo(dot)
        return
    svg = review.flowchart_svg(config)
    if svg is None:
        refuse("未安装 Graphviz（Debian：apt-get install graphviz），可先不加 --out 输出 DOT 文本。")
    with open(out, "w", encoding="utf-8") as fh:
        fh.write(svg)
    click.echo(f"已生成：{out}")


@review_group.command("report")
@click.option("--from", "start", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--to", "end", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--xlsx", type=click.Path(dir_okay=False), help="Also write an Excel file.")
def report_command(start, end, xlsx):
    """法制审核统计 for a period: major decisions, outcomes, review times, overdue reviews."""
    config = open_db()
    report = review.review_report(config, start.date(), end.date())
    click.echo(f"{report.start}至{report.end}：作出决定{len(report.decisions)}件，其中重大执法决定{len(report.major_decisions)}件")
    click.echo("审核结论：" + "，".join(f"{k}{v}件" for k, v in report.outcomes.items()))
    if report.times:
        click.echo(f"审核用时：平均{report.average_days}个工作日，最长{report.longest_days}个工作日")
    click.echo(f"超期审核：{len(report.overdue)}件")
    for case_no, due, reviewed, late in report.overdue:
        click.echo(f"  {case_no} 期限{due} {'审核于' + reviewed if reviewed else '尚未审核'}，超期{late}个工作日")
    if xlsx:
        review.report_xlsx(report, xlsx)
        click.echo(f"已导出：{xlsx}")
