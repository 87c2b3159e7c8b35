"""双随机、一公开 on the command line: pools, plans, the committed draw and its check, outcomes.

    python bot.py draw target add|list|remove|import|export …      抽查对象名录库
    python bot.py draw conflict add|list|remove …                   回避
    python bot.py draw inspectors [--on DATE]                       执法检查人员名录库 (officers valid that day)
    python bot.py draw plan NAME --item … [--ratio 网吧=50] [--risk-ratio 100] --from … --to … --by …
    python bot.py draw commit PLAN --public-value-source "…" --draw-on DATE --by …
    python bot.py draw reveal DRAW_ID "公布的数值" --by …
    python bot.py draw run PLAN|DRAW_ID --by …
    python bot.py draw verify DRAW_ID [--files FOLDER]
    python bot.py draw results [DRAW_ID] | outcome DRAW_ID USCC --result … --ended DATE --by …
    python bot.py draw files DRAW_ID FOLDER                         the published files, as on the page
"""
import datetime as dt
import json
from pathlib import Path

import click
from flask.cli import AppGroup

from handlers.cli.common import exit_import_refused, open_db, refuse
from models import draw_rule, draws
from models.catalogue import ImportRefused
from models.ledger import now

BY_HELP = "经办人：工作人员名单上的姓名（负责人），或执法证号"


@click.group("draw", cls=AppGroup)
def draw_group():
    """双随机、一公开: random inspections, committed before and checkable by anyone after."""


def _staff(who):
    staff = draws.staff_for(who)
    if staff is None:
        refuse(f"“{who}”不在工作人员名单上，也不是执法证号。请用 python bot.py staff add 登记。")
    return staff


def _draw_of(ref):
    """A draw by its number, or the latest draw of a plan by the plan's name."""
    ref = (ref or "").strip()
    if draws.draw_by_id(ref) is not None:
        return draws.get_draw(ref)
    return draws.latest_of_plan(ref)


# -- pools ------------------------------------------------------------------------------------------

@draw_group.group("target", cls=AppGroup)
def target_group():
    """抽查对象名录库: market entities that may be drawn."""


@target_group.command("add")
@click.option("--uscc", required=True, help="统一社会信用代码（18位）")
@click.option("--name", required=True, help="名称")
@click.option("--category", required=True, help="类别，如 网吧、娱乐场所、旅行社")
@click.option("--address", default="", help="地址")
@click.option("--risk", "risk_flags", default="", help="风险标记，如 有违法记录、被投诉（以、分隔）")
def target_add(**values):
    """Add one target (checked like an Excel row)."""
    config = open_db()
    try:
        draws.add_target(config, **values)
    except draws.DrawError as exc:
        refuse(exc)
    click.echo(f"已加入对象库：{values['name']}（{values['uscc'].strip().upper()}）")


@target_group.command("list")
@click.option("--category", default="", help="只列这一类")
def target_list(category):
    """The active targets, by category."""
    open_db()
    query = draws.DrawTarget.select().where(draws.DrawTarget.active == 1)
    if category:
        query = query.where(draws.DrawTarget.category == category)
    rows = list(query.order_by(draws.DrawTarget.category, draws.DrawTarget.uscc))
    for t in rows:
        click.echo(f"{t.category}\t{t.uscc}\t{t.name}\t{t.address}" + (f"\t风险：{t.risk_flags}" if t.risky else ""))
    click.echo(f"共{len(rows)}个对象。")


@target_group.command("remove")
@click.argument("uscc")
def target_remove(uscc):
    """Take a target out of the pool (closed, moved away); past draws keep it."""
    open_db()
    try:
        target = draws.deactivate_target(uscc)
    except draws.DrawError as exc:
        refuse(exc)
    click.echo(f"已移出对象库：{target.name}（以往抽取记录不受影响）")


@target_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def target_import(path):
    """Import targets from .xlsx (统一社会信用代码, 名称, 类别, 地址, 风险标记); nothing if any row is bad."""
    config = open_db()
    try:
        created, updated = draws.import_targets(config, draws.read_target_rows(path))
    except ImportRefused as refused:
        exit_import_refused(refused)
    click.echo(f"导入完成：新增{created}个对象，更新{updated}个。")


@target_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
def target_export(path):
    """Write the pool to .xlsx (a template for import)."""
    open_db()
    click.echo(f"已导出{draws.write_targets(path)}个对象到 {path}")


@draw_group.group("conflict", cls=AppGroup)
def conflict_group():
    """回避: an inspector who may not inspect a target."""


@conflict_group.command("add")
@click.argument("cert_no")
@click.argument("uscc")
@click.option("--reason", required=True, help="回避理由，如 近亲属在该单位任职")
@click.option("--by", "who", required=True, help=BY_HELP)
def conflict_add(cert_no, uscc, reason, who):
    """Record that inspector CERT_NO stays out of target USCC."""
    open_db()
    staff = _staff(who)
    try:
        draws.require(staff, "draw.manage")
        conflict = draws.add_conflict(cert_no, uscc, reason, staff.label)
    except draws.DrawError as exc:
        refuse(exc)
    click.echo(f"已登记回避：{conflict.cert_no} 不参与检查 {conflict.uscc}（{conflict.reason}）")


@conflict_group.command("list")
def conflict_list():
    open_db()
    rows = list(draws.DrawConflict.select().order_by(draws.DrawConflict.cert_no, draws.DrawConflict.uscc))
    for c in rows:
        click.echo(f"{c.cert_no}\t{c.uscc}\t{c.reason}\t{c.recorded_by} {c.recorded_at:%Y-%m-%d}")
    click.echo(f"共{len(rows)}条回避。")


@conflict_group.command("remove")
@click.argument("cert_no")
@click.argument("uscc")
@click.option("--by", "who", required=True, help=BY_HELP)
def conflict_remove(cert_no, uscc, who):
    """Remove a conflict (draws already committed keep the one they froze)."""
    open_db()
    try:
        staff = _staff(who)
        draws.require(staff, "draw.manage")
        draws.remove_conflict(cert_no, uscc, staff.label)
    except draws.DrawError as exc:
        refuse(exc)
    click.echo("已删除该回避记录。")


@draw_group.command("inspectors")
@click.option("--on", "day", default="", help="日期 YYYY-MM-DD（默认今天）")
def inspectors(day):
    """执法检查人员名录库: officers whose certificate is valid on that day."""
    open_db()
    try:
        on = dt.date.fromisoformat(day) if day else now().date()
    except ValueError:
        refuse(f"“{day}”不是有效日期，应如 2026-12-02")
    rows = draws.eligible_inspectors(on)
    for o in rows:
        click.echo(f"{o.cert_no}\t{o.name}\t有效期至{o.valid_to}")
    click.echo(f"{on} 可派执法人员共{len(rows)}人。")


# -- plans and draws ------------------------------------------------------------------------------

@draw_group.command("plan")
@click.argument("name")
@click.option("--item", "items", multiple=True, required=True, help="随机抽查事项名称（可多次）")
@click.option("--ratio", "ratios", multiple=True, help="类别=百分比，如 网吧=50（可多次；不写用默认比例）")
@click.option("--risk-ratio", default=None, help="有风险标记的对象的抽查比例（百分比）")
@click.option("--inspectors", default=None, type=int, help="每个对象的执法人员数（至少2）")
@click.option("--from", "start", required=True, help="检查期间起 YYYY-MM-DD")
@click.option("--to", "end", required=True, help="检查期间止 YYYY-MM-DD")
@click.option("--by", "who", required=True, help=BY_HELP)
def plan_command(name, items, ratios, risk_ratio, inspectors, start, end, who):
    """Make a plan: items of the 随机抽查事项清单, ratios per category, the period."""
    config = open_db()
    parsed = {}
    for text in ratios:
        category, sep, value = text.partition("=")
        if not sep:
            refuse(f"比例“{text}”应写成 类别=百分比，如 网吧=50")
        parsed[category.strip()] = value
    try:
        plan = draws.create_plan(config, _staff(who), name=name, items=items, ratios=parsed, risk_ratio=risk_ratio,
                                 inspectors=inspectors, start=start, end=end)
    except draws.DrawError as exc:
        refuse(exc)
    doc = plan.document()
    click.echo(f"已制定计划“{plan.name}”：{'、'.join(f'{c}{p}%' for c, p in doc['ratios'].items())}"
               + (f"，有风险标记的对象{plan.risk_ratio}%" if plan.risk_ratio else "")
               + f"，每个对象{plan.inspectors_per_target}名执法人员，{plan.period_start}至{plan.period_end}。"
               f"下一步：python bot.py draw commit “{plan.name}” --public-value-source … --draw-on …")


@draw_group.command("commit")
@click.argument("plan")
@click.option("--public-value-source", required=True,
              help="尚未公布的公开数值，如 “中国福利彩票双色球2026140期开奖号码”")
@click.option("--draw-on", required=True, help="该数值公布的日期 YYYY-MM-DD（执法证按这一天核对）")
@click.option("--by", "who", required=True, help=BY_HELP)
def commit_command(plan, public_value_source, draw_on, who):
    """Freeze the pools and the plan and publish the commitment (before the public value exists)."""
    config = open_db()
    try:
        draw = draws.commit(config, plan, _staff(who), public_value_source=public_value_source, draw_on=draw_on)
    except draws.DrawError as exc:
        refuse(exc)
    click.echo(f"第{draw.id}号抽取已承诺并公示。承诺值：{draw.commitment}\n"
               f"请在{draw.draw_on}“{draw.public_value_source}”公布后运行：python bot.py draw reveal {draw.id} \"数值\" --by …")


@draw_group.command("reveal")
@click.argument("draw_ref")
@click.argument("public_value")
@click.option("--by", "who", required=True, help=BY_HELP)
def reveal_command(draw_ref, public_value, who):
    """Enter the public value named in the commitment, once it is published."""
    config = open_db()
    try:
        draw = draws.reveal(config, _draw_of(draw_ref).id, _staff(who), public_value)
    except draws.DrawError as exc:
        refuse(exc)
    click.echo(f"已录入公开数值“{draw.public_value}”，种子：{draw.seed}\n下一步：python bot.py draw run {draw.id} --by …")


@draw_group.command("run")
@click.argument("draw_ref")
@click.option("--by", "who", required=True, help=BY_HELP)
def run_command(draw_ref, who):
    """Draw (the plan's latest draw, or DRAW_ID) and publish the seed, pools and result."""
    config = open_db()
    try:
        draw = draws.run(config, _draw_of(draw_ref).id, _staff(who))
    except draws.DrawError as exc:
        refuse(exc)
    _print_result(config, draw)


@draw_group.command("verify")
@click.argument("draw_ref")
@click.option("--files", "folder", default=None, type=click.Path(file_okay=False, exists=True),
              help="核验下载的文件（文件夹），而不是数据库中的")
@click.option("--commitment", default=None, help="事先公布并自行保存的承诺值")
def verify_command(draw_ref, folder, commitment):
    """Recompute the draw from the published files; exit 1 if anything does not match."""
    open_db()
    try:
        draw = _draw_of(draw_ref)
        if folder:
            try:
                lines = draw_rule.check(draw_rule.load_folder(folder), commitment or draw.commitment)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                lines = [(False, f"文件缺失或格式不对：{exc.__class__.__name__} {exc}")]
        else:
            lines = draws.verify(draw.id)
    except draws.DrawError as exc:
        refuse(exc)
    for ok, message in lines:
        click.echo(("OK   " if ok else "FAIL ") + message)
    if not all(ok for ok, _ in lines):
        refuse("核验未通过：见上面标 FAIL 的行。")
    click.echo(f"核验通过：第{draw.id}号抽取的结果由事先承诺的数据和规则得出。")


@draw_group.command("files")
@click.argument("draw_ref")
@click.argument("folder", type=click.Path(file_okay=False))
def files_command(draw_ref, folder):
    """Write the published files of a draw (as the public page offers them) into FOLDER."""
    open_db()
    try:
        draw = _draw_of(draw_ref)
    except draws.DrawError as exc:
        refuse(exc)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for name, document in draw.published_files().items():
        (out / f"{name}.json").write_bytes(draw_rule.canonical(document))
    (out / "verify_draw.py").write_text(Path(draw_rule.__file__).read_text(encoding="utf-8"), encoding="utf-8")
    click.echo(f"已写入 {out}：{'、'.join(sorted(draw.published_files()))} 和 verify_draw.py")


@draw_group.command("results")
@click.argument("draw_ref", required=False)
def results_command(draw_ref):
    """The result of a draw (default: the latest), outcomes so far and the publication due date."""
    config = open_db()
    try:
        draw = _draw_of(draw_ref) if draw_ref else (draws.Draw.latest_drawn() or None)
    except draws.DrawError as exc:
        refuse(exc)
    if draw is None:
        refuse("还没有完成的抽取。")
    if draw.status != draws.DRAWN:
        click.echo(f"第{draw.id}号抽取（{draw.plan.name}）{draw.status}，承诺值 {draw.commitment}")
        return
    _print_result(config, draw)


@draw_group.command("outcome")
@click.argument("draw_ref")
@click.argument("uscc")
@click.option("--result", required=True, help="检查结果，如 未发现问题；发现问题，已责令改正")
@click.option("--ended", required=True, help="检查日期 YYYY-MM-DD")
@click.option("--case", "case_no", default="", help="立案查处的案号（如有）")
@click.option("--by", "who", required=True, help="被派检查的执法人员证号，或负责人姓名")
def outcome_command(draw_ref, uscc, result, ended, case_no, who):
    """Record the outcome of one drawn target's inspection (written to the case file, then public)."""
    config = open_db()
    try:
        draw = _draw_of(draw_ref)
        entry = draws.record_outcome(config, draw.id, uscc, _staff(who), result=result, ended_on=ended,
                                     case_no=case_no)
    except draws.DrawError as exc:
        refuse(exc)
    due = draw.publication_due(config)
    click.echo(f"已登记（记录库第{entry.seq}条）。结果应于{due.due}前公开" + ("（估算）" if due.provisional else "") + "。")


@draw_group.command("list")
def list_command():
    """Plans and their draws, newest first."""
    open_db()
    for plan in draws.DrawPlan.select().order_by(draws.DrawPlan.id.desc()):
        found = list(plan.draws)
        state = "；".join(f"第{d.id}号抽取 {d.status}（抽取日期{d.draw_on}）" for d in found) or "尚未承诺"
        click.echo(f"{plan.name}：{plan.period_start}至{plan.period_end}，{state}")


def _print_result(config, draw):
    result, found = draw.result_document(), draws.outcomes(draw)
    due = draw.publication_due(config)
    click.echo(f"第{draw.id}号抽取（{draw.plan.name}），种子 {draw.seed}")
    for s in result["strata"]:
        risk = "" if s["risk"] is None else ("（有风险标记）" if s["risk"] else "（无风险标记）")
        click.echo(f"  {s['category']}{risk}：{s['pool']}个中抽取{s['ratio']}%，{s['drawn']}个")
    for t in result["selected"]:
        outcome = found.get(t["uscc"])
        who = "、".join(t["inspectors"]) or "未能派员"
        click.echo(f"  {t['category']}\t{t['uscc']}\t{t['name']}\t{who}"
                   + (f"\t{outcome['ended_on']} {outcome['result']}" if outcome else ""))
    for t in result["unassigned"]:
        click.echo(f"  须另行安排：{t['name']}（{t['uscc']}）{t['reason']}")
    click.echo(f"检查结束后{config['draws']['publish_within_working_days']}个工作日内公开，即{due.due}前"
               + ("（估算）" if due.provisional else "") + "。")
    for cert, name, verdict in draws.unavailable_now(draw, now().date()):
        click.echo(f"注意：{name}（{cert}）的执法证目前{verdict}，不能派出执法，请另行安排并登记。")
    click.echo(json.dumps({"draw": draw.id, "result_sha256": draw_rule.digest(result)}, ensure_ascii=False))
