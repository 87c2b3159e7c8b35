"""sanxiang (三项): the WeChat bot and public pages of a county enforcement body — app and command line.

    python bot.py serve                init-db, then gunicorn on 127.0.0.1:$PORT (make run)
    python bot.py init-db              create tables, load the bureau's data into an empty database
    python bot.py menu                 install the custom menu of config.yaml through the WeChat API
    python bot.py import-items F.xlsx  replace/update the 行政执法事项清单 from Excel (all or nothing)
    python bot.py export-items F.xlsx  write the current list to Excel
    python bot.py chat [TEXT]          talk to a running server as WeChat would (signed, --encrypt)
    python bot.py badge CERT_NO        亮证: badge card with verification QR (--all DIR); also officer …,
                                       import-officers, export-officers, scans (handlers/badge_cli.py)
    python bot.py complaints …         投诉举报: staff list, accept/reject/assign/answer/close, reminders
    python bot.py case … | ledger … | verify   全过程记录: case steps, signed tree heads, the full check
"""
import logging
import os
import sys
import time
from pathlib import Path

import click
from flask import Flask

import settings
from models import create_tables, db, open_database
from models.base import is_sqlite
from models.seed import seed_if_empty


def create_app(test_config=None):
    """The Flask app: configuration, database per request, the WeChat endpoint, the public pages."""
    config = settings.load_config(overrides=(test_config or {}).get("SANXIANG"))
    settings.apply_timezone(config)
    app = Flask(__name__)
    app.config.update(
        SANXIANG=config,
        CLOCK=time.time,
        MAX_CONTENT_LENGTH=config["wechat"]["max_body_bytes"],
        JSON_AS_ASCII=False,
    )
    app.config.update({k: v for k, v in (test_config or {}).items() if k != "SANXIANG"})
    open_database(settings.resolve_database_url(config["database"]["url"]))

    @app.before_request
    def connect_db():
        db.connect(reuse_if_open=True)

    @app.teardown_appcontext
    def close_db(exc):
        # A SQLite connection stays open for the worker's next request: closing the last one
        # checkpoints and removes the WAL every time, which cost more than a whole reply (make bench).
        if not db.is_closed() and not is_sqlite():
            db.close()

    from handlers import endpoint, ledger_web, pages, verify
    from handlers import complaints_web

    endpoint.install(app)
    pages.install(app)
    verify.install(app)  # 亮证: /v/<token>, /staff/badges
    ledger_web.install(app)  # 全过程记录: /ledger/ heads feed, public key, proofs
    complaints_web.install(app)  # 投诉举报: /complaints/…, Open311 /open311/v2/…
    return app


def init_database(config):
    open_database(settings.resolve_database_url(config["database"]["url"]))
    with db.connection_context():
        create_tables()
        return seed_if_empty()


@click.group()
def cli():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings.apply_timezone(settings.load_config())


@cli.command("init-db")
def init_db_command():
    """Create tables; load the bureau's data if the database is empty."""
    seeded = init_database(settings.load_config())
    seed_demo_cases(settings.load_config())  # 全过程记录: demonstration case files (data/cases.yaml)
    click.echo("已创建数据库并载入本局公示数据。" if seeded else "数据库已就绪（已有数据，未改动）。")


@cli.command("serve")
@click.option("--workers", default=None, type=int, help="Worker processes (default: config server.workers).")
def serve_command(workers):
    """Prepare the database, then serve with gunicorn on the configured host and PORT."""
    config = settings.load_config()
    init_database(config)
    seed_demo_cases(config)  # 全过程记录: demonstration case files (data/cases.yaml)
    server = config["server"]
    bind = f"{server['host']}:{server['port']}"
    click.echo(f"服务已启动：http://{bind}/ （微信接口 /wechat），Ctrl-C 停止。")
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    os.execv(gunicorn, [gunicorn, "--workers", str(workers or server["workers"]), "--bind", bind,
                        "--access-logfile", "-", "--config", "python:notices.gunicorn_hooks",
                        "bot:create_app()"])


@cli.command("menu")
@click.option("--dry-run", is_flag=True, help="Print the menu JSON without calling WeChat.")
def menu_command(dry_run):
    """Install the custom menu defined in config.yaml."""
    from handlers import menu
    from notices.wechat_api import make_client

    config = settings.load_config()
    try:
        definition = menu.menu_definition(config)
    except menu.MenuError as exc:
        raise click.ClickException(str(exc))
    if dry_run:
        import json

        click.echo(json.dumps(definition, ensure_ascii=False, indent=2))
        return
    make_client(config).menu.create(definition)
    click.echo("菜单已提交微信。")


@cli.command("import-items")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--replace", is_flag=True, help="Also remove items that are not in the file.")
def import_items_command(path, replace):
    """Import the 行政执法事项清单 from an .xlsx file; nothing is written if any row is bad."""
    from handlers.cli_support import exit_import_refused
    from models.catalogue import ImportRefused, import_items
    from models.excel import read_item_rows

    init_database(settings.load_config())
    try:
        with db.connection_context():
            created, updated, removed = import_items(read_item_rows(path), replace=replace)
    except ImportRefused as refused:
        exit_import_refused(refused)
    click.echo(f"导入完成：新增{created}项，更新{updated}项，删除{removed}项。")


@cli.command("export-items")
@click.argument("path", type=click.Path(dir_okay=False))
def export_items_command(path):
    """Write the current 行政执法事项清单 to an .xlsx file."""
    from models.excel import write_items

    init_database(settings.load_config())
    with db.connection_context():
        count = write_items(path)
    click.echo(f"已导出{count}项到 {path}")


@cli.command("chat")
@click.argument("text", required=False)
@click.option("--url", default=None, help="Server URL (default: this config's host and port).")
@click.option("--openid", default="o_terminal_user", show_default=True, help="Who is talking.")
@click.option("--encrypt", is_flag=True, help="Send in safe (AES) mode.")
@click.option("--event", default=None, help="subscribe | unsubscribe | scan:SCENE | click:KEY")
def chat_command(text, url, openid, encrypt, event):
    """Talk to a running server as WeChat would; without TEXT or --event, an interactive session."""
    from handlers.terminal import run_chat

    sys.exit(run_chat(settings.load_config(), text=text, url=url, openid=openid, encrypt=encrypt, event=event))


# The commands of each capability live beside its code; bot.py only lists them.
from handlers.badge_cli import COMMANDS as BADGE_COMMANDS  # noqa: E402  亮证: badge, officer, scans, Excel
from handlers.complaints_cli import complaints as complaints_group  # noqa: E402  投诉举报
from handlers.ledger_cli import COMMANDS as LEDGER_COMMANDS, seed_demo_cases  # noqa: E402  全过程记录

for _command in [*BADGE_COMMANDS, *LEDGER_COMMANDS, complaints_group]:
    cli.add_command(_command)


if __name__ == "__main__":
    cli()
