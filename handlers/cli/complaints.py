"""`python bot.py complaints …` — the staff actions of the WeChat `#` commands, and the complaint jobs.

Every action names the staff member doing it (`--staff OPENID或姓名`) so the record says who.
"""
import datetime as dt

import click
from flask.cli import AppGroup

from handlers.cli.common import open_db, refuse
from handlers.cli.staff import add_staff, list_staff, remove_staff
from models.complaints import STATUSES, ComplaintError, Complaint, ComplaintEvent
from models.outbox import Outbox
from models.disclosure import Officer
from models.staff import ROLES, NotAllowed, Staff
from notices.outbox import drain_outbox
from notices.complaints import remind_deadlines


def find_staff(who):
    staff = Staff.find(who)
    if staff is None:
        raise click.ClickException(f"工作人员名单中没有“{who}”。先用 python bot.py staff add 添加。")
    return staff


def find_complaint(ticket):
    complaint = Complaint.by_ticket(ticket)
    if complaint is None:
        raise click.ClickException(f"没有编号为 {ticket} 的投诉。")
    return complaint


def act(action):
    """Run a model action; a rule's refusal becomes a clear message and exit code 1."""
    try:
        return action()
    except (ComplaintError, NotAllowed) as exc:
        refuse(exc)


staff_option = click.option("--staff", "who", required=True, help="Who acts: staff openid or name.")


@click.group("complaints", cls=AppGroup)
def complaints():
    """投诉举报: staff list, complaint handling, reminders."""


@complaints.command("staff-add")
@click.argument("openid")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@click.option("--officer", "cert_no", default=None, help="执法证号, when the staff member is an officer.")
def staff_add(openid, name, role, cert_no):
    """Same as `staff add NAME ROLE --openid OPENID` (kept for the commands already in use)."""
    add_staff(name, role, openid, cert_no)


@complaints.command("staff-remove")
@click.argument("openid")
def staff_remove(openid):
    """Same as `staff remove`."""
    remove_staff(openid)


@complaints.command("staff-list")
def staff_list():
    """Same as `staff list`."""
    list_staff()


@complaints.command("list")
@click.option("--status", type=click.Choice(STATUSES), default=None)
@click.option("--staff", "who", default=None, help="Show this staff member's to-do list instead.")
def list_command(status, who):
    """Complaints with masked contacts, soonest deadline first."""
    open_db()
    if who:
        rows = Complaint.todo(find_staff(who))
    else:
        query = Complaint.select().order_by(Complaint.created_at.desc())
        rows = list(query.where(Complaint.status == status) if status else query)
    for c in rows:
        due = c.current_due()
        click.echo(f"{c.ticket}\t{c.status}\t{c.category}\t期限{due or '-'}{'(估)' if due and c.due_is_provisional() else ''}"
                   f"\t{c.masked_contact()}\t{c.content[:30]}")


@complaints.command("show")
@click.argument("ticket")
@staff_option
@click.option("--reveal", is_flag=True, help="Show the full contact (recorded in the complaint's history).")
def show(ticket, who, reveal):
    """Details and history of one complaint."""
    open_db()
    staff, complaint = find_staff(who), find_complaint(ticket)
    act(lambda: complaint.check_may(staff, "view"))
    contact = complaint.masked_contact()
    if reveal and complaint.contact:
        act(lambda: complaint.check_may(staff, "reveal"))
        ComplaintEvent.record(complaint, dt.datetime.now(), "reveal", actor=staff.label, staff=staff)
        contact = complaint.contact
    click.echo(f"{complaint.ticket}  {complaint.category}  {complaint.status}  来源：{complaint.source}")
    if complaint.officer_id:
        click.echo(f"被投诉人：{complaint.officer_label()}")
    click.echo(f"经过：{complaint.content}\n地点：{complaint.location or '-'}"
               f"{f' ({complaint.lat},{complaint.lng})' if complaint.lat is not None else ''}")
    click.echo(f"联系方式：{contact}\n证据：{complaint.evidence.count()}件")
    click.echo(f"受理期限：{complaint.accept_due}  答复期限：{complaint.answer_due or '-'}")
    if complaint.answer:
        click.echo(f"答复：{complaint.answer}")
    for event in complaint.events():
        click.echo(f"  {event.at:%Y-%m-%d %H:%M}  {event.actor}  {event.action_name}  {event.detail}")


def _do(ticket, who, action, done):
    config = open_db()
    staff, complaint = find_staff(who), find_complaint(ticket)
    act(lambda: action(complaint, staff, dt.datetime.now(), config))
    click.echo(done(complaint))
    _drain(config)
    rows = Outbox.with_key_prefix(f"status:{complaint.ticket}:")
    if rows and rows[-1].created_at >= complaint.updated_at:  # this action told the complainant
        click.echo(f"通知投诉人：{rows[-1].describe()}")


def _drain(config):
    drain_outbox(config)


@complaints.command("accept")
@click.argument("ticket")
@staff_option
def accept(ticket, who):
    """受理."""
    _do(ticket, who, lambda c, s, now, cfg: c.accept(s, now, cfg), lambda c: f"已受理，答复期限 {c.answer_due}。")


@complaints.command("reject")
@click.argument("ticket")
@click.argument("reason")
@staff_option
def reject(ticket, reason, who):
    """不予受理, with the reason told to the complainant."""
    _do(ticket, who, lambda c, s, now, cfg: c.reject(s, now, cfg, reason), lambda c: "已不予受理。")


@complaints.command("assign")
@click.argument("ticket")
@click.argument("cert_no")
@staff_option
def assign(ticket, cert_no, who):
    """转办 to the officer holding CERT_NO (never the officer complained about)."""
    officer = None

    def action(c, s, now, cfg):
        nonlocal officer
        officer = Officer.by_cert_no(cert_no)
        return c.assign(s, now, cfg, officer)
    _do(ticket, who, action, lambda c: f"已转 {officer.name} 办理。")


@complaints.command("answer")
@click.argument("ticket")
@click.argument("text")
@staff_option
def answer(ticket, text, who):
    """答复 the complainant."""
    _do(ticket, who, lambda c, s, now, cfg: c.reply(s, now, cfg, text), lambda c: "已答复。")


@complaints.command("close")
@click.argument("ticket")
@staff_option
def close(ticket, who):
    """办结."""
    _do(ticket, who, lambda c, s, now, cfg: c.close(s, now, cfg), lambda c: "已办结。")


@complaints.command("visit")
@click.argument("ticket")
@click.argument("satisfaction")
@click.argument("note", required=False, default="")
@staff_option
def visit(ticket, satisfaction, note, who):
    """回访: record the complainant's satisfaction after a call."""
    _do(ticket, who, lambda c, s, now, cfg: c.rate(now, cfg, satisfaction, staff=s, note=note),
        lambda c: f"已记录回访：{satisfaction}。")


@complaints.command("remind")
def remind():
    """Queue 临近/超期 reminders to the responsible staff and send them."""
    config = open_db()
    queued = remind_deadlines(config)
    _drain(config)
    click.echo(f"已生成{queued}条提醒。")


@complaints.command("drain")
def drain():
    """Send queued WeChat messages now."""
    click.echo(f"已发送{drain_outbox(open_db())}条。")


@complaints.command("recompute")
def recompute():
    """Recompute open complaints' deadlines by the rules and calendar in force (after config changes)."""
    config = open_db()
    click.echo(f"已重算{Complaint.recompute_deadlines(config, dt.datetime.now())}件的期限。")
