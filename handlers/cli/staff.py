"""`python bot.py staff …` — the staff list every area's acts are checked against (models/staff.py).

    python bot.py staff add 姓名 角色 [--openid OPENID] [--officer 证号]
    python bot.py staff list
    python bot.py staff remove OPENID或姓名
    python bot.py staff roles          what each role may do
"""
import click
from flask.cli import AppGroup

from handlers.cli.common import open_db, refuse
from models.disclosure import Officer
from models.staff import ACTS, ROLES, NotAllowed, Staff


def add_staff(name, role, openid=None, cert_no=None):
    open_db()
    officer = Officer.by_cert_no(cert_no) if cert_no else None
    if cert_no and officer is None:
        raise click.ClickException(f"没有证号为 {cert_no} 的执法人员。")
    try:
        staff = Staff.add(openid, name, role, officer)
    except NotAllowed as exc:
        refuse(exc)
    click.echo(f"已登记：{staff.label}" + (f"（执法证 {officer.cert_no}）" if officer else "")
               + ("" if staff.openid else "。尚未关联微信，关联后才能在公众号里用 # 指令。"))


def remove_staff(who):
    open_db()
    count = Staff.update(active=False).where((Staff.openid == who) | (Staff.name == who)).execute()
    click.echo("已停用。" if count else f"名单中没有“{who}”。")


def list_staff():
    open_db()
    for staff in Staff.select().order_by(Staff.role, Staff.name):
        state = "" if staff.active else "（已停用）"
        cert = f" 证号{staff.officer.cert_no}" if staff.officer_id else ""
        click.echo(f"{staff.role}\t{staff.name}{cert}\t{staff.openid or '（未关联微信）'}{state}")


@click.group("staff", cls=AppGroup)
def staff_group():
    """工作人员: who may act for the bureau, in which role."""


@staff_group.command("add")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@click.option("--openid", default=None, help="WeChat openid, for # commands and notices (may be added later).")
@click.option("--officer", "cert_no", default=None, help="执法证号, when the member of staff is an officer.")
def staff_add(name, role, openid, cert_no):
    """Add a member of staff, or update the one with this openid."""
    add_staff(name, role, openid, cert_no)


@staff_group.command("qualify")
@click.argument("name")
@click.argument("qualification")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="从事法制审核的起始日期")
def staff_qualify(name, qualification, since):
    """Register a 法制审核员's 法律职业资格 (《行政处罚法》第五十八条第二款)."""
    open_db()
    staff = Staff.find(name)
    if staff is None:
        refuse(f"名单中没有“{name}”。")
    try:
        staff.qualify(qualification, since.date() if since else None)
    except NotAllowed as exc:
        refuse(exc)
    click.echo(f"已登记：{staff.label} 法律职业资格 {qualification}")


@staff_group.command("list")
def staff_list():
    list_staff()


@staff_group.command("remove")
@click.argument("who")
def staff_remove(who):
    """Deactivate a member of staff (by openid or name); their records keep their name."""
    remove_staff(who)


@staff_group.command("roles")
def staff_roles():
    """What each role may do (models/staff.py ACTS)."""
    for role in ROLES:
        acts = [act.name for act in ACTS.values() if role in act.roles]
        click.echo(f"{role}：{'、'.join(acts)}")
    own = sorted({f"{act.own_label}：{act.name}" for act in ACTS.values() if act.own and not act.recuse_own})
    recused = sorted({f"{act.own_label}须回避：{act.name}" for act in ACTS.values() if act.recuse_own})
    click.echo("另外，不论角色：\n  " + "\n  ".join(own + recused))
