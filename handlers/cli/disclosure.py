"""事前公开 on the command line: the 行政执法事项清单 to and from Excel (all or nothing).

    python bot.py import-items F.xlsx [--replace]
    python bot.py export-items F.xlsx
"""
import click
from flask.cli import with_appcontext

from handlers.cli.common import exit_import_refused, open_db
from models.catalogue import ImportRefused, import_items
from models.excel import read_item_rows, write_items


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
