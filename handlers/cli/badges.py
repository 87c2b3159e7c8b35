"""Staff commands for officers and their badges (亮证), registered on bot.py's command line.

    python bot.py badge CERT_NO [--out DIR]        badge card of one officer: DIR/CERT_NO.png and .pdf
    python bot.py badge --all DIR                  badge cards of every officer whose certificate is valid
    python bot.py officer list|add|status|rotate|photo|history|wechat-qr   manage officers
    python bot.py import-officers F.xlsx           add/update officers from Excel (all or nothing)
    python bot.py export-officers F.xlsx           write the roster to Excel
    python bot.py scans [--days N]                 badge scans per officer and day
"""
import datetime as dt

import click
from flask.cli import AppGroup, with_appcontext

from handlers.cli.common import exit_import_refused, open_db
from models import Bureau, Officer, db
from models.badges import (BadgeError, BadgeScan, OfficerStatusChange, badge_url, create_wechat_qr,
                           rotate_badge, set_status, uses_dev_secret)
from models.disclosure import OFFICER_STATUSES


def get_officer(cert_no):
    officer = Officer.by_cert_no(cert_no)
    if officer is None:
        raise click.ClickException(f"没有执法证号为 {cert_no} 的执法人员。可用 `python bot.py officer list` 查看。")
    return officer


def parse_day(value):
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        raise click.BadParameter(f"“{value}”不是有效日期，应如 2026-11-27")


@click.command("badge")
@with_appcontext
@click.argument("target")
@click.option("--all", "all_", is_flag=True, help="TARGET is a folder: write every valid officer's badge there.")
@click.option("--out", default=".", show_default=True, help="Folder for one officer's badge.")
@click.option("--allow-dev-secret", is_flag=True, help="Print with the development secret (test prints only).")
def badge_command(target, all_, out, allow_dev_secret):
    """Write printable badge cards (PNG at print resolution and PDF) with the verification QR."""
    from models.badge_card import FontMissing, write_badge

    config = open_db()
    if uses_dev_secret(config) and not allow_dev_secret:
        raise click.ClickException("未设置 BADGE_SECRET：用开发密钥印制的证件二维码在正式环境无法通过核验。"
                                   "请在环境变量中设置 BADGE_SECRET（如 openssl rand -hex 32 生成）后重试。")
    today = dt.date.today()
    if all_:
        officers, out = [o for o in Officer.search("") if o.verdict(today) == "有效"], target
    else:
        officers = [get_officer(target)]
        verdict = officers[0].verdict(today)
        if verdict != "有效":
            raise click.ClickException(f"{officers[0].name}的执法证{verdict}，不能印制亮证卡。")
    bureau = Bureau.current()
    try:
        for officer in officers:
            png, pdf = write_badge(officer, bureau.name, badge_url(officer, config), config, out)
            click.echo(f"{officer.name}（{officer.cert_no}）：{png}  {pdf}")
    except FontMissing as exc:
        raise click.ClickException(str(exc))
    click.echo(f"已生成{len(officers)}张亮证卡。")


@click.group("officer", cls=AppGroup)
def officer_group():
    """执法人员: list, add, change status, rotate badge, set photo, history, WeChat QR."""


@officer_group.command("list")
def officer_list():
    """Every officer with the verdict a citizen would see today."""
    open_db()
    today = dt.date.today()
    for o in Officer.search(""):
        photo = "有照片" if o.photo else "无照片"
        click.echo(f"{o.cert_no}  {o.name}  {o.verdict(today)}  {o.valid_from}~{o.valid_to}  {photo}")


@officer_group.command("add")
@click.option("--name", required=True)
@click.option("--cert-no", required=True, help="执法证号")
@click.option("--issuer", default="内蒙古自治区人民政府", show_default=True, help="发证机关")
@click.option("--fields", required=True, help="执法领域, joined with 、")
@click.option("--valid-from", required=True, help="YYYY-MM-DD")
@click.option("--valid-to", required=True, help="YYYY-MM-DD")
@click.option("--photo", type=click.Path(exists=True, dir_okay=False), default=None)
def officer_add(name, cert_no, issuer, fields, valid_from, valid_to, photo):
    """Add an officer (status 有效)."""
    from models.officers import add_officer, set_photo

    config = open_db()
    try:
        with db.atomic():
            officer = add_officer(name=name.strip(), cert_no=cert_no.strip(), issuer=issuer.strip(),
                                  fields=fields.strip(), valid_from=valid_from, valid_to=valid_to)
            if photo:
                set_photo(officer, photo, config)
    except BadgeError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"已添加执法人员 {officer.name}（{officer.cert_no}）。")


@officer_group.command("status")
@click.argument("cert_no")
@click.argument("status", type=click.Choice(OFFICER_STATUSES))
@click.option("--reason", required=True, help="变更原因")
@click.option("--by", "who", required=True, help="经办人或决定机关")
@click.option("--on", "on", default=None, help="变更日期 YYYY-MM-DD (default today)")
def officer_status(cert_no, status, reason, who, on):
    """Set a certificate's status (有效/暂扣/注销) with reason; it shows on the next scan."""
    open_db()
    officer = get_officer(cert_no)
    previous = officer.status
    try:
        set_status(officer, status, reason, who, parse_day(on))
    except BadgeError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"{officer.name}（{officer.cert_no}）：{previous} → {status}。扫码核验即时生效。")


@officer_group.command("rotate")
@click.argument("cert_no")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def officer_rotate(cert_no, yes):
    """Give the officer a new badge token: every badge printed before shows 无效二维码."""
    open_db()
    officer = get_officer(cert_no)
    if not yes:
        click.confirm(f"作废{officer.name}已印制的所有亮证卡？", abort=True)
    rotate_badge(officer)
    click.echo(f"已作废{officer.name}的旧亮证卡。请用 `python bot.py badge {officer.cert_no}` 重新印制。")


@officer_group.command("photo")
@click.argument("cert_no")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def officer_photo(cert_no, path):
    """Set the officer's photo (JPG or PNG) shown on the badge and the verification page."""
    from models.officers import set_photo

    config = open_db()
    officer = get_officer(cert_no)
    try:
        set_photo(officer, path, config)
    except BadgeError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"已更新{officer.name}的照片。")


@officer_group.command("history")
@click.argument("cert_no")
def officer_history(cert_no):
    """The certificate's status changes with reasons, dates and who made them."""
    open_db()
    officer = get_officer(cert_no)
    changes = OfficerStatusChange.history(officer)
    click.echo(f"{officer.name}（{officer.cert_no}）当前状态：{officer.status}")
    for c in changes:
        click.echo(f"  {c.changed_on}  {c.from_status} → {c.to_status}  原因：{c.reason}  经办：{c.changed_by}")
    if not changes:
        click.echo("  （无变更记录）")


@officer_group.command("wechat-qr")
@click.argument("cert_no", required=False)
@click.option("--all", "all_", is_flag=True, help="Every officer whose certificate is valid.")
@click.option("--out", default=".", show_default=True, help="Folder for the QR images.")
def officer_wechat_qr(cert_no, all_, out):
    """Create WeChat permanent parametric QRs (QR_LIMIT_STR_SCENE) and write them as PNG."""
    from wechatpy.exceptions import WeChatClientException

    from models.badge_card import write_wechat_qr
    from notices.wechat_api import make_client

    if not cert_no and not all_:
        raise click.UsageError("请给出执法证号，或使用 --all。")
    config = open_db()
    client = make_client(config)
    today = dt.date.today()
    officers = ([o for o in Officer.search("") if o.verdict(today) == "有效"] if all_
                else [get_officer(cert_no)])
    for officer in officers:
        try:
            qr = create_wechat_qr(officer, config, client)
        except (WeChatClientException, BadgeError) as exc:
            raise click.ClickException(f"{officer.name}的微信二维码未能生成：{exc}")
        path = write_wechat_qr(officer, qr.url, config, out)
        click.echo(f"{officer.name}（{officer.cert_no}）：场景 {qr.scene}  {path}")


@click.command("import-officers")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_officers_command(path):
    """Add/update officers from an .xlsx file; nothing is written if any row is bad."""
    from models.catalogue import ImportRefused
    from models.officers import import_officers, read_officer_rows

    open_db()
    try:
        created, updated, changes = import_officers(read_officer_rows(path))
    except ImportRefused as refused:
        exit_import_refused(refused)
    click.echo(f"导入完成：新增{created}人，更新{updated}人，其中状态变更{changes}人。")


@click.command("export-officers")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False))
def export_officers_command(path):
    """Write the roster of officers to an .xlsx file (a template for import-officers)."""
    from models.officers import write_officers

    open_db()
    count = write_officers(path)
    click.echo(f"已导出{count}名执法人员到 {path}")


@click.command("scans")
@with_appcontext
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 3660))
def scans_command(days):
    """Badge scans per officer and day (who scanned is never recorded)."""
    open_db()
    today = dt.date.today()
    rows = BadgeScan.report(today - dt.timedelta(days=days - 1), today)
    if not rows:
        click.echo(f"近{days}天没有扫码记录。")
    for row in rows:
        click.echo(f"{row.day}  {row.officer.cert_no}  {row.officer.name}  {row.channel}  {row.scans}次")


COMMANDS = [badge_command, officer_group, import_officers_command, export_officers_command, scans_command]
