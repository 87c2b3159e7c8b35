"""公众问答 on the command line: the questions that got no good answer, by frequency; the FAQ and the
synonym list from data/*.yaml or to and from Excel (all or nothing, bad rows named by number).

    python bot.py unanswered [--days 30]
    python bot.py answers update | export-faq F.xlsx | import-faq F.xlsx | export-synonyms F.xlsx | import-synonyms F.xlsx
"""
import datetime as dt

import click
from flask.cli import AppGroup, with_appcontext

from handlers.cli.common import exit_import_refused, open_db
from models.answers import (FAQ_COLUMNS, SYNONYM_COLUMNS, faq_export_rows, import_faq, import_synonyms,
                            synonym_export_rows, unanswered_since, update_from_yaml)
from models.catalogue import ImportRefused
from models.excel import read_rows, write_rows

REFRESH_NOTE = "各服务进程在{seconds}秒内自动使用新内容。"


@click.command("unanswered")
@with_appcontext
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 3660), help="How far back to look.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10000))
def unanswered_command(days, limit):
    """Questions the bot could not answer well in the last DAYS days, most asked first (no one's openid)."""
    open_db()
    rows = unanswered_since(days, dt.datetime.now())
    if not rows:
        click.echo(f"近{days}天没有未答好的问题。")
        return
    click.echo(f"近{days}天未答好的问题（共{len(rows)}种，按次数排列）：")
    click.echo("次数  最近一次         结果    问题　→　当时给出的最接近内容")
    for text, times, last, outcome, guess in rows[:limit]:
        click.echo(f"{times:>4}  {last:%Y-%m-%d %H:%M}  {outcome:<4}  {text}" + (f"　→　{guess}" if guess else ""))
    click.echo("补上答案：在 data/faq.yaml 加问答或在 data/synonyms.yaml 加同义词后运行 bot.py answers update"
               "（或用 Excel：answers export-faq / import-faq）。")


@click.group("answers", cls=AppGroup)
def answers_group():
    """公众问答: the FAQ and the synonym list (data/faq.yaml, data/synonyms.yaml, or Excel)."""


def refreshed(config):
    return REFRESH_NOTE.format(seconds=config["wechat"].get("search_refresh_seconds", 30))


@answers_group.command("update")
def answers_update():
    """Replace the FAQ and synonyms by data/faq.yaml and data/synonyms.yaml (both or neither)."""
    config = open_db()
    try:
        entries, terms = update_from_yaml()
    except ImportRefused as refused:
        exit_import_refused(refused)
    click.echo(f"已更新：常见问题{entries}条，同义词{terms}个。" + refreshed(config))


@answers_group.command("export-faq")
@click.argument("path", type=click.Path(dir_okay=False))
def export_faq(path):
    """Write the FAQ to an .xlsx file (edit it and import it back)."""
    open_db()
    count = write_rows(path, "常见问题", FAQ_COLUMNS, faq_export_rows(), (18, 8, 30, 30, 30, 70, 40))
    click.echo(f"已导出{count}条常见问题到 {path}")


@answers_group.command("import-faq")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_faq_command(path):
    """Replace the FAQ by an .xlsx file; nothing is written if any row is bad."""
    config = open_db()
    try:
        count = import_faq(read_rows(path, FAQ_COLUMNS, required=["key", "question", "answer", "source"]))
    except ImportRefused as refused:
        exit_import_refused(refused)
    click.echo(f"导入完成：常见问题{count}条。" + refreshed(config))


@answers_group.command("export-synonyms")
@click.argument("path", type=click.Path(dir_okay=False))
def export_synonyms(path):
    """Write the synonym list to an .xlsx file."""
    open_db()
    count = write_rows(path, "同义词", SYNONYM_COLUMNS, synonym_export_rows(), (24, 24))
    click.echo(f"已导出{count}个同义词到 {path}")


@answers_group.command("import-synonyms")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_synonyms_command(path):
    """Replace the synonym list by an .xlsx file; nothing is written if any row is bad."""
    config = open_db()
    try:
        count = import_synonyms(read_rows(path, SYNONYM_COLUMNS))
    except ImportRefused as refused:
        exit_import_refused(refused)
    click.echo(f"导入完成：同义词{count}个。" + refreshed(config))
