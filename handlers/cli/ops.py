"""Running the service in production (deploy/, README "Deployment"): the clock as its own process,
backups and restores.

    python bot.py clock                      the schedule (reminders, pushes, signed heads, heartbeat), foreground
    python bot.py backup DIR                 database + evidence files + published heads into a new folder DIR
    python bot.py restore DIR [--replace]    put a backup back, then run the full `verify`
"""
import datetime as dt
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from models import treehead
from models.audit import verify_log
from models.backup import BackupError, make_backup, read_backup, restore_backup
from models.database import connection
from models.evidence import EvidenceStore
from models.seed import prepare_database
from notices.clock import start_clock


@click.command("clock")
@with_appcontext
def clock_command():
    """Run the clock in the foreground until stopped (systemd: deploy/systemd/sanxiang-clock.service).

    Run exactly one clock per installation; `bot.py serve` runs its own, the production web server
    (deploy/gunicorn.conf.py) does not."""
    config = current_app.config["SANXIANG"]
    prepare_database(config)
    click.echo("定时任务已启动（期限提醒、消息补发、每日签发树头、心跳），Ctrl-C 停止。")
    try:
        start_clock(config, blocking=True)
    except (KeyboardInterrupt, SystemExit):
        pass


def describe(manifest):
    summary = manifest["summary"]
    head = summary.get("last_head")
    head_text = f"最新树头{head['size']}条（{head['timestamp']}）" if head else "尚无签名树头"
    counts = manifest.get("file_counts", {})
    return (f"备份时间 {manifest['created']}；{manifest['database']['backend']} 数据库；"
            f"执法记录{summary['ledger_entries']}条，{head_text}；投诉{summary['complaints']}件；"
            f"音像文书文件{counts.get('records', 0)}个，投诉证据{counts.get('complaint-evidence', 0)}个，"
            f"照片{counts.get('photos', 0)}张。")


@click.command("backup")
@with_appcontext
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def backup_command(directory):
    """Back up the database, the evidence files and the published heads into the new folder DIRECTORY."""
    config = current_app.config["SANXIANG"]
    try:
        with connection():
            manifest = make_backup(config, directory)
    except BackupError as exc:
        click.echo(f"备份失败：{exc}", err=True)
        sys.exit(1)
    click.echo(f"已备份到 {directory}：{describe(manifest)}")
    click.echo("签名私钥（LEDGER_KEY_PATH）不在备份中，请另行离线保存。")


@click.command("restore")
@with_appcontext
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Replace a database that has data (it is backed up first).")
@click.option("--check", "check_only", is_flag=True, help="Only check the backup's files; change nothing.")
def restore_command(directory, replace, check_only):
    """Restore the backup in DIRECTORY (stop the web and clock services first), then verify everything."""
    config = current_app.config["SANXIANG"]
    try:
        if check_only:
            click.echo(f"备份完整：{describe(read_backup(directory))}")
            return
        safety = directory.resolve().parent / f"before-restore-{dt.datetime.now():%Y%m%d-%H%M%S}"
        with connection():
            manifest = restore_backup(config, directory, replace=replace, safety_dir=safety)
    except BackupError as exc:
        click.echo(f"恢复失败：{exc}", err=True)
        sys.exit(1)
    if replace and safety.exists():
        click.echo(f"替换前的数据已备份到 {safety}")
    click.echo(f"已恢复：{describe(manifest)}")
    prepare_database(config)  # a backup from an older version gets this version's migrations
    with connection():
        try:
            key = treehead.load_public_key(config, directory / "pubkey.pem" if (directory / "pubkey.pem").exists() else None)
        except FileNotFoundError as exc:
            click.echo(f"无法核验：{exc}", err=True)
            sys.exit(1)
        report = verify_log(treehead.published_heads(config), key, EvidenceStore.from_config(config))
    if not report.ok:
        click.echo("恢复后核验失败：", err=True)
        for problem in report.problems:
            click.echo(f"  - {problem.message}", err=True)
        sys.exit(1)
    click.echo(f"核验通过：{report.entries}条记录、{report.heads_checked}个树头、{report.files_checked}个文件与备份一致。")
    try:
        treehead.load_private_key(config, create=False)
    except FileNotFoundError:
        click.echo("注意：本机没有签名私钥，无法签发新的树头。请把离线保存的私钥放回 LEDGER_KEY_PATH 所指位置。", err=True)


# The name for the same process (事后公开 runs on it too): `bot.py scheduler` = `bot.py clock`.
scheduler_command = click.Command("scheduler", callback=clock_command.callback,
                                  help="The same as `clock`: run the schedule in the foreground until stopped.")
