"""Running the service: prepare the database (migrations, the bureau's lists, demonstration cases) and
serve with gunicorn.

    python bot.py serve [--demo]       migrate, seed when empty, then gunicorn on 127.0.0.1:$PORT (make run)
    python bot.py init-db [--demo]     the same preparation without serving

The four demonstration cases (data/cases.yaml, marked 示例) are loaded only with --demo (`make demo`, which
uses its own database, records and signing key under var/demo/), never into a bureau's real case file.
    python bot.py migrate [--list] [--new NAME]   apply pending schema migrations, list them, or write one
"""
import datetime as dt
import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

import settings
from models import migrations
from models.complaints import Complaint
from models.database import connection
from models.seed import prepare_database
from notices.wechat_standin import standin_base, wanted


def prepare_and_report(config, demo_cases=False):
    """What `serve` and `init-db` do before anything else; other commands only migrate and seed."""
    applied, seeded, demo = prepare_database(config, demo_cases=demo_cases)
    with connection():
        # Open complaints follow the rules and calendar in force: a changed rule set or a newly entered
        # holiday schedule moves their deadlines, recorded in each one's history (also daily: the clock).
        moved = Complaint.recompute_deadlines(config, dt.datetime.now())
    if moved:
        click.echo(f"已按现行办理规则重算{moved}件未办结投诉的期限（已记入办理记录）。")
    if applied:
        click.echo(f"数据库已升级：{'、'.join(applied)}。")
    if demo:
        click.echo(f"已载入{demo}个演示案件（示例）的执法全过程记录，并签发签名树头。此数据库仅供演示，不要用于正式办案。")
    return seeded


@click.command("init-db")
@with_appcontext
@click.option("--demo", is_flag=True, help="Also load the demonstration cases (a demonstration database only).")
def init_db_command(demo):
    """Apply migrations; load the bureau's data (and, with --demo, the demonstration cases) if empty."""
    seeded = prepare_and_report(current_app.config["SANXIANG"], demo_cases=demo)
    click.echo("已创建数据库并载入本局公示数据。" if seeded else "数据库已就绪（已有数据，未改动）。")


@click.command("migrate")
@with_appcontext
@click.option("--list", "list_only", is_flag=True, help="Only list the pending migrations.")
@click.option("--new", "new_name", default=None, help="Write a new migration from the models' changes.")
def migrate_command(list_only, new_name):
    """Upgrade the database in place: apply every pending migration (models/migrations/), each once."""
    with connection():
        if new_name:
            path = migrations.create(new_name)
            click.echo(f"已生成 {path}，请检查后提交。" if path else "数据库与模型一致，无需新迁移。")
            return
        pending = migrations.pending()
        if list_only:
            click.echo("待执行的迁移：" + ("、".join(pending) if pending else "无"))
            return
        applied = migrations.upgrade()
    click.echo(f"已执行迁移：{'、'.join(applied)}。" if applied else "数据库已是最新，无需迁移。")


@click.command("serve")
@with_appcontext
@click.option("--workers", default=None, type=int, help="Worker processes (default: config server.workers).")
@click.option("--demo", is_flag=True, help="Load the demonstration cases into an empty case file (make demo).")
def serve_command(workers, demo):
    """Prepare the database, then serve with gunicorn on the configured host and PORT."""
    config = current_app.config["SANXIANG"]
    prepare_and_report(config, demo_cases=demo)
    server = config["server"]
    bind = f"{server['host']}:{server['port']}"
    click.echo(f"服务已启动：http://{bind}/ （微信接口 /wechat），Ctrl-C 停止。")
    if wanted(config):
        # No official account: the workers use a local stand-in for WeChat's API (started by the master,
        # notices/gunicorn_hooks.py), so photos and voice in `bot.py chat` work on a laptop.
        settings.export_environment({"WECHAT_API_BASE": standin_base(config)})
        click.echo(f"未设置 WECHAT_SECRET：使用本机微信接口替身 {standin_base(config)}"
                   "（bot.py chat --image/--voice/--location 可发送图片、语音、位置）。")
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    os.execv(gunicorn, [gunicorn, "--workers", str(workers or server["workers"]), "--bind", bind,
                        "--access-logfile", "-", "--config", "python:notices.gunicorn_hooks",
                        "bot:create_app()"])
