"""事前公开 on the command line: the 行政执法事项清单 to and from Excel (all or nothing), and the
justice bureau's 合法性审核 of each published list.

    python bot.py import-items F.xlsx [--replace]
    python bot.py export-items F.xlsx
    python bot.py lists status | review LIST --date … --number … --staff … | update
"""
import datetime as dt

import click
from flask.cli import AppGroup, with_appcontext

from handlers.cli.common import exit_import_refused, open_db, refuse
from models.catalogue import ImportRefused, import_items
from models.disclosure import PUBLISHED_LISTS, ListReview
from models.excel import read_item_rows, write_items
from models.seed import update_lists
from models.staff import NotAllowed, Staff, authorize


@click.command("import-items")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--replace", is_flag=True, help="Also remove items that are not in the file.")
def import_items_command(path, replace):
    """Import the 行政执法事项清单 from an .xlsx file; nothing is written if any row is bad."""
    open_db()
    try:
        created, updated, removed = import_items(read_item_rows(path), replace=replace)
    except ImportRefused as refused:
        exit_import_refused(refused)
    click.echo(f"导入完成：新增{created}项，更新{updated}项，删除{removed}项。")


@click.command("export-items")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False))
def export_items_command(path):
    """Write the current 行政执法事项清单 to an .xlsx file."""
    open_db()
    count = write_items(path)
    click.echo(f"已导出{count}项到 {path}")


@click.group("lists", cls=AppGroup)
def lists_group():
    """事前公开: 合法性审核 of the published lists, and updating them from data/bureau.yaml."""


def review_line(list_name):
    review, changed = ListReview.status(list_name)
    if review is None:
        return f"{list_name}：尚未录入合法性审核"
    line = f"{list_name}：{review.reviewer} {review.document_no}（{review.reviewed_on}），{review.entered_by}录入"
    return line + ("；此后清单有改动，尚待审核" if changed else "")


@lists_group.command("status")
def lists_status():
    """When each list was last reviewed, by whom, and whether it changed since."""
    open_db()
    for name in PUBLISHED_LISTS:
        click.echo(review_line(name))


@lists_group.command("review")
@click.argument("list_name", type=click.Choice(list(PUBLISHED_LISTS)))
@click.option("--date", "reviewed_on", required=True, help="审核日期 YYYY-MM-DD")
@click.option("--number", "document_no", required=True, help="审核文号，如 奈司审〔2026〕12号")
@click.option("--reviewer", default="奈曼旗司法局", show_default=True, help="审核机关")
@click.option("--staff", "who", required=True, help="录入人（工作人员姓名或 openid，须为负责人）")
def lists_review(list_name, reviewed_on, document_no, reviewer, who):
    """Record that LIST, as it is now, passed the justice bureau's 合法性审核."""
    open_db()
    try:
        day = dt.date.fromisoformat(reviewed_on)
    except ValueError:
        raise click.BadParameter(f"“{reviewed_on}”不是有效日期，应如 2026-11-20") from None
    staff = Staff.find(who)
    try:
        authorize(staff, "lists.review")
        ListReview.record(list_name, reviewed_on=day, document_no=document_no, reviewer=reviewer,
                          entered_by=staff.label)
    except (NotAllowed, ValueError) as exc:
        refuse(exc)
    click.echo("已录入：" + review_line(list_name))


@lists_group.command("update")
def lists_update():
    """Bring the items, inspections and flows of this database to data/bureau.yaml (all or nothing)."""
    open_db()
    try:
        created, updated, inspections, steps = update_lists()
    except ImportRefused as refused:
        exit_import_refused(refused)
    click.echo(f"已更新：执法事项新增{created}项、更新{updated}项；随机抽查事项{inspections}项；执法流程{steps}步。"
               "请报司法局审核后用 lists review 录入。")
