"""`python bot.py outbox` — every message the bureau sends through WeChat: what waits, what went, what
failed (and why), and a retry by hand. The same rows staff see in `#待办` (models/outbox.py)."""
import datetime as dt

import click
from flask.cli import AppGroup, with_appcontext

from handlers.cli.common import open_db, refuse
from models.outbox import CHANNEL_NAMES, FAILED, PENDING, SENT, Outbox
from notices.outbox import drain_outbox

STATUSES = {"pending": PENDING, "sent": SENT, "failed": FAILED}


def row_line(row):
    to = f"群发{len(row.recipients)}人" if row.kind == "mass" else row.openid
    text = row.text.replace("\n", " ")
    return (f"{row.id}\t{row.status}\t{row.created_at:%Y-%m-%d %H:%M}\t{row.key[:40]}\t{to}\t"
            f"{CHANNEL_NAMES.get(row.channel, row.channel) or '-'}\t试{row.attempts}次\t"
            f"{text[:30]}{'…' if len(text) > 30 else ''}\t{row.describe()}")


@click.group("outbox", cls=AppGroup, invoke_without_command=True)
@click.option("--status", type=click.Choice(sorted(STATUSES)), default=None, help="Only these.")
@click.option("--limit", default=30, show_default=True)
@click.pass_context
@with_appcontext
def outbox_group(ctx, status, limit):
    """消息发送: pending, sent and failed messages (newest first); `outbox retry ID`, `outbox send`."""
    if ctx.invoked_subcommand is not None:
        return
    open_db()
    counts = Outbox.counts()
    click.echo(f"待发送{counts[PENDING]}条，已发送{counts[SENT]}条，发送失败{counts[FAILED]}条。")
    wanted = [STATUSES[status]] if status else [FAILED, PENDING, SENT]
    for name in wanted:
        rows = Outbox.listing(name, limit)
        if rows:
            click.echo(f"\n{name}（最近{len(rows)}条）：")
            for row in rows:
                click.echo(row_line(row))
    if counts[FAILED] and not status:
        click.echo("\n重发：python bot.py outbox retry 编号（或 --all-failed）")


@outbox_group.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="Every failed message.")
def retry_command(ids, all_failed):
    """Queue failed messages again (a fresh retry period) and send them now."""
    config = open_db()
    rows = Outbox.failed(limit=100000) if all_failed else [Outbox.get_or_none(Outbox.id == i) for i in ids]
    if not rows:
        refuse("请给出要重发的编号（python bot.py outbox --status failed 可查），或用 --all-failed。")
    now = dt.datetime.now()
    for number, row in zip(ids or [r.id for r in rows], rows):
        if row is None or row.status != FAILED:
            refuse(f"第{number}条不是发送失败的消息，未重发任何一条。")
    for row in rows:
        row.retry(now, config)
    sent = drain_outbox(config)
    click.echo(f"已重新排队{len(rows)}条，本次发出{sent}条；其余将按重试计划继续发送。")


@outbox_group.command("send")
def send_command():
    """Send what is due now (the clock does this every minute)."""
    click.echo(f"已发送{drain_outbox(open_db())}条。")
