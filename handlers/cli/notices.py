"""`python bot.py jobs` (what the clock will do next, what it did last, its failures) and
`python bot.py annual-report YEAR` (统计年报: page data, charts, Excel, PDF)."""
import datetime as dt

import click
from flask import current_app
from flask.cli import with_appcontext

from handlers.cli.common import open_db, refuse
from notices.annual_report import due_date, produce
from notices.clock import describe_schedule


@click.command("jobs")
@with_appcontext
def jobs_command():
    """定时任务: each scheduled job, its next run, its last run and recent failures."""
    config = open_db()
    click.echo("任务\t下次运行\t上次运行\t结果\t说明")
    failures = []
    for row in describe_schedule(config):
        last = row["last"]
        if last is None:
            done, result = "未运行过", ""
        else:
            done = f"{last.started_at:%Y-%m-%d %H:%M:%S}"
            result = "进行中" if last.finished_at is None else ("成功" + (f"（{last.result}）" if last.result else "")
                                                              if last.ok else "失败")
        click.echo(f"{row['job']}\t{row['next']:%Y-%m-%d %H:%M}\t{done}\t{result}\t{row['what']}")
        failures += [(row["job"], run) for run in row["failures"]]
    if failures:
        click.echo("\n最近的失败：")
        for job, run in failures:
            click.echo(f"{job}\t{run.started_at:%Y-%m-%d %H:%M:%S}\t{run.error.strip().splitlines()[-1][:200]}")
    else:
        click.echo("\n最近没有失败的任务。")


@click.command("annual-report")
@click.argument("year", type=int)
@with_appcontext
def annual_report_command(year):
    """统计年报 of YEAR: writes the page data, charts (PNG), Excel and PDF; prints the figures."""
    config = open_db()
    today = dt.date.today()
    if not 2000 <= year <= today.year:
        refuse(f"年份应在2000到{today.year}之间。")
    figures, folder = produce(config, year, today=today)
    click.echo(f"{year}年度行政执法统计年报（报送期限{due_date(config, year):%Y年%m月%d日}）：")
    for label, value in figures.rows():
        click.echo(f"  {label}：{value}")
    click.echo(f"文件：{folder}（统计年报.xlsx、统计年报.pdf、图表PNG）")
    click.echo(f"网页：{current_app.config['SANXIANG']['server']['public_base_url']}/reports/annual/{year}")
