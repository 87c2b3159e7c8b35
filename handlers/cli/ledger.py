"""The case-file log on the command line (全过程记录): the full check, signed tree heads, proofs.

    python bot.py verify [--since] [--heads FILE] [--pubkey PEM] [--no-files]
    python bot.py ledger keygen | sign | heads | proof SEQ [-o FILE] | add-cosignature FILE | triggers
"""
import datetime as dt
import json
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from handlers.cli.common import open_db as _config
from models import cases, checkpoint, ledger, treehead
from models.audit import Problem, load_checkpoint, save_checkpoint, verify_log, verify_since
from models.evidence import EvidenceStore
from notices.ledger import RefusedToSign, publish_tree_head


@click.command("verify")
@with_appcontext
@click.option("--heads", "head_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A copy of the heads feed kept elsewhere (repeatable).")
@click.option("--pubkey", type=click.Path(exists=True, dir_okay=False), help="The bureau's public key (PEM).")
@click.option("--no-files", is_flag=True, help="Skip rehashing the evidence files.")
@click.option("--since", is_flag=True,
              help="Check only what was appended (entries, heads, files) since this command's last clean run.")
def verify_command(head_files, pubkey, no_files, since):
    """Recompute the whole log, check it against every published head; exit 1 naming the first bad entry.

    With --since, start from the checkpoint the last clean run left (its size, root and right edge)
    and rehash only the later entries; without one, or when heads it did not see appeared below it,
    or entries are missing, the full check runs. Every clean run writes a new checkpoint."""
    config = _config()
    key = treehead.load_public_key(config, pubkey)
    store = None if no_files else EvidenceStore.from_config(config)
    heads = treehead.published_heads(config, head_files)
    checkpoint_file = treehead.checkpoint_path(config)
    report = None
    if since:
        checkpoint = load_checkpoint(checkpoint_file)
        report = verify_since(checkpoint, heads, key, store)
        if report is None:
            click.echo("无法从上次核验处接着核验（没有核验记录、记录有缺失或出现了新的旧树头），改为完整核验。")
        else:
            click.echo(f"自上次核验（第{checkpoint['size']}条）以来新增{report.entries - checkpoint['size']}条记录，逐条复核。")
    if report is None:
        report = verify_log(heads, key, store)
        # The case limits kept beside the log (#待办, reminders) against the files — once the files can be read
        # as recorded (the rules need the configuration, which the log check does not). Named without an
        # entry number: the log itself is sound, a table beside it is not.
        if report.ok:
            report.problems += [Problem(None, message) for message in cases.limit_problems(config)]
    if report.ok:
        save_checkpoint(checkpoint_file, report, heads)
    click.echo(f"共{report.entries}条记录，核对已发布树头{report.heads_checked}个，复核文件{report.files_checked}个；"
               f"根哈希 {report.root}")
    _say_cosigned(config, heads, key)
    if report.ok:
        click.echo("核验通过：记录与已发布的签名树头一致，没有发现改动。")
        return
    first = report.first_bad_entry()
    click.echo(f"核验失败：{'第%d条记录起' % first if first is not None else ''}发现以下问题：", err=True)
    for problem in report.problems:
        click.echo(f"  - {problem.message}", err=True)
    sys.exit(1)


def _say_cosigned(config, heads, key):
    """Whether the newest checkpoint is cosigned by the supervisor, and how old that cosignature is."""
    latest, found = treehead.cosignature_status(config, heads, key, time.time())
    if latest is None:
        click.echo("尚无 C2SP 检查点（本版本之前签发的树头只有旧格式签名，仍可核验）。")
        return
    if not found:
        click.echo(f"最新检查点（{latest.size}条）尚未经监督机关联署：请监督机关运行 python bot.py witness cosign。")
        return
    limit = config["ledger"].get("cosignature_max_age_hours", 48) * 3600
    for name, stamp, age in found:
        when = dt.datetime.fromtimestamp(stamp, ledger.CHINA_TZ).strftime("%Y-%m-%d %H:%M")
        stale = "，已超过时限，请联系监督机关" if age > limit else ""
        click.echo(f"最新检查点（{latest.size}条）已由监督机关 {name} 联署：{when}，距今{age // 3600}小时{stale}。")


@click.group("ledger", cls=AppGroup)
def ledger_group():
    """Signed tree heads and proofs."""


@ledger_group.command("keygen")
@click.option("--path", default=None, help="Where to write the private key (default: ledger.private_key_path).")
def keygen_command(path):
    """Make the Ed25519 signing key (once); print the public key to publish."""
    config = current_app.config["SANXIANG"]
    target = treehead.resolve(path or config["ledger"]["private_key_path"])
    if target.exists():
        raise click.ClickException(f"{target} 已存在，不覆盖。")
    key = treehead.generate_key(target)
    click.echo(f"私钥已写入 {target}（请离线备份，切勿放入数据库或代码库）。公钥：")
    click.echo(treehead.public_key_pem(key.public_key()).decode())


@ledger_group.command("sign")
def sign_command():
    """Verify, then sign and publish a tree head now (the daily job does the same)."""
    config = _config()
    try:
        head = publish_tree_head(config)
    except RefusedToSign as exc:
        raise click.ClickException(f"未签发：记录核验失败：{exc}")
    click.echo(f"已签发树头：{head.size}条，根哈希 {head.root}，{head.timestamp}")


@ledger_group.command("add-cosignature")
@click.argument("note_file", type=click.Path(exists=True, dir_okay=False))
def add_cosignature_command(note_file):
    """Publish the supervisor's cosignature: the checkpoint file `witness cosign` returned."""
    config = _config()
    try:
        names = treehead.add_cosignatures(config, Path(note_file).read_text(encoding="utf-8"))
    except (checkpoint.NoteError, UnicodeDecodeError) as exc:
        raise click.ClickException(str(exc))
    click.echo(f"已保存并公布 {'、'.join(names)} 的联署（/ledger/checkpoint）。")


@ledger_group.command("triggers")
def triggers_command():
    """Reinstall the append-only triggers (after `verify` named one missing or altered)."""
    _config()
    from models import ledger

    ledger.install_append_only_triggers()
    click.echo("已重新安装防删改触发器。请保留 verify 的报告，查明是谁删除或改动了它们。")


@ledger_group.command("heads")
def heads_command():
    """Print the heads feed."""
    config = _config()
    click.echo(treehead.feed_text(config, treehead.load_public_key(config)), nl=False)


@ledger_group.command("proof")
@click.argument("seq", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
def proof_command(seq, output):
    """Inclusion proof of entry SEQ against the newest head that covers it."""
    config = _config()
    document = treehead.inclusion_proof_document(config, seq)
    if document is None:
        raise click.ClickException(f"第{seq}条记录不存在或尚未纳入已发布的树头（先运行 ledger sign）。")
    text = json.dumps(document, ensure_ascii=False, indent=1)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"已写入 {output}")
    else:
        click.echo(text)
