"""事后公开 on the command line: due dates, the staff preview, hand corrections, withholding and withdrawal.

    python bot.py mask FILE | -  [--party 当事人] [--person 姓名 …] [--spans]    check a text before publishing
    python bot.py due-date 2026-12-28 行政处罚                                     the publication due date
    python bot.py publication list [--status 待公开] | show N                      records; original beside masked
    python bot.py publication confirm|publish N --by …                             confirm / publish now
    python bot.py publication fix-mask N [--hide 文字] [--keep 文字] --reason … --by …
    python bot.py publication withhold N --reason … --by …                         不予公开 (minor, secrets, privacy)
    python bot.py publication withdraw N --revoked-on DATE --reason … --by …       撤回 with the public reason
    python bot.py publication severity N 严重 --reason … --by …                    display period
    python bot.py publication run                                                  one pass of the clock now
"""
import datetime as dt
import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from handlers.cli.common import open_db, refuse
from models import publication
from models.masking import mask
from models.publication import Disclosure, PublicationError
from notices.publication import publication_pass

# A decision text is a few pages; more than this is not a decision and is refused rather than read whole.
MAX_MASK_BYTES = 2_000_000
BY_HELP = "经办人：工作人员名单上的姓名（受理员或负责人）"


@click.command("mask")
@click.argument("source", type=click.File("rb"))
@click.option("--party", default=None, help="The penalised party (kept); guessed from 当事人：… when left out.")
@click.option("--person", "people", multiple=True, help="A name to reduce to 某某 wherever it appears (repeatable).")
@click.option("--keep", multiple=True, help="A fragment that must stay as written (repeatable).")
@click.option("--spans", is_flag=True, help="Also list what was masked and why (on stderr).")
def mask_command(source, party, people, keep, spans):
    """Print the de-identified text of FILE ('-' reads standard input), as it would be published."""
    raw = source.read(MAX_MASK_BYTES + 1)
    if len(raw) > MAX_MASK_BYTES:
        click.echo("文本过长（超过2MB），请分段检查。", err=True)
        sys.exit(1)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")  # files saved by Chinese Windows editors
        except UnicodeDecodeError:
            click.echo("无法识别文件编码，请另存为UTF-8后再试。", err=True)
            sys.exit(1)
    result = mask(text, party=party, people=people, keep=keep)
    click.echo(result.text, nl=not result.text.endswith("\n"))
    if spans:
        for span in result.spans:
            click.echo(f"{span.reason}\t{span.original}\t→ {span.replacement}", err=True)
        click.echo(f"共隐去{len(result.spans)}处。", err=True)


@click.command("due-date")
@with_appcontext
@click.argument("decided_on")
@click.argument("category", default="行政处罚")
def due_date_command(decided_on, category):
    """The publication due date of a decision made on DECIDED_ON (YYYY-MM-DD) of CATEGORY
    (行政处罚, 行政许可, any other 执法类别, 双随机抽查结果, 撤回 or 更正)."""
    config = current_app.config["SANXIANG"]
    try:
        day = dt.date.fromisoformat(decided_on.strip())
    except ValueError:
        refuse(f"日期“{decided_on}”无效，请写成 2026-12-28 的形式。")
    deadline = publication.due_date(config, day, category)
    days = publication.period_days(config, category)
    click.echo(f"{category}：{day}作出，{days}个工作日内公开，最迟{deadline.due}（{'暂定' if deadline.provisional else '确定'}）。")
    if deadline.provisional:
        click.echo(f"提示：{deadline.due.year}年的节假日安排尚未录入（config.yaml workdays.schedules），"
                   "暂按周一至周五计算；录入后系统自动重算。", err=True)


@click.group("publication", cls=AppGroup)
def publication_group():
    """事后公开: decisions published on time, de-identified, withdrawn in the open."""


def _row(number):
    try:
        return publication.get(number)
    except PublicationError as exc:
        refuse(exc)


def _staff(who):
    staff = publication.staff_for(who)
    if staff is None:
        refuse(f"“{who}”不在工作人员名单上。请用 python bot.py staff add 登记。")
    return staff


def _act(func, *args, **kwargs):
    try:
        return func(current_app.config["SANXIANG"], *args, **kwargs)
    except PublicationError as exc:
        refuse(exc)


@publication_group.command("list")
@click.option("--status", default=None, help="待公开、已公开、不予公开、已撤回、已到期")
@click.option("--limit", default=50, show_default=True)
def list_command(status, limit):
    """Records, soonest due first (the pending ones by default, after bringing them up to date)."""
    config = open_db()
    publication_pass(config)
    status = status or publication.PENDING
    if status not in publication.STATUSES:
        refuse(f"状态只能是{'、'.join(publication.STATUSES)}。")
    rows = (Disclosure.select().where(Disclosure.status == status).order_by(Disclosure.due_on, Disclosure.id)
            .limit(max(1, min(limit, 1000))))
    for row in rows:
        flag = "（暂定）" if row.due_provisional else ""
        click.echo(f"#{row.id}\t{row.label}\t{row.decision_no}\t{row.party}\t到期{row.due_on}{flag}\t"
                   f"{'已送达' if row.served_on else '未送达'}\t{row.status}")


@publication_group.command("show")
@click.argument("number")
def show_command(number):
    """One record: the original text beside what will be published, what was masked and why, its history."""
    open_db()
    row = _row(number)
    click.echo(f"#{row.id} {row.label} {row.decision_no}（{row.status}，到期{row.due_on}"
               f"{'，暂定' if row.due_provisional else ''}，{row.severity}）")
    click.echo(f"执法机关：{row.authority}\n执法对象：{row.party}\n执法类别：{row.category}\n执法结论：{row.conclusion}")
    click.echo("—— 原文（仅工作人员可见）——\n" + row.original)
    click.echo("—— 公开文本 ——\n" + row.masked)
    click.echo("—— 隐去内容 ——")
    for span in row.span_list():
        click.echo(f"  {span['reason']}：{span['original']} → {span['replacement']}")
    if row.keep_list():
        click.echo(f"  人工保留：{'、'.join(row.keep_list())}")
    click.echo("—— 记录 ——")
    for event in row.events():
        click.echo(f"  {event.at:%Y-%m-%d %H:%M} {event.action} {event.by} {event.reason}".rstrip())


@publication_group.command("confirm")
@click.argument("number")
@click.option("--by", "who", required=True, help=BY_HELP)
def confirm_command(number, who):
    """确认: the masked text was checked (needed when publication.policy is confirm)."""
    open_db()
    row = _act(publication.confirm, _row(number), _staff(who))
    click.echo(f"已确认第{row.id}号，送达后由系统按期公开。")


@publication_group.command("publish")
@click.argument("number")
@click.option("--by", "who", required=True, help=BY_HELP)
def publish_command(number, who):
    """Publish now (a served decision, or a pending update)."""
    open_db()
    row = _act(publication.publish_now, _row(number), _staff(who))
    click.echo(f"已公开第{row.id}号（第{row.version}版）。")


@publication_group.command("fix-mask")
@click.argument("number")
@click.option("--hide", multiple=True, help="再隐去的文字（可重复）")
@click.option("--keep", multiple=True, help="不应隐去、保留原样的文字（可重复）")
@click.option("--reason", required=True, help="更正理由（记录在案）")
@click.option("--by", "who", required=True, help=BY_HELP)
def fix_mask_command(number, hide, keep, reason, who):
    """人工更正 of the masking; on record. A published record goes out again, marked 已更新."""
    open_db()
    row = _act(publication.correct_masking, _row(number), _staff(who), keep=keep, extra=hide, reason=reason)
    click.echo("已更正。公开文本：\n" + row.masked)


@publication_group.command("withhold")
@click.argument("number")
@click.option("--reason", required=True, help="不予公开的理由，如 当事人为未成年人、涉及商业秘密")
@click.option("--by", "who", required=True, help=BY_HELP)
def withhold_command(number, reason, who):
    """不予公开, with the reason on record."""
    open_db()
    row = _act(publication.withhold, _row(number), _staff(who), reason)
    click.echo(f"第{row.id}号：{row.status}。")


@publication_group.command("withdraw")
@click.argument("number")
@click.option("--revoked-on", required=True, help="决定被变更、撤销、确认违法或无效的日期")
@click.option("--reason", required=True, help="公开说明的理由")
@click.option("--by", "who", required=True, help=BY_HELP)
def withdraw_command(number, revoked_on, reason, who):
    """撤回 (《行政处罚法》第四十八条第二款): taken down, the reason public, the history kept."""
    open_db()
    row = _act(publication.withdraw, _row(number), _staff(who), reason, revoked_on=revoked_on)
    click.echo(f"第{row.id}号已撤回，公开说明：{row.public_note}（期限{row.change_due}）")


@publication_group.command("severity")
@click.argument("number")
@click.argument("severity")
@click.option("--reason", required=True)
@click.option("--by", "who", required=True, help=BY_HELP)
def severity_command(number, severity, reason, who):
    """轻微 / 一般 / 严重: sets the display period (config publication.display_months)."""
    open_db()
    row = _act(publication.set_severity, _row(number), _staff(who), severity, reason)
    click.echo(f"第{row.id}号：{row.severity}，公示至{row.expires_on or '公开后起算'}。")


@publication_group.command("run")
def run_command():
    """One pass of the clock now: sync, recompute, publish, expire, remind, escalate."""
    config = open_db()
    report = publication_pass(config)
    click.echo("，".join(f"{k}{v}" for k, v in report.items()) if report else "另一进程正在处理，本次跳过。")
